"""Reports over the store's open items: aging (pure functions; rendering lives in the CLI).

Aging buckets (docs/domain.md, "What accountants measure"): not yet due, 1–30, 31–60, 61–90 and over
90 days past due, per debtor and in total, **per currency** (amounts in different currencies are
never added). Days past due are counted in calendar days from the due date (the invoice date when
an item has none) to the report date. Credit notes and unapplied payments are negative and sit in
the bucket of their own date, so a debtor's row shows what it owes net.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from connector.model import Debtor, ItemStatus, OpenItem

BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")

#: ISO 4217 currencies whose minor unit is not the cent; every other currency has two decimals.
MINOR_UNITS: dict[str, int] = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3,
    "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}


def minor_unit(currency: str) -> int:
    """Decimals of ``currency`` (ISO 4217): 2 unless listed in :data:`MINOR_UNITS`."""
    return MINOR_UNITS.get(currency.upper(), 2)


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount with exactly the currency's decimals (half up), as other tools read it: ``1234.50``."""
    places = minor_unit(currency)
    return str(amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def bucket_for(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


@dataclass
class AgingRow:
    debtor_source_id: str
    debtor_name: str
    currency: str
    buckets: dict[str, Decimal] = field(default_factory=lambda: {b: Decimal(0) for b in BUCKETS})
    items: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), Decimal(0))


@dataclass
class AgingReport:
    on: date
    rows: list[AgingRow]
    totals: dict[str, AgingRow]  # per currency

    def as_dict(self) -> dict[str, object]:
        def row(r: AgingRow) -> dict[str, object]:
            return {
                "debtor_id": r.debtor_source_id,
                "debtor": r.debtor_name,
                "currency": r.currency,
                "items": r.items,
                **{b: amount_text(r.buckets[b], r.currency) for b in BUCKETS},
                "total": amount_text(r.total, r.currency),
            }

        return {
            "on": self.on.isoformat(),
            "rows": [row(r) for r in self.rows],
            "totals": [row(t) for _, t in sorted(self.totals.items())],
        }


def aging(items: Iterable[OpenItem], debtors: Mapping[str, Debtor], on: date) -> AgingReport:
    """Aging of what is open on ``on``; paid, written-off and zero items are left out."""
    rows: dict[tuple[str, str], AgingRow] = {}
    totals: dict[str, AgingRow] = {}
    for item in items:
        if item.status not in (ItemStatus.OPEN, ItemStatus.DISPUTED) or item.open.is_zero():
            continue
        reference = item.due_date or item.invoice_date
        bucket = bucket_for((on - reference).days)
        currency = item.open.currency
        debtor = debtors.get(item.debtor_source_id)
        key = (item.debtor_source_id, currency)
        row = rows.get(key)
        if row is None:
            row = rows[key] = AgingRow(item.debtor_source_id, debtor.name if debtor else item.debtor_source_id, currency)
        row.buckets[bucket] += item.open.amount
        row.items += 1
        total = totals.get(currency)
        if total is None:
            total = totals[currency] = AgingRow("*", "Total", currency)
        total.buckets[bucket] += item.open.amount
        total.items += 1
    ordered = sorted(rows.values(), key=lambda r: (r.currency, -r.total, r.debtor_name, r.debtor_source_id))
    return AgingReport(on=on, rows=ordered, totals=totals)
