"""Aging: buckets by days past due, per debtor and per currency."""

from datetime import date
from decimal import Decimal

import pytest

from connector.model import Debtor, ItemKind, ItemStatus, Money, OpenItem
from connector.reports import aging, bucket_for

ON = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-5, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "90+")],
)
def test_bucket_boundaries(days: int, bucket: str) -> None:
    assert bucket_for(days) == bucket


def item(source_id: str, debtor: str, due: date, amount: str, currency: str = "EUR", **kw: object) -> OpenItem:
    money = Money.of(amount, currency)
    return OpenItem(
        connection_id="c", source_id=source_id, debtor_source_id=debtor, invoice_date=date(2026, 1, 1), due_date=due,
        original=money, open=money, original_base=Money.of(amount, "EUR"), open_base=Money.of(amount, "EUR"), **kw,  # type: ignore[arg-type]
    )


def test_aging_per_debtor_and_currency() -> None:
    debtors = {"d1": Debtor(connection_id="c", source_id="d1", name="Jansen Bouw B.V."), "d2": Debtor(connection_id="c", source_id="d2", name="Sanne Visser")}
    items = [
        item("i1", "d1", date(2026, 11, 30), "100.00"),  # not yet due
        item("i2", "d1", date(2026, 11, 14), "250.50"),  # 10 days
        item("i3", "d1", date(2026, 8, 1), "99.99"),  # 115 days
        item("c1", "d1", date(2026, 11, 14), "-50.50", kind=ItemKind.CREDIT_NOTE),
        item("i4", "d2", date(2026, 10, 1), "40.00"),  # 54 days
        item("i5", "d2", date(2026, 10, 1), "70.00", currency="USD"),
        item("p1", "d2", date(2026, 10, 1), "999.00", status=ItemStatus.PAID),
    ]
    report = aging(items, debtors, ON)
    by_key = {(r.debtor_source_id, r.currency): r for r in report.rows}
    jansen = by_key[("d1", "EUR")]
    assert jansen.buckets == {"current": Decimal("100.00"), "1-30": Decimal("200.00"), "31-60": 0, "61-90": 0, "90+": Decimal("99.99")}
    assert jansen.total == Decimal("399.99")
    assert by_key[("d2", "EUR")].buckets["31-60"] == Decimal("40.00")
    assert by_key[("d2", "USD")].total == Decimal("70.00")
    assert report.totals["EUR"].total == Decimal("439.99")
    assert report.totals["USD"].total == Decimal("70.00")
    assert report.as_dict()["totals"] == [
        {"debtor_id": "*", "debtor": "Total", "currency": "EUR", "items": 5, "current": "100.00", "1-30": "200.00", "31-60": "40.00", "61-90": "0.00", "90+": "99.99", "total": "439.99"},
        {"debtor_id": "*", "debtor": "Total", "currency": "USD", "items": 1, "current": "0.00", "1-30": "0.00", "31-60": "70.00", "61-90": "0.00", "90+": "0.00", "total": "70.00"},
    ]
