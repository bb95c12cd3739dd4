"""The hand-over file for ``collection_handover``: the whole claim, as JSON and CSV.

What a collection agency needs (docs/reference/legal-and-kpi.md §3.4: the agency must be able to prove
what was stated and when): the creditor, the debtor with contact details, each item (principal),
the costs and interest with their explanation, the total, and the history of every step taken
(date, step, channel, outcome) from the journal.

Files: ``<dir>/<date>-<debtor>-<key digest>.json`` and ``.csv`` (one line per item, the claim totals
repeated). Write-once: a file that is already there means the claim was handed over before.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connector.actions.channels.files import key_digest, safe_name, write_atomic
from connector.escaping import csv_row
from connector.model import Debtor, Money, PlannedAction
from rules.letters import CreditorFacts, items_from_details


class HistoryLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    date: date
    step: str | None
    kind: str
    channel: str | None
    outcome: str
    reference: str | None = None


class Claim(BaseModel):
    model_config = ConfigDict(frozen=True)

    handed_over_on: date
    idempotency_key: str
    creditor: CreditorFacts
    debtor: dict[str, Any]
    items: list[dict[str, str]]
    principal: Money
    costs: Money
    interest: Money
    total: Money
    costs_explanation: list[str] = Field(default_factory=list)
    interest_explanation: list[str] = Field(default_factory=list)
    payment_reference: str | None = None
    history: list[HistoryLine] = Field(default_factory=list)


def build_claim(action: PlannedAction, debtor: Debtor | None, creditor: CreditorFacts, history: Sequence[HistoryLine]) -> Claim:
    principal = action.amount or Money.zero("EUR")
    currency = principal.currency
    costs = action.costs if action.costs is not None else Money.zero(currency)
    interest = action.interest if action.interest is not None else Money.zero(currency)
    items = [
        {
            "document_number": item.document_number,
            "invoice_date": item.invoice_date.isoformat() if item.invoice_date else "",
            "due_date": item.due_date.isoformat() if item.due_date else "",
            "open": str(item.open.amount),
            "currency": item.open.currency,
            "days_overdue": "" if item.days_overdue is None else str(item.days_overdue),
        }
        for item in items_from_details(action.details, currency)
    ]
    if not items:
        items = [{"source_id": source_id} for source_id in action.item_source_ids]
    total = principal
    for extra in (costs, interest):
        if extra.currency == currency:
            total = total + extra
    return Claim(
        handed_over_on=action.run_date,
        idempotency_key=action.idempotency_key,
        creditor=creditor,
        debtor={
            "source_id": action.debtor_source_id,
            "code": debtor.code if debtor else None,
            "name": debtor.name if debtor else None,
            "kind": debtor.kind.value if debtor else None,
            "country": debtor.country if debtor else None,
            "emails": list(debtor.emails) if debtor else [],
            "phone": debtor.phone if debtor else None,
            "vat_number": debtor.vat_number if debtor else None,
            "coc_number": debtor.coc_number if debtor else None,
        },
        items=items,
        principal=principal,
        costs=costs,
        interest=interest,
        total=total,
        costs_explanation=[x for x in (action.details.get("costs_explanation") or "").splitlines() if x],
        interest_explanation=[x for x in (action.details.get("interest_explanation") or "").splitlines() if x],
        payment_reference=action.details.get("payment_reference") or None,
        history=list(history),
    )


def claim_csv(claim: Claim) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["debtor_code", "debtor", "document_number", "invoice_date", "due_date", "open", "currency",
                     "claim_principal", "claim_costs", "claim_interest", "claim_total", "payment_reference"])
    for item in claim.items:
        writer.writerow(csv_row([
            claim.debtor.get("code") or "", claim.debtor.get("name") or "", item.get("document_number", item.get("source_id", "")),
            item.get("invoice_date", ""), item.get("due_date", ""), item.get("open", ""), item.get("currency", ""),
            _amount(claim.principal.amount), _amount(claim.costs.amount), _amount(claim.interest.amount),
            _amount(claim.total.amount), claim.payment_reference or "",
        ]))
    return buffer.getvalue()


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def handover_paths(directory: Path, claim: Claim) -> tuple[Path, Path]:
    stem = f"{claim.handed_over_on.isoformat()}-{safe_name(str(claim.debtor.get('code') or claim.debtor['source_id']))}-{key_digest(claim.idempotency_key)}"
    return directory / f"{stem}.json", directory / f"{stem}.csv"


def write_claim(directory: Path, claim: Claim) -> tuple[Path, bool]:
    """Write JSON and CSV; returns the JSON path and whether it was new (write-once)."""
    json_path, csv_path = handover_paths(directory, claim)
    if json_path.exists() and csv_path.exists():
        return json_path, False
    write_atomic(csv_path, claim_csv(claim))
    write_atomic(json_path, json.dumps(claim.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
    return json_path, True
