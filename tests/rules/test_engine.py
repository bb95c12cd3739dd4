"""The engine, one rule per test: small rules, a few items, a run date, the expected plan.

Calendar used below (2026): Thu 1 Jan is New Year's Day; Mon 5, Mon 12, Mon 19 Jan are Mondays;
Sat 10 / Sun 11 Jan a weekend.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connector.errors import ConfigError
from connector.model import ActionKind, DebtorKind, ItemKind, ItemStatus, Money, OpenItem, PlannedAction
from rules.engine import idempotency_key, plan
from tests.rules.builders import CID, debtor, item, journal_step, rules, snapshot

LADDER = """
segments:
  - name: all
    default: true
    profile: p
profiles:
  p:
    tolerance: 5
    min_days_between_messages: 0
    steps:
      - {name: s1, after_days: 1, action: reminder, template: reminder, term_days: 7}
      - {name: s2, after_days: 14, action: formal_notice, template: formal_notice, costs: statutory}
      - {name: s3, after_days: 7, from: previous_step, action: call_task, channel: phone}
"""
R = rules(LADDER)


def steps(actions: list[PlannedAction]) -> list[tuple[str, str | None, tuple[str, ...]]]:
    return [(a.debtor_source_id, a.step, a.item_source_ids) for a in actions]


# --------------------------------------------------------------------------- the ladder


@pytest.mark.parametrize(
    ("due", "run", "expected"),
    [
        (date(2026, 1, 5), date(2026, 1, 5), []),  # due today: s1 falls due the day after
        (date(2026, 1, 5), date(2026, 1, 6), ["s1"]),  # one day after the due date
        (date(2025, 10, 1), date(2026, 1, 6), ["s1"]),  # months late, first run: still s1, never s2
    ],
)
def test_the_first_step_falls_due_after_days_after_the_due_date(due: date, run: date, expected: list[str]) -> None:
    actions = plan(snapshot([debtor()], [item("I1", "100", due)]), R, run)
    assert [a.step for a in actions] == expected


def test_the_next_step_comes_only_after_the_previous_one() -> None:
    history = [journal_step(("I1",), "s1", date(2026, 1, 6))]
    # s2 is due 14 days after the due date (5 Jan → 19 Jan); s3 7 days after s2 was reached.
    assert steps(plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))], history), R, date(2026, 1, 16))) == []
    assert steps(plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))], history), R, date(2026, 1, 19))) == [
        ("D1", "s2", ("I1",))
    ]
    history.append(journal_step(("I1",), "s2", date(2026, 1, 19), kind=ActionKind.FORMAL_NOTICE))
    assert steps(plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))], history), R, date(2026, 1, 23))) == []
    assert steps(plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))], history), R, date(2026, 1, 26))) == [
        ("D1", "s3", ("I1",))
    ]


def test_a_failed_or_pending_step_is_planned_again_with_the_same_key() -> None:
    first = plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))]), R, date(2026, 1, 6))
    for state in ("failed", "pending"):
        later = plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))], [(first[0], state)]), R, date(2026, 1, 7))
        assert [a.idempotency_key for a in later] == [first[0].idempotency_key]
        assert later[0].step == "s1"


def test_the_idempotency_key_is_the_same_on_a_later_day_and_differs_for_other_items() -> None:
    items = [item("I1", "100", date(2026, 1, 5)), item("I2", "50", date(2026, 1, 5))]
    monday = plan(snapshot([debtor()], items), R, date(2026, 1, 6))[0]
    tuesday = plan(snapshot([debtor()], items), R, date(2026, 1, 7))[0]
    assert monday.idempotency_key == tuesday.idempotency_key
    assert monday.idempotency_key == idempotency_key(CID, "D1", "p", "s1", "I1,I2")
    only_one = plan(snapshot([debtor()], items[:1]), R, date(2026, 1, 6))[0]
    assert only_one.idempotency_key != monday.idempotency_key


@pytest.mark.parametrize(
    ("anchor", "after", "invoice", "due", "quiet_day", "first_day"),
    [
        # invoice 5 Jan + 5 = Sat 10 Jan: sent on the next business day, Mon 12 Jan
        ("invoice_date", 5, date(2026, 1, 5), date(2026, 2, 4), date(2026, 1, 9), date(2026, 1, 12)),
        # a call 3 days before the due date (Thu 22 Jan): Mon 19 Jan
        ("due_date", -3, date(2026, 1, 5), date(2026, 1, 22), date(2026, 1, 16), date(2026, 1, 19)),
        # end of the due date's month (31 Jan) + 2 = Mon 2 Feb
        ("end_of_month", 2, date(2026, 1, 5), date(2026, 1, 20), date(2026, 1, 30), date(2026, 2, 2)),
    ],
)
def test_step_anchors(anchor: str, after: int, invoice: date, due: date, quiet_day: date, first_day: date) -> None:
    r = rules(LADDER.replace("{name: s1, after_days: 1,", f"{{name: s1, after_days: {after}, from: {anchor},"))
    snap = snapshot([debtor()], [item("I1", "100", due, invoice_date=invoice)])
    assert plan(snap, r, quiet_day) == []
    assert [a.step for a in plan(snap, r, first_day)] == ["s1"]


def test_a_run_date_before_the_last_run_is_refused() -> None:
    history = [journal_step(("I1",), "s1", date(2026, 1, 12))]
    with pytest.raises(ConfigError, match=r"run date 2026-01-09 is before the last run \(2026-01-12\)"):
        plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))], history), R, date(2026, 1, 9))


# --------------------------------------------------------------------------- pauses, netting, grouping


@pytest.mark.parametrize(
    ("paused", "extra"),
    [
        (item("I1", "100", date(2026, 1, 5), status=ItemStatus.DISPUTED), {}),
        (item("I1", "100", date(2026, 1, 5)), {"disputed_items": ["I1"]}),
        (item("I1", "100", date(2026, 1, 5)), {"items_under_plan": ["I1"]}),
        (item("I1", "100", date(2026, 1, 5), in_direct_debit=True), {}),
    ],
    ids=["disputed-in-package", "disputed-in-arconnect", "payment-plan-or-promise", "direct-debit"],
)
def test_paused_items_are_left_alone(paused: OpenItem, extra: dict[str, Any]) -> None:
    actions = plan(snapshot([debtor()], [paused, item("I2", "70", date(2026, 1, 5))], **extra), R, date(2026, 1, 6))
    assert steps(actions) == [("D1", "s1", ("I2",))]


def test_all_due_items_of_a_debtor_at_one_step_are_one_message() -> None:
    items = [item("I1", "100", date(2026, 1, 2)), item("I2", "40.50", date(2026, 1, 5)), item("I3", "10", date(2026, 1, 5), debtor_id="D2")]
    actions = plan(snapshot([debtor(), debtor("D2")], items), R, date(2026, 1, 6))
    assert steps(actions) == [("D1", "s1", ("I1", "I2")), ("D2", "s1", ("I3",))]
    assert actions[0].amount == Money.of("140.50", "EUR")


@pytest.mark.parametrize(
    ("credit", "expected"),
    [
        ("-30", [("D1", "s1", ("I1",), "70.00")]),  # 100 - 30 = 70 is sent
        ("-95", []),  # 100 - 95 = 5: not above the tolerance of 5
        ("-150", []),  # more credit than debt: nothing to remind
    ],
)
def test_credit_notes_are_netted_before_anyone_is_reminded(credit: str, expected: list[tuple[str, str, tuple[str, ...], str]]) -> None:
    items = [item("I1", "100", date(2026, 1, 5)), item("C1", credit, date(2026, 1, 5), kind=ItemKind.CREDIT_NOTE)]
    actions = plan(snapshot([debtor()], items), R, date(2026, 1, 6))
    assert [(a.debtor_source_id, a.step, a.item_source_ids, f"{a.amount.amount:.2f}") for a in actions if a.amount] == expected


def test_unapplied_payments_are_netted_too() -> None:
    items = [item("I1", "100", date(2026, 1, 5)), item("P1", "-60", date(2026, 1, 2), kind=ItemKind.UNAPPLIED_PAYMENT)]
    [action] = plan(snapshot([debtor()], items), R, date(2026, 1, 6))
    assert action.amount == Money.of("40.00", "EUR")
    assert json.loads(action.details["credits"]) == ["P1"]
    assert "after netting EUR 60.00 of credits" in action.reason


# --------------------------------------------------------------------------- calendar and spacing


@pytest.mark.parametrize(
    ("run", "sent"),
    [
        (date(2026, 1, 9), True),  # Friday
        (date(2026, 1, 10), False),  # Saturday: waits
        (date(2026, 1, 11), False),  # Sunday: waits
        (date(2026, 1, 12), True),  # Monday
    ],
)
def test_messages_go_out_on_business_days_only(run: date, sent: bool) -> None:
    actions = plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))]), R, run)
    assert bool(actions) is sent


def test_a_due_date_on_a_holiday_rolls_to_the_next_business_day() -> None:
    # Due on New Year's Day (Thu 1 Jan 2026): the term ends Fri 2 Jan, so s1 (1 day after) is Sat 3 → Mon 5.
    snap = snapshot([debtor()], [item("I1", "100", date(2026, 1, 1))])
    assert plan(snap, R, date(2026, 1, 2)) == []
    assert [a.step for a in plan(snap, R, date(2026, 1, 5))] == ["s1"]


def test_min_days_between_messages() -> None:
    r = rules(LADDER.replace("min_days_between_messages: 0", "min_days_between_messages: 7"))
    # I2 (another invoice) is due now; the debtor got a message about I1 on 6 Jan.
    history = [journal_step(("I1",), "s1", date(2026, 1, 6))]
    items = [item("I1", "100", date(2026, 1, 5)), item("I2", "80", date(2026, 1, 8))]
    assert plan(snapshot([debtor()], items, history), r, date(2026, 1, 12)) == []
    # One letter per debtor: I2 reaches s1 and the overdue I1 (its s2 not yet due) is listed with it.
    [letter] = plan(snapshot([debtor()], items, history), r, date(2026, 1, 13))
    assert steps([letter]) == [("D1", "s1", ("I1", "I2"))]
    assert json.loads(letter.details["item_steps"]) == {"I1": "", "I2": "p/s1"}


# --------------------------------------------------------------------------- segments


SEGMENTED = """
segments:
  - name: big
    when: {item_amount: {gte: 50000}}
    profile: calls
  - name: late-payers
    when: {all: [{kind: business}, {avg_days_late: {gt: 20}}]}
    profile: strict
  - name: not-vip
    when: {not: {tags: {any: [vip]}}}
    profile: p
  - name: rest
    default: true
    profile: soft
profiles:
  calls:
    steps: [{name: c1, after_days: 5, from: invoice_date, action: call_task, channel: phone}]
  strict:
    steps: [{name: x1, after_days: 0, action: reminder, template: reminder}]
  p:
    steps: [{name: s1, after_days: 1, action: reminder, template: reminder}]
  soft:
    steps: [{name: v1, after_days: 10, action: reminder, template: reminder}]
"""


def test_segments_first_match_wins() -> None:
    from connector.model import Payment

    r = rules(SEGMENTED)
    debtors = [debtor("D1"), debtor("D2", tags=("vip",)), debtor("D3")]
    items = [
        item("I1", "60000", date(2026, 1, 30), invoice_date=date(2025, 12, 31)),  # big → call 5 days after invoicing
        item("I2", "100", date(2026, 1, 5)),  # D1: not vip → p
        item("I3", "100", date(2025, 12, 20), debtor_id="D2"),  # vip → soft (10 days after due)
        item("I4", "100", date(2026, 1, 12), debtor_id="D3"),  # D3 pays 30 days late → strict, due today
    ]
    # D3 paid an invoice due 1 Nov on 1 Dec: 30 days late on average.
    paid = item("I9", "100", date(2025, 11, 1), debtor_id="D3", status=ItemStatus.PAID)
    payment = Payment(connection_id=CID, source_id="P9", debtor_source_id="D3", item_source_ids=("I9",), paid_on=date(2025, 12, 1), amount=Money.of("100", "EUR"))
    snap = snapshot(debtors, items, payments=[payment], closed_items=[paid])
    assert snap.debtors["D3"].avg_days_late == Decimal("30.0")
    actions = plan(snap, r, date(2026, 1, 12))
    assert [(a.debtor_source_id, a.details["segment"], a.step) for a in actions] == [
        ("D1", "not-vip", "s1"),  # a reminder sorts before a call task of the same debtor
        ("D1", "big", "c1"),
        ("D2", "rest", "v1"),
        ("D3", "late-payers", "x1"),
    ]


# --------------------------------------------------------------------------- letter facts


def test_letter_details_carry_what_the_letter_needs() -> None:
    [action] = plan(snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))]), R, date(2026, 1, 6))
    assert action.kind is ActionKind.REMINDER and action.channel == "email" and action.template == "reminder"
    assert action.language == "nl"
    assert action.details["segment"] == "all" and action.details["profile"] == "p"
    # e-mail on Tue 6 Jan, assumed received Wed 7 Jan (rules.costs.assumed_receipt, NL e-mail: the day after);
    # pay by 7 days after receipt: Wed 14 Jan.
    assert action.details["assumed_receipt"] == "2026-01-07"
    assert action.details["pay_by"] == "2026-01-14"
    assert action.details["payment_reference"].startswith("RF")
    assert json.loads(action.details["items"]) == [
        {"source_id": "I1", "document_number": "1", "invoice_date": "2026-01-05", "due_date": "2026-01-05",
         "open": "100", "currency": "EUR", "days_overdue": 1}
    ]
    assert action.costs is None and action.details["costs_explanation"] == ""


# --------------------------------------------------------------------------- costs


def test_business_costs_are_the_bik_scale_on_the_letters_principal() -> None:
    history = [journal_step(("I1", "I2"), "s1", date(2026, 1, 6))]
    items = [item("I1", "600", date(2026, 1, 5)), item("I2", "400", date(2026, 1, 5))]
    [action] = plan(snapshot([debtor()], items, history), R, date(2026, 1, 19))
    # BIK: 15 % of the first EUR 2,500 of the combined principal EUR 1,000 = EUR 150.00.
    assert action.step == "s2" and action.costs == Money.of("150.00", "EUR")


CONSUMERS = """
segments:
  - name: all
    default: true
    profile: p
profiles:
  p:
    min_days_between_messages: 0
    steps:
      - {name: wik, after_days: 1, action: formal_notice, channel: letter, template: formal_notice, consumer_letter: true, costs: statutory}
      - {name: s2, after_days: 1, from: previous_step, action: notice_of_default, channel: letter, template: notice_of_default, costs: statutory}
"""


def test_the_nl_14_day_letter_announces_the_costs_and_charges_none() -> None:
    [action] = plan(snapshot([debtor(kind=DebtorKind.CONSUMER)], [item("I1", "1000", date(2026, 1, 2))]), rules(CONSUMERS), date(2026, 1, 5))
    assert action.step == "wik" and action.costs is None
    # Posted Mon 5 Jan: received the 2nd delivery day, Wed 7 Jan; 14 days from Thu 8 to Wed 21 Jan.
    assert action.details["assumed_receipt"] == "2026-01-07"
    assert action.details["pay_by"] == "2026-01-21"
    assert action.details["costs_from"] == "2026-01-22"
    assert action.details["costs_announced"] == "150.00"  # BIK 15 % of EUR 1,000


@pytest.mark.parametrize(
    ("kind", "run", "costs", "flags"),
    [
        (DebtorKind.CONSUMER, date(2026, 1, 21), None, "costs_not_yet_allowed"),  # last day of the 14-day term
        (DebtorKind.CONSUMER, date(2026, 1, 22), "40.00", None),  # BIK 15 % of 100 = 15, minimum EUR 40
        (DebtorKind.UNKNOWN, date(2026, 1, 21), None, "costs_not_yet_allowed,unknown_kind"),
        (DebtorKind.UNKNOWN, date(2026, 1, 22), "40.00", "unknown_kind"),
        (DebtorKind.BUSINESS, date(2026, 1, 21), "40.00", None),  # businesses owe costs without that letter
    ],
)
def test_no_nl_consumer_pays_costs_before_the_14_day_term(kind: DebtorKind, run: date, costs: str | None, flags: str | None) -> None:
    history = [journal_step(("I1",), "wik", date(2026, 1, 5), kind=ActionKind.FORMAL_NOTICE, channel="letter")]
    [action] = plan(snapshot([debtor(kind=kind)], [item("I1", "100", date(2026, 1, 2))], history), rules(CONSUMERS), run)
    assert action.step == "s2"
    assert (None if action.costs is None else f"{action.costs.amount:.2f}") == costs
    assert action.details.get("flags") == flags


BE_CREDITOR = """
creditor:
  name: Test BV
  kbo_number: "0123.456.749"
  iban: BE68539007547034
  country: BE
"""


def test_be_consumers_get_the_first_reminder_free() -> None:
    r = rules(CONSUMERS.replace("channel: letter", "channel: email").replace("template: formal_notice", "template: first_reminder"), creditor=BE_CREDITOR)
    consumer = debtor(kind=DebtorKind.CONSUMER)
    first = plan(snapshot([consumer], [item("I1", "100", date(2026, 1, 2))], country="BE"), r, date(2026, 1, 5))
    assert [(a.step, a.costs) for a in first] == [("wik", None)]
    history = [journal_step(("I1",), "wik", date(2026, 1, 5), kind=ActionKind.FORMAL_NOTICE, channel="email")]
    # E-mail sent Mon 5 Jan: the 14 days run from Tue 6 to Mon 19 Jan; damages from Tue 20 Jan.
    early = plan(snapshot([consumer], [item("I1", "100", date(2026, 1, 2))], history, country="BE"), r, date(2026, 1, 19))
    assert [(a.step, a.costs) for a in early] == [("s2", None)]
    late = plan(snapshot([consumer], [item("I1", "100", date(2026, 1, 2))], history, country="BE"), r, date(2026, 1, 20))
    # Book XIX: damages EUR 20 (balance up to EUR 150); no reminder fee on an ordinary debt (issue 10 point 4).
    assert [(a.step, a.costs) for a in late] == [("s2", Money.of("20.00", "EUR"))]
    assert late[0].details["payment_reference"].startswith("+++")


def test_interest_is_added_when_the_step_asks_for_it() -> None:
    r = rules(LADDER.replace("costs: statutory}", "costs: statutory, interest: true}"))
    history = [journal_step(("I1",), "s1", date(2026, 1, 6))]
    [action] = plan(snapshot([debtor()], [item("I1", "36500", date(2026, 1, 5))], history), r, date(2026, 1, 19))
    # Commercial interest (business) 10.15 % from 1 Jan 2026 (rules/data), 6 Jan–19 Jan = 14 days:
    # 36,500 × 10.15 % × 14 / 365 = 142.10.
    assert action.interest == Money.of("142.10", "EUR")
    assert action.details["interest_explanation"].splitlines()[0] == "1: EUR 142.10"  # per document number


# --------------------------------------------------------------------------- who sends reminders


def test_when_the_package_sends_reminders_no_dunning_is_planned() -> None:
    snap = snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))], reminders_sent_by="package")
    assert plan(snap, R, date(2026, 1, 6)) == []


# --------------------------------------------------------------------------- credit limits


CREDIT = LADDER + """
credit_limits:
  - name: fixed
    when: {kind: consumer}
    limit: 1000
    buckets: [overdue_after_margin, disputed]
    overdue_margin_days: 10
    unblock_below_percent: 80
    write_limit: true
  - name: package
    limit: from_package
"""


def credit_only(actions: list[PlannedAction]) -> list[tuple[str, ActionKind, str]]:
    kinds = (ActionKind.BLOCK, ActionKind.UNBLOCK, ActionKind.SET_CREDIT_LIMIT)
    return [(a.debtor_source_id, a.kind, a.reason) for a in actions if a.kind in kinds]


def test_a_debtor_above_its_limit_is_blocked_with_bucket_and_excess() -> None:
    consumer = debtor(kind=DebtorKind.CONSUMER, credit_limit=Money.of("1000", "EUR"))
    items = [
        item("I1", "900", date(2026, 1, 1)),  # 14 days overdue on 15 Jan: counts
        item("I2", "300", date(2026, 1, 10)),  # 5 days overdue: within the margin, does not count
        item("I3", "250", date(2026, 1, 14), status=ItemStatus.DISPUTED),  # disputed: counts
    ]
    actions = plan(snapshot([consumer], items), rules(CREDIT), date(2026, 1, 15))
    assert credit_only(actions) == [
        ("D1", ActionKind.BLOCK, "exposure EUR 1150.00 (policy fixed, overdue more than 10 days + disputed) is above "
         "the credit limit EUR 1000.00 by EUR 150.00"),
    ]


@pytest.mark.parametrize(
    ("open_amount", "by_us", "expected"),
    [
        ("850", True, []),  # below the limit but above 80 % of it: stays blocked (hysteresis)
        ("790", True, [ActionKind.UNBLOCK]),  # below 80 % of 1000: our block is lifted
        ("790", False, []),  # the bookkeeper's block is never lifted
    ],
)
def test_unblock_only_our_blocks_below_the_hysteresis(open_amount: str, by_us: bool, expected: list[ActionKind]) -> None:
    consumer = debtor(kind=DebtorKind.CONSUMER, blocked=True, credit_limit=Money.of("1000", "EUR"))
    snap = snapshot([consumer], [item("I1", open_amount, date(2025, 12, 1))], blocks_by_us=["D1"] if by_us else [])
    actions = plan(snap, rules(CREDIT), date(2026, 1, 15))
    assert [a.kind for a in actions if a.kind in (ActionKind.BLOCK, ActionKind.UNBLOCK)] == expected


def test_a_fixed_limit_is_written_but_a_package_limit_never() -> None:
    consumer = debtor("D1", kind=DebtorKind.CONSUMER, credit_limit=Money.of("500", "EUR"))
    business = debtor("D2", credit_limit=Money.of("500", "EUR"))
    snap = snapshot([consumer, business], [item("I1", "600", date(2026, 1, 14), debtor_id="D2")])
    actions = plan(snap, rules(CREDIT), date(2026, 1, 15))
    assert credit_only(actions) == [
        ("D1", ActionKind.SET_CREDIT_LIMIT, "policy fixed sets the credit limit to EUR 1000.00 (package has EUR 500.00)"),
        ("D2", ActionKind.BLOCK, "exposure EUR 600.00 (policy package, open) is above the credit limit EUR 500.00 by EUR 100.00"),
    ]
    [limit] = [a for a in actions if a.kind is ActionKind.SET_CREDIT_LIMIT]
    assert limit.credit_limit == Money.of("1000", "EUR")


def test_a_block_already_in_place_is_not_planned_again() -> None:
    business = debtor(blocked=True, credit_limit=Money.of("500", "EUR"))
    assert credit_only(plan(snapshot([business], [item("I1", "600", date(2026, 1, 14))]), rules(CREDIT), date(2026, 1, 15))) == []


def test_our_block_is_not_planned_again_when_the_snapshot_predates_it() -> None:
    # apply without a sync in between: the store still shows the debtor unblocked, but the block is ours
    business = debtor(blocked=False, credit_limit=Money.of("500", "EUR"))
    snap = snapshot([business], [item("I1", "600", date(2026, 1, 14))], blocks_by_us=["D1"])
    assert credit_only(plan(snap, rules(CREDIT), date(2026, 1, 15))) == []


def test_the_plan_is_sorted_and_repeatable() -> None:
    debtors = [debtor(f"D{n}") for n in (3, 1, 2)]
    items = [item(f"I{n}", "100", date(2026, 1, 5), debtor_id=f"D{n}") for n in (2, 3, 1)]
    first = plan(snapshot(debtors, items), R, date(2026, 1, 6))
    again = plan(snapshot(list(reversed(debtors)), list(reversed(items))), R, date(2026, 1, 6))
    assert first == again
    assert [a.debtor_source_id for a in first] == ["D1", "D2", "D3"]


def test_two_segments_sharing_a_profile_still_send_one_message_per_step() -> None:
    r = rules(LADDER.replace("segments:\n", "segments:\n  - name: big\n    when: {item_amount: {gte: 1000}}\n    profile: p\n"))
    items = [item("I1", "5000", date(2026, 1, 5)), item("I2", "100", date(2026, 1, 5))]
    [action] = plan(snapshot([debtor()], items), r, date(2026, 1, 6))
    assert (action.item_source_ids, action.details["segment"]) == (("I1", "I2"), "all,big")


def test_a_credit_covers_the_oldest_debt_once_and_is_not_reused() -> None:
    history = [journal_step(("I1",), "s1", date(2025, 12, 2))]
    items = [
        item("I1", "100", date(2025, 12, 1)),  # at s2 (formal notice): fully covered by the credit note
        item("I2", "50", date(2026, 1, 5)),  # at s1: the credit is used up, so it is reminded
        item("C1", "-100", date(2026, 1, 1), kind=ItemKind.CREDIT_NOTE),
    ]
    actions = plan(snapshot([debtor()], items, history), R, date(2026, 1, 6))
    # one letter for the debtor (I1 at s2, I2 at s1): 150 less the credit of 100 = 50
    assert [(a.step, a.item_source_ids, a.amount) for a in actions] == [("s2", ("I1", "I2"), Money.of("50", "EUR"))]
    assert actions[0].details["netted"] == "100.00"


BLOCKING = """
segments:
  - {name: all, default: true, profile: p}
profiles:
  p:
    steps:
      - {name: s1, after_days: 1, action: reminder, template: reminder}
      - {name: stop, after_days: 30, action: block, channel: none}
credit_limits:
  - {name: all, limit: 1000, unblock_below_percent: 90}
"""


def test_our_block_from_a_dunning_step_is_kept_while_its_item_is_open() -> None:
    blocked = debtor(blocked=True)
    history = [journal_step(("I1",), "s1", date(2025, 11, 2)), journal_step(("I1",), "stop", date(2025, 12, 1), kind=ActionKind.BLOCK)]
    # Exposure EUR 100 is far below 90 % of the limit, but I1 (even while disputed) holds the block.
    for status in (ItemStatus.OPEN, ItemStatus.DISPUTED):
        snap = snapshot([blocked], [item("I1", "100", date(2025, 11, 1), status=status)], history, blocks_by_us=["D1"])
        assert plan(snap, rules(BLOCKING), date(2026, 1, 6)) == []
    # Once I1 is paid (no longer open), arconnect lifts its own block.
    snap = snapshot([blocked], [], history, blocks_by_us=["D1"])
    assert [a.kind for a in plan(snap, rules(BLOCKING), date(2026, 1, 6))] == [ActionKind.UNBLOCK]


def test_item_facts_are_valid_json_whatever_the_document_number() -> None:
    odd = item("I1", "100", date(2026, 1, 5)).model_copy(update={"document_number": 'F"2026\\01 ü'})
    [action] = plan(snapshot([debtor()], [odd]), R, date(2026, 1, 6))
    assert json.loads(action.details["items"])[0]["document_number"] == 'F"2026\\01 ü'


def source_reminder_actions(actions: list[PlannedAction]) -> list[tuple[ActionKind, tuple[str, ...]]]:
    kinds = (ActionKind.PAUSE_SOURCE_REMINDERS, ActionKind.RESUME_SOURCE_REMINDERS)
    return [(a.kind, a.item_source_ids) for a in actions if a.kind in kinds]


def test_the_packages_own_reminders_are_paused_on_every_open_invoice_arconnect_dunns() -> None:
    items = [
        item("I1", "100", date(2026, 1, 5)),
        item("I2", "200", date(2026, 2, 5)),  # not due yet: still arconnect's to dun, so paused too
        item("I3", "-50", date(2026, 1, 1), kind=ItemKind.CREDIT_NOTE),  # nothing to remind of
    ]
    snap = snapshot([debtor()], items, pauses_source_reminders=True)
    assert source_reminder_actions(plan(snap, R, date(2026, 1, 6))) == [(ActionKind.PAUSE_SOURCE_REMINDERS, ("I1", "I2"))]


def test_paused_invoices_are_not_paused_again_and_a_new_invoice_is() -> None:
    paused = journal_step(("I1",), "", date(2026, 1, 6), kind=ActionKind.PAUSE_SOURCE_REMINDERS)
    items = [item("I1", "100", date(2026, 1, 5)), item("I2", "200", date(2026, 2, 5))]
    snap = snapshot([debtor()], items, [paused], pauses_source_reminders=True)
    assert source_reminder_actions(plan(snap, R, date(2026, 1, 7))) == [(ActionKind.PAUSE_SOURCE_REMINDERS, ("I2",))]


def test_when_the_package_takes_reminding_back_only_what_arconnect_paused_resumes() -> None:
    paused = journal_step(("I1",), "", date(2026, 1, 6), kind=ActionKind.PAUSE_SOURCE_REMINDERS)
    items = [item("I1", "100", date(2026, 1, 5)), item("I2", "200", date(2026, 1, 5))]
    snap = snapshot([debtor()], items, [paused], pauses_source_reminders=True, reminders_sent_by="package")
    assert source_reminder_actions(plan(snap, R, date(2026, 1, 7))) == [(ActionKind.RESUME_SOURCE_REMINDERS, ("I1",))]
    resumed = journal_step(("I1",), "", date(2026, 1, 7), kind=ActionKind.RESUME_SOURCE_REMINDERS)
    again = snapshot([debtor()], items, [paused, resumed], pauses_source_reminders=True, reminders_sent_by="package")
    assert source_reminder_actions(plan(again, R, date(2026, 1, 8))) == []


def test_a_package_that_cannot_pause_its_reminders_gets_no_pause_actions() -> None:
    snap = snapshot([debtor()], [item("I1", "100", date(2026, 1, 5))])
    assert source_reminder_actions(plan(snap, R, date(2026, 1, 6))) == []
