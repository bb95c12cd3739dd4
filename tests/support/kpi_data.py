"""A fixed data set for KPI tests, stored the way a sync stores it (two administrations, EUR and USD).

Hand-computed figures for March 2026 are in tests/rules/test_kpi.py (the same invoices as pure
facts): EUR countback DSO 47.0, simple DSO 41.7, best possible 31.0, CEI 72.9, days to pay 40.5,
days beyond terms 10.5; USD write-offs 20 % of sales.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from connector.model import (
    ActionKind,
    ApplyOutcome,
    ApplyResult,
    Debtor,
    ItemStatus,
    Money,
    OpenItem,
    Page,
    Payment,
    PlannedAction,
)
from connector.store import Store

NL, BE = "nl-1", "be-1"
#: a name a package might hold: it must never break out of the HTML or the terminal
HOSTILE = '</script><img src=x onerror="alert(1)">=HYPERLINK("x")'


def _item(cid: str, sid: str, debtor: str, invoiced: date, due: date, amount: str, open_amount: str,
          currency: str = "EUR", status: ItemStatus = ItemStatus.OPEN, closed: date | None = None) -> OpenItem:
    original = Money(amount=Decimal(amount), currency=currency)
    left = Money(amount=Decimal(open_amount), currency=currency)
    return OpenItem(connection_id=cid, source_id=sid, debtor_source_id=debtor, document_number=f"F-{sid}",
                    invoice_date=invoiced, due_date=due, original=original, open=left, original_base=original,
                    open_base=left, status=status, closed_on=closed)


def _pay(cid: str, sid: str, debtor: str, item: str, on: date, amount: str, currency: str = "EUR") -> Payment:
    return Payment(connection_id=cid, source_id=sid, debtor_source_id=debtor, item_source_ids=(item,), paid_on=on,
                   amount=Money(amount=Decimal(amount), currency=currency))


def fill(store: Store) -> None:
    """Both administrations, their debtors, items, payments, and two dunning steps in the journal."""
    store.ensure_connection(NL, "exact", "Bakkerij NL")
    store.ensure_connection(BE, "moneybird", "Atelier BE")
    store.save_page(NL, "debtors", Page[Debtor](records=[
        Debtor(connection_id=NL, source_id="A", code="1001", name="Jansen & Zn."),
        Debtor(connection_id=NL, source_id="B", code="1002", name="De Vries B.V."),
        Debtor(connection_id=NL, source_id="C", code="1003", name="Bakker Bouw"),
        Debtor(connection_id=NL, source_id="D", code="1004", name=HOSTILE),
    ]))
    store.save_page(BE, "debtors", Page[Debtor](records=[Debtor(connection_id=BE, source_id="E", code="2001", name="Peeters NV")]))
    store.save_page(NL, "open_items", Page[OpenItem](records=[
        _item(NL, "A1", "A", date(2026, 1, 10), date(2026, 2, 9), "62000", "32000"),
        _item(NL, "B1", "B", date(2026, 2, 15), date(2026, 3, 17), "56000", "0", status=ItemStatus.PAID, closed=date(2026, 3, 17)),
        _item(NL, "C1", "C", date(2026, 3, 5), date(2026, 4, 4), "93000", "93000"),
        _item(NL, "D1", "D", date(2026, 3, 20), date(2026, 4, 19), "8000", "8000", currency="USD"),
        _item(NL, "D2", "D", date(2026, 3, 20), date(2026, 4, 19), "2000", "0", currency="USD",
              status=ItemStatus.WRITTEN_OFF, closed=date(2026, 3, 25)),
    ], payments=[
        _pay(NL, "P1", "A", "A1", date(2026, 3, 11), "30000"),
        _pay(NL, "P2", "B", "B1", date(2026, 3, 17), "56000"),
    ]))
    store.save_page(BE, "open_items", Page[OpenItem](records=[
        _item(BE, "E1", "E", date(2026, 3, 1), date(2026, 3, 15), "31000", "31000"),
    ]))
    for key, item, day, amount in (("step-a", "A1", date(2026, 3, 2), "62000"), ("step-b", "B1", date(2026, 3, 10), "56000")):
        action = PlannedAction(
            idempotency_key=key, connection_id=NL, debtor_source_id=item[0], item_source_ids=(item,),
            kind=ActionKind.REMINDER, step="reminder", channel="email", run_date=day,
            amount=Money(amount=Decimal(amount), currency="EUR"), reason="late", details={"profile": "standard"},
        )
        store.journal_begin(action)
        store.journal_finish(key, ApplyResult(outcome=ApplyOutcome.DONE))


def fixed_clock() -> datetime:
    return datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
