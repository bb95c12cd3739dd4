"""History for KPIs: Moneybird's sync reads only unpaid invoices, so the settled ones of the last
13 months are read once, with their payments (docs/reference/legal-and-kpi.md §4)."""

from __future__ import annotations

from datetime import date

from adapters.moneybird.mapping import settled_filter
from connector.model import ItemStatus
from tests.adapters.moneybird.conftest import CONNECTION, NL, Rig


def test_the_settled_filter_names_the_last_13_months_explicitly() -> None:
    assert settled_filter(date(2026, 12, 5)) == "state:paid|uncollectible,period:202511..202712"
    assert settled_filter(date(2026, 1, 31)) == "state:paid|uncollectible,period:202412..202712"


def test_settled_invoices_of_the_last_13_months_arrive_with_their_payments(rig: Rig) -> None:
    rig.sync()
    before = {i.source_id for i in rig.store.open_items(CONNECTION, include_closed=True)}
    today = rig.sandbox.today()
    first = date(today.year - (1 if today.month > 1 else 2), (today.month - 2) % 12 + 1, 1)
    wanted = {
        i for i in rig.sandbox.invoice_ids(NL, states=("paid", "uncollectible"))
        if date.fromisoformat(str(rig.sandbox.invoice(NL, i)["invoice_date"])) >= first
    }
    assert wanted - before  # the sync alone does not have them
    for page in rig.adapter().settled_history():
        rig.store.save_page(CONNECTION, "open_items", page)
    stored = {i.source_id: i for i in rig.store.open_items(CONNECTION, include_closed=True)}
    assert wanted <= set(stored)
    assert {stored[i].status for i in wanted} <= {ItemStatus.PAID, ItemStatus.WRITTEN_OFF}
    paid_items = {i for p in rig.store.payments(CONNECTION) for i in p.item_source_ids}
    assert {i for i in wanted if stored[i].status == ItemStatus.PAID} <= paid_items
    # The unpaid ones are untouched, and the next sync does not take the history away.
    rig.sync()
    assert wanted <= {i.source_id for i in rig.store.open_items(CONNECTION, include_closed=True)}
