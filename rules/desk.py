"""The credit controller's desk, pure: promises to pay and payment plans, judged on a day.

A **promise** is one instalment: an amount by a date. A **plan** is several instalments (equal
ones from a count, an amount, a first date and an interval, or an explicit schedule). Both cover
items, whose dunning is paused while the agreement runs (:mod:`rules.engine` step 1).

:func:`judge` decides, from the payments made towards the covered items since the agreement, what
happens on ``today``:

* payments are **allocated to instalments in order** (oldest due first), cumulatively;
* when everything agreed is paid (or nothing is left open on the items) the agreement is **kept**
  (a promise) or **completed** (a plan), on the day of the payment that covered it;
* when an instalment is not covered by the end of its grace (due date + grace days) it is
  **broken** on the day after, and dunning resumes on what is left (the rules file names the step
  to resume at, ``profiles.<name>.broken_promise_step``);
* otherwise it stays **active**, and an instalment that falls due within ``remind_days_before``
  days is **to remind**.

Costs on a plan: a plan never adds costs of its own. The only costs it may carry are the
statutory collection costs and interest already owed on the covered items at the time of the
agreement (docs/reference/legal-and-kpi.md §3: WIK staffel, BE Book XIX caps), which the person
enters as ``costs``; they are part of the schedule's total, never added on top of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Protocol

from connector.errors import ConfigError

CENT = Decimal("0.01")


class AgreementState(StrEnum):
    ACTIVE = "active"
    KEPT = "kept"  # a promise paid in time
    COMPLETED = "completed"  # a plan paid in full
    BROKEN = "broken"
    CANCELLED = "cancelled"


FINAL = frozenset({AgreementState.KEPT, AgreementState.COMPLETED, AgreementState.BROKEN, AgreementState.CANCELLED})


@dataclass(frozen=True, slots=True)
class Instalment:
    due: date
    amount: Decimal


class Due(Protocol):
    """An amount due on a day (an :class:`Instalment`, or the store's row of one)."""

    @property
    def due(self) -> date: ...
    @property
    def amount(self) -> Decimal: ...


def add_interval(day: date, months: int = 0, days: int = 0) -> date:
    """``day`` plus whole months (clamped to the month's last day) and days."""
    if months:
        month0 = day.month - 1 + months
        year, month = day.year + month0 // 12, month0 % 12 + 1
        last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
        day = day.replace(year=year, month=month, day=min(day.day, last))
    return day + timedelta(days=days)


def equal_instalments(total: Decimal, count: int, first: date, *, months: int = 1, days: int = 0) -> tuple[Instalment, ...]:
    """``count`` instalments of the total, a cent-exact split (the last one takes the remainder)."""
    if count < 1:
        raise ConfigError("a plan has at least one instalment")
    if total <= 0:
        raise ConfigError("a plan covers a positive amount")
    if months < 0 or days < 0 or (months == 0 and days == 0 and count > 1):
        raise ConfigError("the interval between instalments must be positive")
    share = (total / count).quantize(CENT, rounding=ROUND_DOWN)
    out = [Instalment(add_interval(first, months * i, days * i), share) for i in range(count - 1)]
    out.append(Instalment(add_interval(first, months * (count - 1), days * (count - 1)), total - share * (count - 1)))
    return tuple(out)


def explicit_schedule(rows: Iterable[tuple[date, Decimal]]) -> tuple[Instalment, ...]:
    """A schedule a person wrote out: due dates strictly increasing, amounts positive."""
    out = tuple(Instalment(due, amount) for due, amount in rows)
    if not out:
        raise ConfigError("a schedule has at least one instalment")
    for earlier, later in pairwise(out):
        if later.due <= earlier.due:
            raise ConfigError(f"instalment dates must increase: {later.due.isoformat()} after {earlier.due.isoformat()}")
    if any(i.amount <= 0 for i in out):
        raise ConfigError("every instalment is a positive amount")
    return out


@dataclass(frozen=True, slots=True)
class Verdict:
    state: AgreementState
    #: the day the state was reached (kept/completed: the covering payment; broken: the day after
    #: the grace of the missed instalment)
    on: date | None
    paid: Decimal
    #: per instalment, how much of it is paid (allocation in order)
    allocated: tuple[Decimal, ...]
    #: index of the instalment that was missed (broken) or that is next (active)
    instalment: int | None
    #: active: the instalments to remind about today (index), not yet paid
    to_remind: tuple[int, ...] = ()


def judge(
    schedule: Sequence[Due],
    payments: Iterable[tuple[date, Decimal]],
    *,
    today: date,
    grace_days: int,
    open_left: Decimal | None = None,
    remind_days_before: int | None = None,
    is_plan: bool = False,
) -> Verdict:
    """What an agreement is on ``today`` (see the module docstring). ``payments`` are the dated
    amounts paid towards the covered items since the agreement; ``open_left`` what is still open on
    them (``0``: everything was paid or credited, whatever the payments say)."""
    ordered = sorted(((d, a) for d, a in payments if a > 0), key=lambda p: p[0])
    paid = sum((a for _, a in ordered), Decimal(0))
    total = sum((i.amount for i in schedule), Decimal(0))
    allocated = _allocate(schedule, paid)
    done_state = AgreementState.COMPLETED if is_plan else AgreementState.KEPT
    grace = timedelta(days=grace_days)
    # Walk the instalments in order: each must be covered (cumulatively) by its due date + grace.
    needed = Decimal(0)
    for index, instalment in enumerate(schedule):
        needed += instalment.amount
        deadline = instalment.due + grace
        covered_on = _covered_on(ordered, needed)
        if covered_on is not None and covered_on <= deadline:
            continue
        if open_left is not None and open_left <= 0:
            break  # nothing left to pay: settled (e.g. by a credit note), whatever the payments say
        if today > deadline:
            return Verdict(AgreementState.BROKEN, deadline + timedelta(days=1), paid, allocated, index)
        remind: tuple[int, ...] = ()
        if remind_days_before is not None:
            remind = tuple(
                i for i, later in enumerate(schedule)
                if i >= index and allocated[i] < later.amount and later.due - timedelta(days=remind_days_before) <= today <= later.due
            )
        return Verdict(AgreementState.ACTIVE, None, paid, allocated, index, remind)
    covered = _covered_on(ordered, total)
    on = covered if covered is not None else today
    return Verdict(done_state, on, paid, allocated, None)


def _covered_on(ordered: Sequence[tuple[date, Decimal]], needed: Decimal) -> date | None:
    running = Decimal(0)
    for day, amount in ordered:
        running += amount
        if running >= needed:
            return day
    return None


def _allocate(schedule: Sequence[Due], paid: Decimal) -> tuple[Decimal, ...]:
    out: list[Decimal] = []
    left = paid
    for instalment in schedule:
        share = min(left, instalment.amount)
        out.append(share)
        left -= share
    return tuple(out)
