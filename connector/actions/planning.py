"""Plan one connection: its rules file + a snapshot of the store + the run date → planned actions.

The I/O edge of planning. :func:`build_snapshot` reads what :func:`rules.engine.plan` needs in a
few streamed queries (one per table, scoped by connection id) straight into the snapshot's slotted
objects: for a million open items this avoids validating a pydantic model per row, which would
cost more than the planning itself. Only the journal is read through the store's own API, so the
history is exactly what write-back recorded.

Nothing is written: ``arconnect plan`` is a dry run; ``arconnect apply`` plans the same way and
applies the result through the journal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from connector import config as cfg
from connector.config import ConnectionConfig
from connector.errors import ConfigError
from connector.model import PlannedAction
from connector.packages import package_spec
from connector.ports import Capability
from connector.store import Store
from connector.store import tables as t
from connector.store.desk import Desk
from rules.engine import classify_debtors, plan, unknown_treatment
from rules.loading import load_rules
from rules.schema import Rules
from rules.snapshot import SnapDebtor, SnapItem, Snapshot, average_days_late

OPEN_STATUSES = ("open", "disputed")


@dataclass
class PlanResult:
    actions: list[PlannedAction]
    warnings: list[str]
    rules: Rules
    debtors: int = 0
    items: int = 0
    #: debtor id → "code name", for tables
    debtor_names: dict[str, str] = field(default_factory=dict)
    #: the administration's (creditor's) country: a letter under another country's law says so
    country: str = "NL"
    #: debtors of unknown kind (issue 10 point 10): how many, why, how they are treated and who says so
    unknown: int = 0
    unknown_reasons: dict[str, int] = field(default_factory=dict)
    unknown_as: str = "consumer"
    unknown_setting: str = "the default"

    def unknown_summary(self) -> str | None:
        """One line for ``plan``: how many debtors are of unknown kind, why, and how they are treated."""
        if not self.unknown:
            return None
        why = "; ".join(
            f"{count}: {reason.split(';')[0].removeprefix('unknown: ')}" for reason, count in sorted(self.unknown_reasons.items())
        )
        return (
            f"{self.unknown} of {self.debtors} debtor(s) of unknown kind ({why}): treated as {self.unknown_as} "
            f"({self.unknown_setting}); set a debtor's kind in the rules file (debtors.kinds) where you know it"
        )


def legal_notes(action: PlannedAction, country: str) -> list[str]:
    """What ``plan`` says about the law behind one action (issue 10 points 9, 10, 12): the law that
    applied when it is not the administration's, a rate that is not verified, a debtor of unknown kind."""
    details = action.details
    notes: list[str] = []
    law = details.get("law_country")
    if law and law != country:
        notes.append(details.get("law") or f"{law} law")
    status = details.get("rate_status")
    if status:
        note = f"interest rate {status}"
        if status == "unverified":
            accepted = details.get("unverified_rate_accepted") == "true"
            note += " (accepted by the rules file)" if accepted else ": apply will not send this letter"
        elif status == "computed":
            note += " from the statutory method, publication not seen"
        notes.append(note)
    flags = details.get("flags", "").split(",")
    if "unknown_kind" in flags:
        notes.append(f"unknown kind, treated as {details.get('debtor_kind', 'consumer')}")
    return notes


def rules_path(connection: ConnectionConfig) -> Path:
    """The connection's rules file (a relative path is relative to the config dir)."""
    if not connection.rules_file:
        raise ConfigError(
            f"connection {connection.name!r} has no rules file: set rules_file in {cfg.config_path()} "
            "(start from rules/examples/nl-practice.yaml or be-practice.yaml)"
        )
    path = Path(connection.rules_file).expanduser()
    return path if path.is_absolute() else cfg.config_dir() / path


def warnings_for(connection: ConnectionConfig, rules: Rules) -> list[str]:
    warnings: list[str] = list(package_spec(connection.package).plan_warnings(connection))
    if (connection.reminders_sent_by or rules.reminders_sent_by) == "package":
        warnings.append("reminders are sent by the package: dunning steps are not planned, only credit limits")
    return warnings


def _debtors(conn: sa.Connection, connection_id: str, late: dict[str, Decimal]) -> dict[str, SnapDebtor]:
    d = t.debtors.c
    statement = sa.select(
        d.source_id, d.code, d.name, d.kind, d.country, d.language, d.blocked,
        d.credit_limit_amount, d.credit_limit_currency, d.data,
    ).where(d.connection_id == connection_id, d.deleted_at.is_(None)).order_by(d.source_id)
    out: dict[str, SnapDebtor] = {}
    for row in conn.execute(statement):
        data: dict[str, Any] = row.data or {}
        out[row.source_id] = SnapDebtor(
            source_id=row.source_id,
            code=row.code,
            name=row.name,
            kind=row.kind,
            country=(row.country or "").upper() or None,
            language=(row.language or "").lower()[:2] or None,
            tags=frozenset(data.get("tags") or ()),
            blocked=bool(row.blocked),
            credit_limit=row.credit_limit_amount,
            credit_limit_currency=row.credit_limit_currency,
            avg_days_late=late.get(row.source_id),
            vat_number=data.get("vat_number") or None,
            coc_number=data.get("coc_number") or None,
        )
    return out


def build_snapshot(
    store: Store, connection: ConnectionConfig, run_date: date, *, reminders_sent_by: str | None = None
) -> Snapshot:
    """Read everything the engine needs for one connection on ``run_date``."""
    cid = connection.name
    i = t.open_items.c
    p = t.payments.c
    by_debtor: dict[str, list[SnapItem]] = defaultdict(list)
    due_dates: dict[str, date] = {}
    with store.engine.connect() as conn:
        items = sa.select(
            i.source_id, i.debtor_source_id, i.document_number, i.kind, i.invoice_date, i.due_date, i.currency,
            i.open_amount, i.base_currency, i.open_base_amount, i.status, i.in_direct_debit, i.payment_reference,
            # what the invoice is for (kept in the model's JSON; Book XIX letters name it)
            i.data["description"].as_string().label("description"),
        ).where(i.connection_id == cid, i.deleted_at.is_(None))
        # Grouped by debtor (index ix_open_items_debtor): a debtor's items are then allocated
        # together, which the engine's pass over a million items notices (cache locality), and
        # each debtor's list is in due-date order.
        items = items.order_by(i.debtor_source_id, i.due_date, i.source_id)
        shared: dict[Any, Any] = {}  # one object per repeated value (currencies, kinds, debtor ids, dates)
        for row in conn.execution_options(yield_per=5000).execute(items):
            due = shared.setdefault(row.due_date or row.invoice_date, row.due_date or row.invoice_date)
            due_dates[row.source_id] = due
            if row.status not in OPEN_STATUSES:
                continue
            debtor_id = shared.setdefault(row.debtor_source_id, row.debtor_source_id)
            amount = row.open_amount
            base = row.open_base_amount
            by_debtor[debtor_id].append(
                SnapItem(
                    source_id=row.source_id,
                    debtor_id=debtor_id,
                    document_number=row.document_number,
                    kind=shared.setdefault(row.kind, row.kind),
                    invoice_date=shared.setdefault(row.invoice_date, row.invoice_date),
                    due_date=due,
                    currency=shared.setdefault(row.currency, row.currency),
                    open=amount,
                    base_currency=shared.setdefault(row.base_currency, row.base_currency),
                    open_base=amount if base == amount else base,
                    disputed=row.status == "disputed",
                    in_direct_debit=bool(row.in_direct_debit),
                    payment_reference=row.payment_reference,
                    description=row.description or None,
                )
            )
        payments = sa.select(p.debtor_source_id, p.item_source_ids, p.paid_on, p.amount).where(
            p.connection_id == cid, p.deleted_at.is_(None)
        )
        late = average_days_late(
            ((r.debtor_source_id, r.item_source_ids or (), r.paid_on, r.amount) for r in conn.execute(payments)),
            due_dates,
        )
        debtors = _debtors(conn, cid, late)
    desk = Desk(store)
    snapshot = Snapshot(
        connection_id=cid,
        package=connection.package,
        country=connection.country,
        base_currency=connection.currency,
        debtors=debtors,
        items_by_debtor=dict(by_debtor),
        # Disputes pause until resolved or past their review date (then the call list has them).
        disputed_items=frozenset(desk.paused_by_disputes(cid, run_date)),
        items_under_plan=frozenset(store.items_under_plan(cid, run_date)),
        blocks_by_us=frozenset(store.blocks_by_us(cid)),
        reminders_sent_by=reminders_sent_by,
        unknown_as=connection.unknown_as,
        pauses_source_reminders=Capability.PAUSE_SOURCE_REMINDERS in package_spec(connection.package).capabilities,
    )
    snapshot.resume_at = desk.resume_at(cid)
    for entry in store.journal(cid):
        snapshot.add_journal(entry.action, entry.state.value)
    return snapshot


def plan_connection(connection: ConnectionConfig, store: Store, run_date: date) -> PlanResult:
    """Plan one connection with its rules file; raises RulesError / ConfigError on bad input."""
    rules = load_rules(rules_path(connection))
    snapshot = build_snapshot(store, connection, run_date, reminders_sent_by=connection.reminders_sent_by)
    actions = plan(snapshot, rules, run_date)
    wanted = {a.debtor_source_id for a in actions}
    unknown = [c for c in classify_debtors(snapshot, rules).values() if c.kind == "unknown"]
    treated, setting = unknown_treatment(snapshot, rules)
    return PlanResult(
        country=connection.country,
        unknown=len(unknown),
        unknown_reasons=dict(Counter(c.reason for c in unknown)),
        unknown_as=treated,
        unknown_setting=setting,
        actions=actions,
        warnings=warnings_for(connection, rules),
        rules=rules,
        debtors=len(snapshot.debtors),
        items=snapshot.item_count(),
        debtor_names={
            d.source_id: f"{d.code or ''} {d.name}".strip() for d in snapshot.debtors.values() if d.source_id in wanted
        },
    )
