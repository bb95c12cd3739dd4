"""The desk's rows in the store: disputes, promises and payment plans, daily receivable snapshots,
and the dated facts the KPIs are computed from (tables of migration 0005).

Every query is scoped by connection id. A dispute about a whole debtor is kept in ``disputes``
with ``item_source_id`` = ``debtor:<id>`` (the table's unique index allows one open dispute per
item, so one per debtor too) and pauses every open item of that debtor.

Promises and plans share ``payment_plans``: the pause of the planner is ``agreed_on ≤ day ≤
ends_on`` (:meth:`connector.store.Store.items_under_plan`), so closing an agreement (kept,
broken, cancelled) also moves ``ends_on`` to the day before it closed, which ends the pause.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from connector.errors import ConfigError
from connector.reports import BUCKETS, bucket_for
from connector.store import tables as t
from connector.store.store import Store

DEBTOR_SCOPE = "debtor:"
OPEN_STATUSES = ("open", "disputed")
KPI_KINDS = ("invoice", "credit_note")
DISPUTE_CATEGORIES = ("price", "quality", "delivery", "quantity", "not_ordered", "invoice_error", "other")
#: journal states that mean a step went out (for "actions per step")
SENT_STATES = ("done", "already_true")
#: how a promise or plan stands (rules.desk.AgreementState has the same values)
ACTIVE = "active"
FINAL_STATES = ("kept", "completed", "broken", "cancelled")


class Scheduled(NamedTuple):
    """One date of a promise or plan: an amount due on a day."""

    due: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class SettlementRow:
    day: date
    amount: Decimal
    how: str = "paid"  # paid | written_off


@dataclass(frozen=True, slots=True)
class FactRow:
    """An invoice or credit note with its dated settlements (what rules.kpi computes from)."""

    currency: str
    invoice_date: date
    due_date: date
    amount: Decimal
    settlements: tuple[SettlementRow, ...]
    kind: str
    debtor: str


@dataclass(frozen=True, slots=True)
class StepRow:
    """A dunning step that went out."""

    step: str
    day: date
    currency: str
    amount: Decimal
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    total: Decimal
    buckets: tuple[Decimal, ...]  # in the order of connector.reports.BUCKETS
    items: int


@dataclass(frozen=True)
class DisputeRow:
    id: int
    connection_id: str
    item_source_id: str | None  # None: the whole debtor
    debtor_source_id: str | None
    category: str
    reason: str
    note: str | None
    opened_on: date
    review_on: date | None
    resolved_on: date | None
    source: str  # arconnect | package

    def past_review(self, day: date) -> bool:
        return self.resolved_on is None and self.review_on is not None and self.review_on < day


@dataclass(frozen=True)
class AgreementRow:
    id: int
    connection_id: str
    kind: str  # promise | plan
    debtor_source_id: str
    item_source_ids: tuple[str, ...]
    agreed_on: date
    ends_on: date
    state: str
    currency: str | None
    amount: Decimal | None
    costs: Decimal | None
    schedule: tuple[Scheduled, ...]
    grace_days: int
    closed_on: date | None
    note: str | None
    #: item → what was open on it when agreed (to see payments the package reports only as a
    #: lower open amount)
    open_at_start: dict[str, Decimal] = field(default_factory=dict)


def _dispute(row: sa.Row[Any]) -> DisputeRow:
    item = row.item_source_id
    whole = item.startswith(DEBTOR_SCOPE)
    return DisputeRow(
        id=row.id, connection_id=row.connection_id, item_source_id=None if whole else item,
        debtor_source_id=row.debtor_source_id or (item[len(DEBTOR_SCOPE):] if whole else None),
        category=row.category, reason=row.reason, note=row.note, opened_on=row.opened_on, review_on=row.review_on,
        resolved_on=row.resolved_on, source=row.source,
    )


def _agreement(row: sa.Row[Any]) -> AgreementRow:
    raw = row.schedule or {}
    instalments = tuple(Scheduled(date.fromisoformat(i["due"]), Decimal(i["amount"])) for i in raw.get("instalments", ()))
    return AgreementRow(
        id=row.id, connection_id=row.connection_id, kind=row.kind, debtor_source_id=row.debtor_source_id,
        item_source_ids=tuple(row.item_source_ids or ()), agreed_on=row.agreed_on, ends_on=row.ends_on,
        state=row.state, currency=row.currency, amount=row.amount, costs=row.costs,
        schedule=instalments, grace_days=row.grace_days or 0, closed_on=row.closed_on, note=row.note,
        open_at_start={k: Decimal(v) for k, v in (raw.get("open_at_start") or {}).items()},
    )


class Desk:
    """Repository of the desk over an open :class:`~connector.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._engine = store.engine
        self._writer = store.engine.execution_options(arconnect_write=True)

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        return postgresql.insert(table) if self.store.dialect == "postgresql" else sqlite.insert(table)

    # -- disputes ------------------------------------------------------------------------------

    def add_dispute(
        self, connection_id: str, *, debtor: str, item: str | None, category: str, reason: str, opened_on: date,
        review_on: date | None = None, note: str | None = None, source: str = "arconnect",
    ) -> DisputeRow:
        """Open a dispute on an item or (``item`` None) a whole debtor; an open one is kept as it is."""
        if category not in DISPUTE_CATEGORIES:
            raise ConfigError(f"unknown dispute category {category!r} (one of: {', '.join(DISPUTE_CATEGORIES)})")
        if review_on is not None and review_on < opened_on:
            raise ConfigError("the review date cannot be before the dispute was opened")
        key = item if item is not None else DEBTOR_SCOPE + debtor
        row = {
            "connection_id": connection_id, "item_source_id": key, "debtor_source_id": debtor, "opened_on": opened_on,
            "reason": reason, "resolved_on": None, "category": category, "note": note, "review_on": review_on,
            "source": source,
        }
        d = t.disputes.c
        with self._writer.begin() as conn:
            conn.execute(self._insert(t.disputes).values(row).on_conflict_do_nothing())
            found = conn.execute(
                sa.select(t.disputes).where(d.connection_id == connection_id, d.item_source_id == key, d.resolved_on.is_(None))
            ).one()
        return _dispute(found)

    def resolve_dispute(self, connection_id: str, dispute_id: int, on: date) -> DisputeRow:
        d = t.disputes.c
        with self._writer.begin() as conn:
            found = conn.execute(sa.select(t.disputes).where(d.connection_id == connection_id, d.id == dispute_id)).one_or_none()
            if found is None:
                raise ConfigError(f"no dispute {dispute_id} in {connection_id}")
            if found.resolved_on is None:
                conn.execute(sa.update(t.disputes).where(d.id == dispute_id).values(resolved_on=on))
            found = conn.execute(sa.select(t.disputes).where(d.id == dispute_id)).one()
        return _dispute(found)

    def disputes(self, connection_id: str, *, open_only: bool = False, debtor: str | None = None) -> list[DisputeRow]:
        d = t.disputes.c
        statement = sa.select(t.disputes).where(d.connection_id == connection_id).order_by(d.opened_on, d.id)
        if open_only:
            statement = statement.where(d.resolved_on.is_(None))
        with self._engine.connect() as conn:
            rows = [_dispute(r) for r in conn.execute(statement)]
        return [r for r in rows if debtor is None or r.debtor_source_id == debtor]

    def paused_by_disputes(self, connection_id: str, day: date) -> set[str]:
        """Items whose dunning a dispute pauses on ``day``: open disputes whose review date has not
        passed; a dispute about a whole debtor pauses each of its open items."""
        items: set[str] = set()
        debtors: set[str] = set()
        for dispute in self.disputes(connection_id, open_only=True):
            if dispute.past_review(day):
                continue
            if dispute.item_source_id is not None:
                items.add(dispute.item_source_id)
            elif dispute.debtor_source_id is not None:
                debtors.add(dispute.debtor_source_id)
        if debtors:
            i = t.open_items.c
            statement = sa.select(i.source_id).where(
                i.connection_id == connection_id, i.debtor_source_id.in_(sorted(debtors)), i.status.in_(OPEN_STATUSES),
                i.deleted_at.is_(None),
            )
            with self._engine.connect() as conn:
                items.update(conn.execute(statement).scalars())
        return items

    # -- promises and plans --------------------------------------------------------------------

    def add_agreement(
        self, connection_id: str, *, kind: str, debtor: str, items: Sequence[str], agreed_on: date,
        schedule: Sequence[Scheduled], grace_days: int, currency: str, costs: Decimal | None = None,
        note: str | None = None,
    ) -> AgreementRow:
        if kind not in ("promise", "plan"):
            raise ConfigError(f"unknown agreement kind {kind!r}")
        if not items:
            raise ConfigError(f"a {kind} covers at least one item")
        if not schedule:
            raise ConfigError(f"a {kind} has at least one date")
        if schedule[0].due < agreed_on:
            raise ConfigError(f"the first date {schedule[0].due.isoformat()} is before the day it was agreed")
        if grace_days < 0:
            raise ConfigError("grace days cannot be negative")
        row = {
            "connection_id": connection_id, "debtor_source_id": debtor, "item_source_ids": sorted(set(items)),
            "agreed_on": agreed_on, "ends_on": schedule[-1].due + timedelta(days=grace_days), "kind": kind,
            "state": ACTIVE, "currency": currency,
            "amount": sum((i.amount for i in schedule), Decimal(0)), "costs": costs,
            "schedule": {
                "instalments": [{"due": i.due.isoformat(), "amount": str(i.amount)} for i in schedule],
                "open_at_start": {k: str(v[0]) for k, v in sorted(self.open_amounts(connection_id, items).items())},
            },
            "grace_days": grace_days, "closed_on": None, "note": note,
        }
        with self._writer.begin() as conn:
            new_id = int(conn.execute(sa.insert(t.payment_plans).values(row).returning(t.payment_plans.c.id)).scalar_one())
        return self.agreement(connection_id, new_id)

    def agreement(self, connection_id: str, agreement_id: int) -> AgreementRow:
        p = t.payment_plans.c
        with self._engine.connect() as conn:
            found = conn.execute(
                sa.select(t.payment_plans).where(p.connection_id == connection_id, p.id == agreement_id)
            ).one_or_none()
        if found is None:
            raise ConfigError(f"no promise or plan {agreement_id} in {connection_id}")
        return _agreement(found)

    def agreements(
        self, connection_id: str, *, kind: str | None = None, states: Iterable[str] | None = None,
        debtor: str | None = None,
    ) -> list[AgreementRow]:
        p = t.payment_plans.c
        statement = sa.select(t.payment_plans).where(p.connection_id == connection_id).order_by(p.agreed_on, p.id)
        if kind is not None:
            statement = statement.where(p.kind == kind)
        if states is not None:
            statement = statement.where(p.state.in_([str(s) for s in states]))
        if debtor is not None:
            statement = statement.where(p.debtor_source_id == debtor)
        with self._engine.connect() as conn:
            return [_agreement(r) for r in conn.execute(statement)]

    def close_agreement(self, connection_id: str, agreement_id: int, state: str, on: date) -> AgreementRow:
        """Close an active agreement (kept, completed, broken, cancelled) on ``on``; its pause ends
        the day before. A closed one stays as it was closed."""
        if state not in FINAL_STATES:
            raise ConfigError(f"{state} is not a way an agreement ends")
        current = self.agreement(connection_id, agreement_id)
        if current.state != ACTIVE:
            return current
        p = t.payment_plans.c
        ends = min(current.ends_on, on - timedelta(days=1))
        with self._writer.begin() as conn:
            conn.execute(
                sa.update(t.payment_plans)
                .where(p.connection_id == connection_id, p.id == agreement_id, p.state == ACTIVE)
                .values(state=str(state), closed_on=on, ends_on=max(ends, current.agreed_on - timedelta(days=1)))
            )
        return self.agreement(connection_id, agreement_id)

    def resume_at(self, connection_id: str) -> dict[str, date]:
        """Items of broken agreements → the day the latest one broke (the planner resumes them at the
        profile's ``broken_promise_step``)."""
        out: dict[str, date] = {}
        for agreement in self.agreements(connection_id, states=["broken"]):
            if agreement.closed_on is None:
                continue
            for item in agreement.item_source_ids:
                if item not in out or out[item] < agreement.closed_on:
                    out[item] = agreement.closed_on
        return out

    # -- items and payments --------------------------------------------------------------------

    def open_amounts(self, connection_id: str, items: Sequence[str]) -> dict[str, tuple[Decimal, str, str]]:
        """item id → (open amount, currency, status) of the items (deleted ones are left out)."""
        return {k: (a, cur, status) for k, (a, cur, status, _) in self.item_states(connection_id, items).items()}

    def item_states(self, connection_id: str, items: Sequence[str]) -> dict[str, tuple[Decimal, str, str, date | None]]:
        """item id → (open amount, currency, status, closed on) of the items (deleted ones are left out)."""
        i = t.open_items.c
        statement = sa.select(i.source_id, i.open_amount, i.currency, i.status, i.closed_on).where(
            i.connection_id == connection_id, i.source_id.in_(list(items)), i.deleted_at.is_(None)
        )
        with self._engine.connect() as conn:
            return {r.source_id: (r.open_amount, r.currency, r.status, r.closed_on) for r in conn.execute(statement)}

    def payments_towards(self, connection_id: str, items: Sequence[str], since: date) -> list[tuple[date, Decimal]]:
        """Dated payments on any of ``items`` made on or after ``since``."""
        wanted = set(items)
        p = t.payments.c
        statement = sa.select(p.item_source_ids, p.paid_on, p.amount).where(
            p.connection_id == connection_id, p.paid_on >= since, p.deleted_at.is_(None)
        )
        with self._engine.connect() as conn:
            return [(r.paid_on, r.amount) for r in conn.execute(statement) if wanted.intersection(r.item_source_ids or ())]

    def debtor_names(self, connection_id: str) -> dict[str, str]:
        """debtor id → "code name" (for reports)."""
        d = t.debtors.c
        statement = sa.select(d.source_id, d.code, d.name).where(d.connection_id == connection_id)
        with self._engine.connect() as conn:
            return {r.source_id: f"{r.code or ''} {r.name}".strip() for r in conn.execute(statement)}

    def block(self, connection_id: str, debtor: str) -> tuple[str, str, date] | None:
        """The block in force that the store knows of: (by whom, reason, since)."""
        b = t.debtor_blocks.c
        statement = sa.select(b.blocked_by, b.reason, b.since).where(
            b.connection_id == connection_id, b.debtor_source_id == debtor, b.lifted_on.is_(None)
        )
        with self._engine.connect() as conn:
            found = conn.execute(statement).first()
        return None if found is None else (found.blocked_by, found.reason, found.since)

    def find_debtor(self, connection_id: str, code_or_id: str) -> str:
        """The debtor's source id from its code (as the bookkeeper knows it) or its source id."""
        d = t.debtors.c
        statement = sa.select(d.source_id, d.code).where(
            d.connection_id == connection_id, d.deleted_at.is_(None), (d.code == code_or_id) | (d.source_id == code_or_id)
        )
        with self._engine.connect() as conn:
            rows = list(conn.execute(statement))
        by_code = [r.source_id for r in rows if r.code == code_or_id]
        if len(by_code) == 1:
            return str(by_code[0])
        if len(rows) == 1:
            return str(rows[0].source_id)
        if not rows:
            raise ConfigError(f"no debtor {code_or_id!r} in {connection_id}")
        raise ConfigError(f"debtor code {code_or_id!r} is not unique in {connection_id}: use the source id")

    def open_items_of(self, connection_id: str, debtor: str) -> list[Any]:
        """The debtor's open items (rows with source_id, document_number, dates, amounts, status), oldest due first."""
        i = t.open_items.c
        statement = sa.select(
            i.source_id, i.document_number, i.kind, i.invoice_date, i.due_date, i.currency, i.original_amount,
            i.open_amount, i.status,
        ).where(
            i.connection_id == connection_id, i.debtor_source_id == debtor, i.status.in_(OPEN_STATUSES),
            i.deleted_at.is_(None),
        ).order_by(i.due_date, i.source_id)
        with self._engine.connect() as conn:
            return list(conn.execute(statement))

    def find_items(self, connection_id: str, debtor: str, wanted: Sequence[str]) -> list[str]:
        """Source ids of the debtor's open items named by document number or source id; all of
        them when none are named."""
        rows = self.open_items_of(connection_id, debtor)
        if not wanted:
            return [r.source_id for r in rows if r.open_amount > 0]
        out: list[str] = []
        for name in wanted:
            match = [r.source_id for r in rows if name in (r.document_number, r.source_id)]
            if not match:
                raise ConfigError(f"no open item {name!r} of debtor {debtor} in {connection_id}")
            out.append(match[0])
        return out

    # -- snapshots -----------------------------------------------------------------------------

    def take_snapshot(self, connection_id: str, day: date, now: datetime) -> dict[str, SnapshotRow]:
        """The receivables position at the end of ``day`` as the store knows it now, per currency;
        taking it again the same day replaces it."""
        i = t.open_items.c
        statement = sa.select(i.currency, i.open_amount, i.due_date, i.invoice_date).where(
            i.connection_id == connection_id, i.status.in_(OPEN_STATUSES), i.kind.in_(KPI_KINDS), i.deleted_at.is_(None)
        )
        index = {name: i for i, name in enumerate(BUCKETS)}
        sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(BUCKETS))
        counts: dict[str, int] = defaultdict(int)
        with self._engine.connect() as conn:
            for r in conn.execution_options(yield_per=5000).execute(statement):
                if r.invoice_date <= day and r.open_amount:
                    sums[r.currency][index[bucket_for((day - (r.due_date or r.invoice_date)).days)]] += r.open_amount
                    counts[r.currency] += 1
        positions = {c: SnapshotRow(sum(b, Decimal(0)), tuple(b), counts[c]) for c, b in sums.items()}
        s = t.receivable_snapshots.c
        rows = [
            {"connection_id": connection_id, "day": day, "currency": currency, "total": pos.total,
             **dict(zip(_BUCKET_COLUMNS, pos.buckets, strict=True)), "items": pos.items, "taken_at": now}
            for currency, pos in sorted(positions.items())
        ]
        with self._writer.begin() as conn:
            conn.execute(sa.delete(t.receivable_snapshots).where(s.connection_id == connection_id, s.day == day))
            if rows:
                conn.execute(sa.insert(t.receivable_snapshots), rows)
        return positions

    def snapshots(self, connection_id: str, days: Iterable[date]) -> dict[date, dict[str, SnapshotRow]]:
        s = t.receivable_snapshots.c
        statement = sa.select(t.receivable_snapshots).where(s.connection_id == connection_id, s.day.in_(sorted(set(days))))
        out: dict[date, dict[str, SnapshotRow]] = defaultdict(dict)
        with self._engine.connect() as conn:
            for r in conn.execute(statement):
                out[r.day][r.currency] = SnapshotRow(r.total, tuple(getattr(r, c) for c in _BUCKET_COLUMNS), r.items)
        return dict(out)

    # -- KPI facts -----------------------------------------------------------------------------

    def facts(self, connection_id: str, *, until: date, paid_for: set[str] | None = None,
              paid: dict[str, list[tuple[date, Decimal]]] | None = None) -> Iterator[FactRow]:
        """Every invoice and credit note dated up to ``until`` with its dated settlements.

        Settlements are the payments that name the item (a payment of several items is allocated
        to them in the order it names them, up to what each needs); what is settled beyond them is
        dated on the day the item closed (written off when its status says so), or, for an item
        still open, on the day the store last saw it change. ``paid`` collects the paid
        settlements of the items in ``paid_for`` (for the effect of dunning steps).
        """
        i = t.open_items.c
        p = t.payments.c
        # A firm's report reads millions of rows: dates and amounts come as text and are parsed
        # once per distinct value (SQLAlchemy's per-value conversion was most of the time).
        day = _Dates()
        money = _Amounts()
        with self._engine.connect() as conn:
            by_item: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
            payments = sa.select(p.item_source_ids, _text(p.paid_on), _text(p.amount)).where(
                p.connection_id == connection_id, p.deleted_at.is_(None), p.paid_on <= until
            )
            multi: list[tuple[list[str], date, Decimal]] = []
            for ids, paid_on, amount in conn.execution_options(yield_per=5000).execute(payments):
                if not ids:
                    continue
                if len(ids) == 1:
                    by_item[ids[0]].append((day(paid_on), money(amount)))
                else:
                    multi.append((list(ids), day(paid_on), money(amount)))
            items = sa.select(
                i.source_id, i.debtor_source_id, i.kind, _text(i.invoice_date), _text(i.due_date), i.currency,
                _text(i.original_amount), _text(i.open_amount), i.status, _text(i.closed_on),
            ).where(i.connection_id == connection_id, i.deleted_at.is_(None), i.kind.in_(KPI_KINDS), i.invoice_date <= until)
            rows = [
                (sid, debtor, kind, day(invoiced), day(due) if due else None, currency, money(original),
                 money(left), status, day(closed) if closed else None)
                for sid, debtor, kind, invoiced, due, currency, original, left, status, closed
                in conn.execution_options(yield_per=5000).execute(items)
            ]
            if multi:
                originals = {r[0]: r[6] for r in rows}
                _allocate(multi, originals, by_item)
            # Open items settled beyond their payments without a closing date: dated on the day the
            # store last saw them change (rare; read only for those).
            unexplained = [r[0] for r in rows if r[9] is None and r[6] - sum((a for _, a in by_item.get(r[0], ())), ZERO)
                           - (r[7] if r[8] in OPEN_STATUSES else ZERO)]
            changed: dict[str, date] = {}
            for chunk in (unexplained[n:n + 500] for n in range(0, len(unexplained), 500)):
                found = sa.select(i.source_id, i.updated_at).where(i.connection_id == connection_id, i.source_id.in_(chunk))
                changed.update((sid, moment.date()) for sid, moment in conn.execute(found))
        for sid, debtor, kind, invoiced, due, currency, original, left, status, closed in rows:
            settlements = [SettlementRow(d, a) for d, a in by_item.get(sid, ())]
            gap = original - sum((x.amount for x in settlements), ZERO) - (left if status in OPEN_STATUSES else ZERO)
            if gap:
                how = "written_off" if status == "written_off" else "paid"
                on = closed or changed.get(sid) or invoiced
                settlements.append(SettlementRow(max(on, invoiced), gap, how))
            if len(settlements) > 1:
                settlements.sort(key=lambda x: x.day)
            if paid is not None and paid_for is not None and sid in paid_for:
                paid[sid] = [(x.day, x.amount) for x in settlements if x.how == "paid"]
            yield FactRow(currency, invoiced, due or invoiced, original, tuple(settlements), kind, debtor)

    def step_actions(self, connection_id: str, since: date) -> list[StepRow]:
        """Dunning steps that went out (journal ``done``/``already_true``) since ``since``."""
        a = t.actions.c
        amount = a.action["amount"]
        statement = sa.select(
            a.idempotency_key, a.step, _text(a.run_date), a.item_source_ids, amount["currency"].as_string(),
            amount["amount"].as_string(),
        ).where(a.connection_id == connection_id, a.step.isnot(None), a.run_date >= since, a.state.in_(SENT_STATES))
        out: list[StepRow] = []
        day = _Dates()
        money = _Amounts()
        with self._engine.connect() as conn:
            for key, step, run_date, items, currency, value in conn.execute(statement):
                if "#" in key or not currency or value is None:
                    continue  # one effect of a step (not the step), or a step without an amount
                out.append(StepRow(str(step), day(run_date), str(currency), money(value), tuple(items or ())))
        return out


ZERO = Decimal(0)


def _text(column: Any) -> Any:
    """A date or amount column read as its text (parsed by :class:`_Dates` / :class:`_Amounts`)."""
    return sa.cast(column, sa.String)


class _Dates:
    """'YYYY-MM-DD' (and datetimes a backend may render) to a date, each distinct value parsed once."""

    def __init__(self) -> None:
        self._seen: dict[str, date] = {}

    def __call__(self, text: str) -> date:
        found = self._seen.get(text)
        if found is None:
            found = self._seen[text] = date.fromisoformat(text[:10])
        return found


class _Amounts:
    """An amount's text to a Decimal, each distinct value parsed once."""

    def __init__(self) -> None:
        self._seen: dict[str, Decimal] = {}

    def __call__(self, text: str | float | int) -> Decimal:
        key = str(text)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = Decimal(key)
        return found


def _allocate(multi: Sequence[tuple[list[str], date, Decimal]], originals: dict[str, Decimal],
              by_item: dict[str, list[tuple[date, Decimal]]]) -> None:
    """A payment of several items goes to them in the order it names them, up to what each needs."""
    for ids, day, amount in multi:
        left = amount
        for item in ids:
            need = originals.get(item)
            if need is None or left <= 0:
                continue
            already = sum((a for _, a in by_item.get(item, ())), ZERO)
            share = min(left, max(need - already, ZERO))
            if share:
                by_item[item].append((day, share))
                left -= share


#: the snapshot's columns of :data:`connector.reports.BUCKETS`, in the same order
_BUCKET_COLUMNS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
