"""Promises to pay and payment plans, judged on a day (rules/desk.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.errors import ConfigError
from rules.desk import AgreementState, Instalment, equal_instalments, explicit_schedule, judge

D = Decimal
PROMISE = (Instalment(date(2026, 3, 10), D("500.00")),)


def test_a_promise_paid_by_its_date_is_kept_on_the_day_of_the_payment() -> None:
    verdict = judge(PROMISE, [(date(2026, 3, 4), D("200")), (date(2026, 3, 9), D("300"))], today=date(2026, 3, 20), grace_days=3)
    assert (verdict.state, verdict.on, verdict.paid) == (AgreementState.KEPT, date(2026, 3, 9), D(500))


def test_a_promise_short_after_its_grace_is_broken_on_the_day_after_the_grace() -> None:
    payments = [(date(2026, 3, 9), D("499.99"))]
    assert judge(PROMISE, payments, today=date(2026, 3, 13), grace_days=3).state == AgreementState.ACTIVE
    verdict = judge(PROMISE, payments, today=date(2026, 3, 14), grace_days=3)
    assert (verdict.state, verdict.on, verdict.instalment) == (AgreementState.BROKEN, date(2026, 3, 14), 0)


def test_a_payment_within_the_grace_keeps_the_promise() -> None:
    verdict = judge(PROMISE, [(date(2026, 3, 12), D("500"))], today=date(2026, 3, 30), grace_days=3)
    assert verdict.state == AgreementState.KEPT


def test_nothing_left_open_settles_a_promise_whatever_the_payments_say() -> None:
    verdict = judge(PROMISE, [], today=date(2026, 3, 30), grace_days=0, open_left=D(0))
    assert verdict.state == AgreementState.KEPT


def test_equal_instalments_split_to_the_cent_and_step_by_month_end_safely() -> None:
    plan = equal_instalments(D("1000.00"), 3, date(2026, 1, 31), months=1)
    assert [(i.due, i.amount) for i in plan] == [
        (date(2026, 1, 31), D("333.33")), (date(2026, 2, 28), D("333.33")), (date(2026, 3, 31), D("333.34")),
    ]
    weekly = equal_instalments(D("100"), 2, date(2026, 1, 1), months=0, days=7)
    assert [i.due for i in weekly] == [date(2026, 1, 1), date(2026, 1, 8)]


def test_a_schedule_must_be_in_date_order_and_positive() -> None:
    with pytest.raises(ConfigError, match="must increase"):
        explicit_schedule([(date(2026, 2, 1), D(10)), (date(2026, 1, 1), D(10))])
    with pytest.raises(ConfigError, match="positive"):
        explicit_schedule([(date(2026, 2, 1), D(0))])


def test_payments_are_allocated_to_instalments_in_order_and_a_missed_one_breaks_the_plan() -> None:
    plan = equal_instalments(D("900"), 3, date(2026, 1, 15), months=1)
    payments = [(date(2026, 1, 14), D("300")), (date(2026, 2, 20), D("100"))]
    # The second instalment (15 Feb) is 200 short when its 5-day grace ends on 20 Feb.
    active = judge(plan, payments, today=date(2026, 2, 20), grace_days=5, is_plan=True)
    assert active.state == AgreementState.ACTIVE and active.allocated == (D(300), D(100), D(0))
    broken = judge(plan, payments, today=date(2026, 2, 21), grace_days=5, is_plan=True)
    assert (broken.state, broken.on, broken.instalment) == (AgreementState.BROKEN, date(2026, 2, 21), 1)


def test_a_plan_paid_in_full_is_completed() -> None:
    plan = equal_instalments(D("200"), 2, date(2026, 1, 15), months=1)
    verdict = judge(plan, [(date(2026, 1, 15), D(100)), (date(2026, 2, 10), D(100))], today=date(2026, 3, 1), grace_days=0,
                    is_plan=True)
    assert (verdict.state, verdict.on) == (AgreementState.COMPLETED, date(2026, 2, 10))


def test_an_instalment_is_reminded_in_the_days_before_it_falls_due_unless_paid() -> None:
    plan = equal_instalments(D("200"), 2, date(2026, 1, 15), months=1)
    assert judge(plan, [], today=date(2026, 1, 11), grace_days=0, remind_days_before=3).to_remind == ()
    assert judge(plan, [], today=date(2026, 1, 12), grace_days=0, remind_days_before=3).to_remind == (0,)
    paid_first = [(date(2026, 1, 10), D(100))]
    assert judge(plan, paid_first, today=date(2026, 2, 13), grace_days=0, remind_days_before=3).to_remind == (1,)
