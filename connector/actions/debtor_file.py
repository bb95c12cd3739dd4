"""A debtor's file: everything the store knows about one debtor, for ``arconnect debtor CODE``.

The debtor's data from the package; open items with days late and status (disputed, promised,
under plan, in collection); payment history with days to pay and days beyond terms; every action
arconnect took or planned with its date and outcome (the journal); disputes, promises, plans; the
credit limit and the block with its reason. Plain data (JSON-ready); the CLI renders it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from connector.errors import ConfigError
from connector.model import ActionKind
from connector.store import Store
from connector.store.desk import AgreementRow, Desk, DisputeRow
from rules.desk import AgreementState


def _agreement(a: AgreementRow) -> dict[str, Any]:
    return {
        "id": a.id, "kind": a.kind, "state": a.state, "agreed_on": a.agreed_on.isoformat(),
        "currency": a.currency, "amount": str(a.amount) if a.amount is not None else None,
        "costs": str(a.costs) if a.costs is not None else None, "grace_days": a.grace_days,
        "closed_on": a.closed_on.isoformat() if a.closed_on else None, "items": list(a.item_source_ids),
        "schedule": [{"due": i.due.isoformat(), "amount": str(i.amount)} for i in a.schedule], "note": a.note,
    }


def _dispute(d: DisputeRow) -> dict[str, Any]:
    return {
        "id": d.id, "item": d.item_source_id, "whole_debtor": d.item_source_id is None, "category": d.category,
        "reason": d.reason, "note": d.note, "opened_on": d.opened_on.isoformat(),
        "review_on": d.review_on.isoformat() if d.review_on else None,
        "resolved_on": d.resolved_on.isoformat() if d.resolved_on else None, "source": d.source,
    }


def debtor_file(store: Store, connection_id: str, code_or_id: str, today: date) -> dict[str, Any]:
    desk = Desk(store)
    source_id = desk.find_debtor(connection_id, code_or_id)
    debtor = store.debtor(connection_id, source_id)
    if debtor is None:
        raise ConfigError(f"no debtor {code_or_id!r} in {connection_id}")
    disputes = desk.disputes(connection_id, debtor=source_id)
    agreements = desk.agreements(connection_id, debtor=source_id)
    journal = [e for e in store.journal(connection_id) if e.action.debtor_source_id == source_id]
    disputed = {d.item_source_id for d in disputes if d.resolved_on is None and d.item_source_id}
    whole_dispute = any(d.resolved_on is None and d.item_source_id is None for d in disputes)
    active = [a for a in agreements if a.state == AgreementState.ACTIVE]
    promised = {i for a in active if a.kind == "promise" for i in a.item_source_ids}
    planned = {i for a in active if a.kind == "plan" for i in a.item_source_ids}
    in_collection = {
        i for e in journal if e.action.kind == ActionKind.COLLECTION_HANDOVER and e.state.value in ("done", "already_true")
        for i in e.action.item_source_ids
    }
    items = []
    for row in desk.open_items_of(connection_id, source_id):
        status = []
        if row.status == "disputed" or row.source_id in disputed or whole_dispute:
            status.append("disputed")
        if row.source_id in promised:
            status.append("promised")
        if row.source_id in planned:
            status.append("under plan")
        if row.source_id in in_collection:
            status.append("in collection")
        due = row.due_date or row.invoice_date
        items.append({
            "id": row.source_id, "document": row.document_number, "kind": row.kind,
            "invoice_date": row.invoice_date.isoformat(), "due_date": due.isoformat(), "currency": row.currency,
            "original": str(row.original_amount), "open": str(row.open_amount), "days_late": max(0, (today - due).days),
            "status": status or ["open"],
        })
    dues = _due_dates(store, connection_id, source_id)
    payments = []
    for p in sorted(store.payments(connection_id), key=lambda p: p.paid_on, reverse=True):
        if p.debtor_source_id != source_id:
            continue
        known = [dues[i] for i in p.item_source_ids if i in dues]
        payments.append({
            "id": p.source_id, "paid_on": p.paid_on.isoformat(), "currency": p.amount.currency, "amount": str(p.amount.amount),
            "items": list(p.item_source_ids),
            "days_to_pay": (p.paid_on - max(k[0] for k in known)).days if known else None,
            "days_beyond_terms": max(0, (p.paid_on - max(k[1] for k in known)).days) if known else None,
        })
    actions = [{
        "date": e.action.run_date.isoformat(), "kind": e.action.kind.value, "step": e.action.step, "channel": e.action.channel,
        "effect": e.idempotency_key.partition("#")[2] or None,
        "items": list(e.action.item_source_ids), "state": e.state.value,
        "amount": str(e.action.amount) if e.action.amount else None, "reason": e.action.reason,
        "outcome": e.reason or e.remote_reference,
    } for e in journal]
    notes = [a for a in actions if a["kind"] == ActionKind.ADD_NOTE.value]
    block = desk.block(connection_id, source_id)
    limit = debtor.credit_limit
    total: dict[str, Decimal] = {}
    for item in items:
        total[item["currency"]] = total.get(item["currency"], Decimal(0)) + Decimal(item["open"])
    return {
        "connection": connection_id,
        "debtor": {
            "id": debtor.source_id, "code": debtor.code, "name": debtor.name, "kind": debtor.kind.value,
            "country": debtor.country, "language": debtor.language, "emails": list(debtor.emails), "phone": debtor.phone,
            "vat_number": debtor.vat_number, "coc_number": debtor.coc_number,
            "payment_terms_days": debtor.payment_terms_days,
        },
        "credit": {
            "limit": str(limit) if limit else None,
            "blocked": debtor.blocked or block is not None,
            "blocked_by": block[0] if block else ("package" if debtor.blocked else None),
            "block_reason": block[1] if block else None,
            "blocked_since": block[2].isoformat() if block else None,
        },
        "open_total": {c: str(a) for c, a in sorted(total.items())},
        "items": items,
        "payments": payments,
        "actions": actions,
        "notes": notes,
        "disputes": [_dispute(d) for d in disputes],
        "promises": [_agreement(a) for a in agreements if a.kind == "promise"],
        "plans": [_agreement(a) for a in agreements if a.kind == "plan"],
    }


def _due_dates(store: Store, connection_id: str, debtor: str) -> dict[str, tuple[date, date]]:
    """item id → (invoice date, due date), closed items included (payments name them)."""
    out: dict[str, tuple[date, date]] = {}
    for item in store.open_items(connection_id, include_closed=True):
        if item.debtor_source_id == debtor:
            out[item.source_id] = (item.invoice_date, item.due_date or item.invoice_date)
    return out
