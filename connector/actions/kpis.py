"""The KPI report: per administration and for the whole firm, per currency and period.

Reads each connection's dated facts, receivable snapshots, promises, disputes and dunning steps
from the store (:class:`connector.store.desk.Desk`) and computes with the pure :mod:`rules.kpi`.
One connection is read at a time, so memory holds one administration's facts, not the firm's.

A position at a period's boundary is the day's **snapshot** when ``serve`` took one that day (what
the store knew then), otherwise it is rebuilt from the dated facts.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from connector.store import Store
from connector.store.desk import Desk
from rules.kpi import (
    BUCKETS,
    DeskFigures,
    Figures,
    Ledger,
    Period,
    Position,
    StepAction,
    StepEffect,
    Unit,
    boundaries,
    desk_figures,
    figures,
    ledger,
    periods,
    step_effects,
    top_overdue,
)

FIRM = "firm"


@dataclass
class ScopeReport:
    """One administration (or the firm): figures per period and currency, the desk, step effects."""

    name: str
    figures: list[Figures] = field(default_factory=list)
    desk: list[DeskFigures] = field(default_factory=list)
    steps: dict[str, list[StepEffect]] = field(default_factory=dict)
    #: (debtor, currency, overdue) at the end of the last period
    top_debtors: list[tuple[str, str, Decimal]] = field(default_factory=list)
    snapshot_days: int = 0


@dataclass
class KpiReport:
    start: date
    end: date
    unit: Unit
    periods: list[Period]
    scopes: list[ScopeReport]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "period": self.unit,
            "scopes": [scope_dict(s) for s in self.scopes],
        }


def _value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def figures_dict(f: Figures) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in Figures.__slots__:
        value = getattr(f, name)
        if name == "buckets":
            out[name] = {b: str(v) for b, v in zip(BUCKETS, value, strict=True)}
        else:
            out[name] = _value(value)
    return out


def scope_dict(scope: ScopeReport) -> dict[str, Any]:
    return {
        "name": scope.name,
        "figures": [figures_dict(f) for f in scope.figures],
        "desk": [{name: _value(getattr(d, name)) for name in DeskFigures.__slots__} for d in scope.desk],
        "steps": {
            label: [{"step": e.step, "currency": e.currency, "sent": e.sent, "amount": str(e.amount),
                     "brought_in": str(e.brought_in), "share_pct": _value(e.share)} for e in effects]
            for label, effects in scope.steps.items()
        },
        "top_debtors": [{"debtor": d, "currency": c, "overdue": str(a)} for d, c, a in scope.top_debtors],
    }


@dataclass
class _Raw:
    """What a scope's figures are computed from (additive over administrations)."""

    ledgers: dict[str, Ledger] = field(default_factory=dict)
    promises: list[tuple[str, date | None]] = field(default_factory=list)
    disputes: list[tuple[date, date | None]] = field(default_factory=list)
    steps: dict[tuple[str, str, str], StepEffect] = field(default_factory=dict)
    top: list[tuple[str, str, Decimal]] = field(default_factory=list)
    snapshot_days: int = 0

    def merge(self, other: _Raw) -> None:
        for currency, book in other.ledgers.items():
            self.ledgers.setdefault(currency, Ledger(currency)).merge(book)
        self.promises.extend(other.promises)
        self.disputes.extend(other.disputes)
        for key, effect in other.steps.items():
            mine = self.steps.setdefault(key, StepEffect(effect.step, effect.currency))
            mine.sent += effect.sent
            mine.amount += effect.amount
            mine.brought_in += effect.brought_in
        self.top.extend(other.top)
        self.snapshot_days += other.snapshot_days


def kpi_report(
    store: Store, connections: Sequence[str], start: date, end: date, unit: Unit = "month", *,
    effect_window_days: int | Mapping[str, int] = 14, names: dict[str, dict[str, str]] | None = None, top: int = 10,
    workers: int = 1,
) -> KpiReport:
    """KPIs of each connection and, with more than one, of the firm (the sum of them).
    ``effect_window_days``: days after a dunning step in which a payment counts as its effect
    (one for all, or per connection: each rules file's ``desk.effect_window_days``)."""
    spans = periods(start, end, unit)
    firm = _Raw()
    scopes: list[ScopeReport] = []
    jobs = [
        (cid, spans, effect_window_days if isinstance(effect_window_days, int) else effect_window_days.get(cid, 14),
         (names or {}).get(cid), top)
        for cid in connections
    ]
    url = store.engine.url
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    if workers > 1 and len(jobs) > 1 and not in_memory:
        # One administration per task in worker processes, each with its own database connection;
        # the results come back in the order asked, so the report is the same as one process makes.
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            raws = list(pool.map(_raw_in_worker, [url.render_as_string(hide_password=False)] * len(jobs), jobs))
    else:
        desk = Desk(store)
        raws = [_connection_raw(desk, *job) for job in jobs]
    for cid, raw in zip(connections, raws, strict=True):
        scopes.append(_scope(cid, raw, spans, top))
        firm.merge(raw)
    if len(connections) > 1:
        scopes.append(_scope(FIRM, firm, spans, top))
    return KpiReport(start, end, unit, spans, scopes)


def _raw_in_worker(url: str, job: tuple[str, Sequence[Period], int, dict[str, str] | None, int]) -> _Raw:
    store = Store(url)
    try:
        return _connection_raw(Desk(store), *job)
    finally:
        store.close()


def _connection_raw(desk: Desk, cid: str, spans: Sequence[Period], window: int, names: dict[str, str] | None,
                    top: int) -> _Raw:
    first, last = spans[0], spans[-1]
    actions = [StepAction(r.step, r.day, r.currency, r.amount, r.items) for r in desk.step_actions(cid, first.start)]
    paid: dict[str, list[tuple[date, Decimal]]] = {}
    wanted = {item for a in actions for item in a.items}
    facts = list(desk.facts(cid, until=last.end, paid_for=wanted, paid=paid))
    books = ledger(facts, spans)
    days = boundaries(spans)
    snaps = desk.snapshots(cid, days)
    for day, by_currency in snaps.items():
        for currency in by_currency.keys() | books.keys():
            book = books.setdefault(currency, Ledger(currency))
            found = by_currency.get(currency)
            book.positions[day] = Position(found.total, list(found.buckets), found.items) if found else Position()
    raw = _Raw(ledgers=books, snapshot_days=len(snaps))
    raw.promises = [(a.state, a.closed_on) for a in desk.agreements(cid, kind="promise")]
    raw.disputes = [(d.opened_on, d.resolved_on) for d in desk.disputes(cid)]
    for span in spans:
        for effect in step_effects(span, actions, paid, window):
            raw.steps[(span.label, effect.step, effect.currency)] = effect
    label = names or {}
    raw.top = [(label.get(d, d), c, a) for d, c, a in top_overdue(facts, last.end, top)]
    return raw


def _scope(name: str, raw: _Raw, spans: Sequence[Period], top: int) -> ScopeReport:
    scope = ScopeReport(name, snapshot_days=raw.snapshot_days)
    for span in spans:
        for currency in sorted(raw.ledgers):
            scope.figures.append(figures(raw.ledgers[currency], span))
        scope.desk.append(desk_figures(span, raw.promises, raw.disputes))
        effects = [e for (label, _, _), e in sorted(raw.steps.items()) if label == span.label]
        if effects:
            scope.steps[span.label] = effects
    scope.top_debtors = sorted(raw.top, key=lambda r: (-r[2], r[0]))[:top]
    return scope


def default_range(today: date, unit: Unit) -> tuple[date, date]:
    """The last 12 months (or 4 quarters), the current one included, up to ``today``."""
    months_back = 11 if unit == "month" else 9 + (today.month - 1) % 3
    month0 = today.year * 12 + today.month - 1 - months_back
    return date(month0 // 12, month0 % 12 + 1, 1), today


def per_currency_totals(report: KpiReport) -> dict[str, dict[str, Decimal]]:
    """Ending AR per scope and currency of the last period (for summaries)."""
    out: dict[str, dict[str, Decimal]] = defaultdict(dict)
    last = report.periods[-1].label
    for scope in report.scopes:
        for f in scope.figures:
            if f.period == last:
                out[scope.name][f.currency] = f.ar
    return dict(out)


__all__ = ["FIRM", "KpiReport", "ScopeReport", "StepAction", "default_range", "kpi_report"]
