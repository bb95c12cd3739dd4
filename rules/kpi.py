"""Collection KPIs, pure: from dated facts (invoices and their settlements) and, where the store
kept one, the receivables position of a day. Definitions: docs/reference/legal-and-kpi.md §4.

Everything is per currency (amounts in different currencies are never added) and additive per
administration: :class:`Ledger` sums what :func:`ledger` finds for one administration, so a firm's
figures are the ratios of the summed ledgers, never an average of ratios.

* **Position** on a day: the open amount of every invoice and credit note on that day (the
  original amount less its settlements dated on or before it), split into the aging buckets by
  days past the due date (current = not yet past due; 1–30, 31–60, 61–90, 90+).
* **Credit sales** of a period: invoices dated in it, less credit notes dated in it.
* **Simple DSO** = ending AR / credit sales × days in period.
* **Countback DSO** (:func:`countback_days`): ending AR less each month's credit sales, newest month
  first, adding that month's days, and the fraction of the month where the AR runs out. When the
  history runs out first, the days counted so far are a lower bound (``dso_countback_capped``).
* **Best possible DSO**: the same countback on the current (not yet due) AR; **ADD** = countback
  DSO − best possible DSO (same method and period).
* **CEI** = (beginning AR + sales/N − ending AR) / (beginning AR + sales/N − ending current AR)
  × 100, N = months in the period.
* **Average days to pay** and **days beyond terms**: amount-weighted over the payments of the
  period, (payment date − invoice date) and (payment date − due date, early counts as 0, as the
  planner's ``avg_days_late``).
* **% overdue** = (ending AR − ending current AR) / ending AR × 100; **write-off share** = written
  off in the period / credit sales × 100.

Unapplied payments are not receivables and are left out (Upflow's rule, §4).
"""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, Protocol

from connector.errors import ConfigError

ZERO = Decimal(0)
TENTH = Decimal("0.1")
BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
Unit = Literal["month", "quarter"]
How = Literal["paid", "written_off", "credited"]


class SettlementLike(Protocol):
    """What a settlement is to the formulas (the store's rows are one)."""

    @property
    def day(self) -> date: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def how(self) -> str: ...


class FactLike(Protocol):
    """What an invoice or credit note is to the formulas (the store's rows are one)."""

    @property
    def currency(self) -> str: ...
    @property
    def invoice_date(self) -> date: ...
    @property
    def due_date(self) -> date: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def settlements(self) -> Sequence[SettlementLike]: ...
    @property
    def kind(self) -> str: ...
    @property
    def debtor(self) -> str: ...


def open_on(fact: FactLike, day: date) -> Decimal:
    """What was open on ``fact`` at the end of ``day``."""
    if day < fact.invoice_date:
        return ZERO
    return fact.amount - sum((s.amount for s in fact.settlements if s.day <= day), ZERO)


@dataclass(frozen=True, slots=True)
class Settlement:
    day: date
    amount: Decimal  # reduces the open amount (positive for an invoice being paid)
    how: How = "paid"


@dataclass(frozen=True, slots=True)
class Fact:
    """An invoice or credit note as the store knows it, with its dated settlements (in date order)."""

    currency: str
    invoice_date: date
    due_date: date
    amount: Decimal  # original amount, signed from the creditor's side
    settlements: tuple[Settlement, ...] = ()
    kind: str = "invoice"
    debtor: str = ""


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def periods(start: date, end: date, unit: Unit = "month") -> list[Period]:
    """Calendar months or quarters from ``start`` to ``end``, the first and last clipped to them."""
    if end < start:
        raise ConfigError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    out: list[Period] = []
    step = 3 if unit == "quarter" else 1
    month0 = (start.month - 1) // step * step
    cursor = date(start.year, month0 + 1, 1)
    while cursor <= end:
        last_month = cursor.month + step - 1
        stop = month_end(date(cursor.year, last_month, 1))
        label = f"{cursor.year}-Q{(cursor.month - 1) // 3 + 1}" if unit == "quarter" else f"{cursor.year}-{cursor.month:02d}"
        out.append(Period(max(cursor, start), min(stop, end), label))
        cursor = stop + timedelta(days=1)
    return out


@dataclass(slots=True)
class Position:
    total: Decimal = ZERO
    buckets: list[Decimal] = field(default_factory=lambda: [ZERO] * len(BUCKETS))
    items: int = 0

    @property
    def current(self) -> Decimal:
        return self.buckets[0]

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets[0]

    def add(self, amount: Decimal, days_late: int) -> None:
        self.total += amount
        self.buckets[bucket_of(days_late)] += amount
        self.items += 1

    def merge(self, other: Position) -> None:
        self.total += other.total
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self.items += other.items


def bucket_of(days_late: int) -> int:
    if days_late <= 0:
        return 0
    if days_late <= 30:
        return 1
    if days_late <= 60:
        return 2
    if days_late <= 90:
        return 3
    return 4


@dataclass(slots=True)
class Flows:
    """What happened within one period (additive)."""

    sales: Decimal = ZERO
    written_off: Decimal = ZERO
    paid: Decimal = ZERO
    pay_days: Decimal = ZERO  # Σ amount × (paid − invoice date)
    late_days: Decimal = ZERO  # Σ amount × max(0, paid − due date)

    def merge(self, other: Flows) -> None:
        self.sales += other.sales
        self.written_off += other.written_off
        self.paid += other.paid
        self.pay_days += other.pay_days
        self.late_days += other.late_days


@dataclass(slots=True)
class Ledger:
    """One currency's facts reduced to what the KPIs need, for a list of periods (additive)."""

    currency: str
    #: (year, month) → credit sales of that month
    monthly_sales: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    #: boundary day (each period's end, and the day before each start) → position
    positions: dict[date, Position] = field(default_factory=dict)
    #: period label → flows
    flows: dict[str, Flows] = field(default_factory=dict)

    def merge(self, other: Ledger) -> None:
        sales = self.monthly_sales
        for month, amount in other.monthly_sales.items():
            sales[month] = sales.get(month, ZERO) + amount
        for day, position in other.positions.items():
            self.positions.setdefault(day, Position()).merge(position)
        for label, flows in other.flows.items():
            self.flows.setdefault(label, Flows()).merge(flows)


def boundaries(spans: Sequence[Period]) -> list[date]:
    return sorted({d for p in spans for d in (p.start - timedelta(days=1), p.end)})


def ledger(facts: Iterable[FactLike], spans: Sequence[Period]) -> dict[str, Ledger]:
    """Per currency, the positions at every boundary, the flows per period and the monthly sales.

    One pass over the facts; each fact visits only the boundaries while it is open.
    """
    days = boundaries(spans)
    starts = [p.start for p in spans]
    labels = [p.label for p in spans]
    first, last = (spans[0].start, spans[-1].end) if spans else (date.max, date.min)
    ledgers: dict[str, Ledger] = {}
    for fact in facts:
        book = ledgers.get(fact.currency)
        if book is None:
            book = ledgers[fact.currency] = _new_ledger(fact.currency, days, labels)
        invoiced = fact.invoice_date
        month = (invoiced.year, invoiced.month)
        book.monthly_sales[month] = book.monthly_sales.get(month, ZERO) + fact.amount
        if first <= invoiced <= last:
            book.flows[labels[bisect_right(starts, invoiced) - 1]].sales += fact.amount
        for s in fact.settlements:
            if not first <= s.day <= last:
                continue
            flows = book.flows[labels[bisect_right(starts, s.day) - 1]]
            if s.how == "written_off":
                flows.written_off += s.amount
            elif s.how == "paid" and fact.kind == "invoice" and s.amount > 0:
                flows.paid += s.amount
                flows.pay_days += s.amount * (s.day - invoiced).days
                flows.late_days += s.amount * max(0, (s.day - fact.due_date).days)
        # Positions: walk the boundaries from the invoice date while something is open.
        settlements = fact.settlements
        open_amount = fact.amount
        cursor = 0
        n = len(settlements)
        for i in range(bisect_left(days, invoiced), len(days)):
            day = days[i]
            while cursor < n and settlements[cursor].day <= day:
                open_amount -= settlements[cursor].amount
                cursor += 1
            if open_amount == 0 and cursor == n:
                break
            if open_amount:
                book.positions[day].add(open_amount, (day - fact.due_date).days)
    return ledgers


def _new_ledger(currency: str, days: Sequence[date], labels: Sequence[str]) -> Ledger:
    return Ledger(currency, positions={d: Position() for d in days}, flows={label: Flows() for label in labels})


def countback_days(ar: Decimal, months: Sequence[tuple[Decimal, int]]) -> tuple[Decimal, bool]:
    """Countback days of ``ar`` over ``months`` (credit sales, days), newest month first.

    Returns (days, capped): capped when the history ran out before the AR did (the days are then a
    lower bound). Worked example of §4: AR 212k over 100k, 80k, 70k of 30 days → 73.7 days.
    """
    if ar <= 0:
        return ZERO, False
    remaining = ar
    days = ZERO
    for sales, month_days in months:
        if sales > 0 and remaining <= sales:
            return days + remaining / sales * month_days, False
        remaining -= max(sales, ZERO)
        days += month_days
    return days, True


def _months_back(book: Ledger, end: date, limit: int = 36) -> list[tuple[Decimal, int]]:
    out: list[tuple[Decimal, int]] = []
    year, month = end.year, end.month
    for i in range(limit):
        days = end.day if i == 0 else calendar.monthrange(year, month)[1]
        out.append((book.monthly_sales.get((year, month), ZERO), days))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


@dataclass(frozen=True, slots=True)
class Figures:
    """The KPIs of one period in one currency (days and percentages to one decimal)."""

    period: str
    start: date
    end: date
    currency: str
    ar: Decimal
    current: Decimal
    overdue: Decimal
    buckets: tuple[Decimal, ...]
    credit_sales: Decimal
    written_off: Decimal
    dso_countback: Decimal | None
    dso_countback_capped: bool
    dso_simple: Decimal | None
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None
    cei: Decimal | None
    average_days_to_pay: Decimal | None
    days_beyond_terms: Decimal | None
    overdue_pct: Decimal | None
    write_off_pct: Decimal | None


def _tenth(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(TENTH)


def _ratio(numerator: Decimal, denominator: Decimal, scale: Decimal | int = 100) -> Decimal | None:
    return None if denominator == 0 else numerator / denominator * scale


def figures(book: Ledger, span: Period) -> Figures:
    end = book.positions.get(span.end, Position())
    begin = book.positions.get(span.start - timedelta(days=1), Position())
    flows = book.flows.get(span.label, Flows())
    sales = flows.sales
    months = _months_back(book, span.end)
    dso, capped = countback_days(end.total, months)
    best, _ = countback_days(end.current, months)
    has_sales = any(s > 0 for s, _ in months)
    dso_cb = dso if has_sales or end.total <= 0 else None
    best_cb = best if has_sales or end.current <= 0 else None
    per_month = sales / span.months
    cei_top = begin.total + per_month - end.total
    cei_bottom = begin.total + per_month - end.current
    return Figures(
        period=span.label,
        start=span.start,
        end=span.end,
        currency=book.currency,
        ar=end.total,
        current=end.current,
        overdue=end.overdue,
        buckets=tuple(end.buckets),
        credit_sales=sales,
        written_off=flows.written_off,
        dso_countback=_tenth(dso_cb),
        dso_countback_capped=capped and dso_cb is not None,
        dso_simple=_tenth(_ratio(end.total, sales, span.days)) if sales > 0 else None,
        best_possible_dso=_tenth(best_cb),
        average_days_delinquent=_tenth(dso_cb - best_cb) if dso_cb is not None and best_cb is not None else None,
        cei=_tenth(_ratio(cei_top, cei_bottom)) if cei_bottom > 0 else None,
        average_days_to_pay=_tenth(_ratio(flows.pay_days, flows.paid, 1)),
        days_beyond_terms=_tenth(_ratio(flows.late_days, flows.paid, 1)),
        overdue_pct=_tenth(_ratio(end.overdue, end.total)) if end.total > 0 else None,
        write_off_pct=_tenth(_ratio(flows.written_off, sales)) if sales > 0 else None,
    )


# --------------------------------------------------------------------------- the desk's own KPIs


@dataclass(frozen=True, slots=True)
class DeskFigures:
    period: str
    promises_kept: int
    promises_broken: int
    promises_kept_pct: Decimal | None
    disputes_open: int
    disputes_average_age: Decimal | None


def desk_figures(
    span: Period,
    promises: Iterable[tuple[str, date | None]],
    disputes: Iterable[tuple[date, date | None]],
) -> DeskFigures:
    """Promises (state, closed on) closed as kept or broken in the period; disputes (opened,
    resolved) open at the period's end, and their mean age in days on that day."""
    kept = broken = 0
    for state, closed in promises:
        if closed is None or not span.start <= closed <= span.end:
            continue
        if state == "kept":
            kept += 1
        elif state == "broken":
            broken += 1
    ages = [(span.end - opened).days for opened, resolved in disputes if opened <= span.end and (resolved is None or resolved > span.end)]
    return DeskFigures(
        period=span.label,
        promises_kept=kept,
        promises_broken=broken,
        promises_kept_pct=_tenth(_ratio(Decimal(kept), Decimal(kept + broken))),
        disputes_open=len(ages),
        disputes_average_age=_tenth(Decimal(sum(ages)) / len(ages)) if ages else None,
    )


@dataclass(frozen=True, slots=True)
class StepAction:
    """One dunning step that went out: on which day, for which items, for how much."""

    step: str
    day: date
    currency: str
    amount: Decimal
    items: tuple[str, ...]


@dataclass(slots=True)
class StepEffect:
    step: str
    currency: str
    sent: int = 0
    amount: Decimal = ZERO
    brought_in: Decimal = ZERO

    @property
    def share(self) -> Decimal | None:
        return _tenth(_ratio(self.brought_in, self.amount))


def step_effects(
    span: Period, actions: Iterable[StepAction], paid: Mapping[str, Sequence[tuple[date, Decimal]]], within_days: int = 14
) -> list[StepEffect]:
    """Per step and currency, the steps sent in the period and what was paid on their items within
    ``within_days`` days of the step (a payment after two steps counts for both)."""
    out: dict[tuple[str, str], StepEffect] = {}
    window = timedelta(days=within_days)
    for action in actions:
        if not span.start <= action.day <= span.end:
            continue
        effect = out.get((action.step, action.currency))
        if effect is None:
            effect = out[(action.step, action.currency)] = StepEffect(action.step, action.currency)
        effect.sent += 1
        effect.amount += action.amount
        stop = action.day + window
        for item in action.items:
            effect.brought_in += sum((amount for day, amount in paid.get(item, ()) if action.day <= day <= stop), ZERO)
    return sorted(out.values(), key=lambda e: (e.currency, e.step))


def top_overdue(facts: Iterable[FactLike], day: date, limit: int = 10) -> list[tuple[str, str, Decimal]]:
    """(debtor, currency, overdue amount) of the debtors owing most past due on ``day``."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for fact in facts:
        if fact.due_date >= day:
            continue
        amount = open_on(fact, day)
        if amount:
            totals[(fact.debtor, fact.currency)] += amount
    ranked = sorted(((d, c, a) for (d, c), a in totals.items() if a > 0), key=lambda r: (-r[2], r[0]))
    return ranked[:limit]
