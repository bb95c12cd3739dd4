"""Small builders of common-model records for the store tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from connector.model import (
    ActionKind,
    Debtor,
    ItemStatus,
    Money,
    OpenItem,
    Page,
    Payment,
    PlannedAction,
)


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def debtor(connection_id: str, source_id: str, **fields: Any) -> Debtor:
    values: dict[str, Any] = {"connection_id": connection_id, "source_id": source_id, "name": f"Debtor {source_id}"}
    values.update(fields)
    return Debtor(**values)


def item(connection_id: str, source_id: str, open_amount: str = "100.0000", **fields: Any) -> OpenItem:
    values: dict[str, Any] = {
        "connection_id": connection_id,
        "source_id": source_id,
        "debtor_source_id": "D1",
        "invoice_date": date(2025, 1, 10),
        "due_date": date(2025, 2, 9),
        "original": eur("100.0000"),
        "open": eur(open_amount),
        "original_base": eur("100.0000"),
        "open_base": eur(open_amount),
    }
    values.update(fields)
    return OpenItem(**values)


def paid(record: OpenItem, on: date) -> OpenItem:
    zero = Money.zero(record.open.currency)
    return record.model_copy(
        update={"status": ItemStatus.PAID, "closed_on": on, "open": zero, "open_base": Money.zero(record.open_base.currency)}
    )


def payment(connection_id: str, source_id: str, *items: str, amount: str = "100.0000") -> Payment:
    return Payment(
        connection_id=connection_id,
        source_id=source_id,
        debtor_source_id="D1",
        item_source_ids=tuple(items),
        paid_on=date(2025, 2, 1),
        amount=eur(amount),
    )


def action(connection_id: str, key: str, kind: ActionKind = ActionKind.REMINDER) -> PlannedAction:
    return PlannedAction(
        idempotency_key=key,
        connection_id=connection_id,
        debtor_source_id="D1",
        item_source_ids=("I1", "I2"),
        kind=kind,
        step="reminder-1",
        channel="email",
        template="reminder_1",
        language="nl",
        run_date=date(2025, 3, 3),
        amount=eur("200.0000"),
        reason="I1 and I2 are 14 days late",
        details={"segment": "business"},
    )


def page(records: list[Any], **fields: Any) -> Page[Any]:
    return Page(records=records, **fields)
