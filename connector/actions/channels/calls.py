"""The call list for ``call_task`` steps: who to phone, about what, from the journal.

Each call task also appends one row to ``<dir>/<connection>.csv`` (write-once per idempotency key)
so a team without arconnect's CLI can open the list in a spreadsheet (every cell neutralised against
formula injection, :func:`connector.escaping.csv_cell`). ``arconnect report calls`` reads the journal
instead, which is the record of truth.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from connector.config import open_private, private_dir
from connector.escaping import csv_cell, csv_row
from connector.model import Debtor, PlannedAction

COLUMNS = ("date", "debtor_code", "debtor", "phone", "amount", "currency", "items", "reason", "key")


@dataclass(frozen=True)
class CallRow:
    date: str
    debtor_code: str
    debtor: str
    phone: str
    amount: str
    currency: str
    items: str
    reason: str
    key: str

    def values(self) -> list[str]:
        """The row as CSV cells: text a spreadsheet would run as a formula starts with ``'``."""
        return csv_row(getattr(self, c) for c in COLUMNS)


def call_row(action: PlannedAction, debtor: Debtor | None) -> CallRow:
    items: list[str] = []
    try:
        for row in json.loads(action.details.get("items") or "[]"):
            if isinstance(row, dict):
                items.append(str(row.get("document_number") or row.get("source_id") or ""))
    except ValueError:
        items = list(action.item_source_ids)
    if not items:
        items = list(action.item_source_ids)
    return CallRow(
        date=action.run_date.isoformat(),
        debtor_code=(debtor.code if debtor and debtor.code else "") or "",
        debtor=debtor.name if debtor else action.debtor_source_id,
        phone=(debtor.phone if debtor else None) or "",
        amount=f"{action.amount.amount:.2f}" if action.amount else "",
        currency=action.amount.currency if action.amount else "",
        items=" ".join(i for i in items if i),
        reason=action.reason,
        key=action.idempotency_key,
    )


def _keys_in(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with path.open(encoding="utf-8", newline="") as handle:
        return {row.get("key", "") for row in csv.DictReader(handle)}


def append_call(path: Path, row: CallRow) -> bool:
    """Append the row unless its key is already in the file; returns whether it was added."""
    if csv_cell(row.key) in _keys_in(path):
        return False
    private_dir(path.parent)
    new_file = not path.exists()
    with os.fdopen(open_private(path, os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new_file:
            writer.writerow(COLUMNS)
        writer.writerow(row.values())
        handle.flush()
    return True


def to_csv(rows: Iterable[CallRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.values())
    return buffer.getvalue()
