"""Small builders for rules tests: debtors, items and rules text, written out in each test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from connector.model import (
    ActionKind,
    Debtor,
    DebtorKind,
    ItemKind,
    ItemStatus,
    Money,
    OpenItem,
    PlannedAction,
)
from rules.loading import parse_rules
from rules.schema import Rules
from rules.snapshot import Snapshot

CID = "conn"

CREDITOR_NL = """
creditor:
  name: Test BV
  coc_number: "12345678"
  iban: NL91ABNA0417164300
"""


def debtor(source_id: str = "D1", kind: DebtorKind = DebtorKind.BUSINESS, **extra: object) -> Debtor:
    data: dict[str, object] = {"connection_id": CID, "source_id": source_id, "name": f"Debtor {source_id}", "kind": kind}
    data.setdefault("code", source_id.lstrip("D") or "1")
    data.update(extra)
    return Debtor.model_validate(data)


def item(
    source_id: str,
    amount: str,
    due: date,
    *,
    debtor_id: str = "D1",
    invoice_date: date | None = None,
    kind: ItemKind = ItemKind.INVOICE,
    status: ItemStatus = ItemStatus.OPEN,
    currency: str = "EUR",
    **extra: object,
) -> OpenItem:
    money = Money(amount=Decimal(amount), currency=currency)
    base = Money(amount=Decimal(amount), currency="EUR")
    return OpenItem(
        connection_id=CID,
        source_id=source_id,
        debtor_source_id=debtor_id,
        document_number=source_id.lstrip("I") or "1",
        kind=kind,
        invoice_date=invoice_date or due,
        due_date=due,
        original=money,
        open=money,
        original_base=base,
        open_base=base,
        status=status,
        **extra,
    )


def done(action: PlannedAction, on: date | None = None) -> tuple[PlannedAction, str]:
    """A planned action as the journal keeps it after it was applied (on its run date or ``on``)."""
    if on is not None:
        action = action.model_copy(update={"run_date": on})
    return action, "done"


def journal_step(
    item_ids: tuple[str, ...], step: str, on: date, *, profile: str = "p", debtor_id: str = "D1",
    kind: ActionKind = ActionKind.REMINDER, channel: str = "email", state: str = "done",
) -> tuple[PlannedAction, str]:
    action = PlannedAction(
        idempotency_key=f"k-{profile}-{step}-{','.join(item_ids)}-{on}",
        connection_id=CID,
        debtor_source_id=debtor_id,
        item_source_ids=item_ids,
        kind=kind,
        step=step,
        channel=channel,
        run_date=on,
        reason="earlier run",
        details={"profile": profile},
    )
    return action, state


def rules(body: str, creditor: str = CREDITOR_NL) -> Rules:
    return parse_rules("version: 1\n" + creditor + body)


def snapshot(
    debtors: list[Debtor], items: list[OpenItem], journal: list[tuple[PlannedAction, str]] | None = None, **extra: Any
) -> Snapshot:
    return Snapshot.from_models(connection_id=CID, debtors=debtors, items=items, journal=journal or [], **extra)
