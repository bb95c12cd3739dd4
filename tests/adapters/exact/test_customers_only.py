"""Only accounts that can owe us become debtors (issue 16 point 3; docs/reference/exact.md §6).

In real Exact data a third of the accounts are suppliers or have no customer status (``IsSales`` false,
``Status`` not C). They must never show up in aging, KPIs or letters, unless they owe us money: an account
with an open receivable is a debtor whatever its status.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.adapters.exact.conftest import DIVISION, TODAY, Rig, assert_store_equals_truth

#: Issue 16 point 5: on the tidy and on the realistic sandbox.
pytestmark = pytest.mark.parametrize("rig", [False, True], indirect=True, ids=["tidy", "realistic"])


def suppliers(rig: Rig) -> list[str]:
    return [str(a["ID"]) for a in rig.app.accounts(DIVISION) if a["IsSupplier"] and not a["IsSales"]]


def debtor_ids(rig: Rig) -> set[str]:
    return {d.source_id for d in rig.store.debtors("exact-101")}


def test_suppliers_without_receivables_are_not_debtors(rig: Rig) -> None:
    rig.sync()
    assert suppliers(rig)
    assert not debtor_ids(rig) & set(suppliers(rig))
    customers = [str(a["ID"]) for a in rig.app.accounts(DIVISION) if a["Status"].strip() == "C"]
    assert set(customers) <= debtor_ids(rig)
    assert_store_equals_truth(rig)


def test_a_supplier_that_owes_us_is_a_debtor_until_its_last_open_item_is_paid(rig: Rig) -> None:
    supplier = suppliers(rig)[0]
    rig.sync()
    term = rig.app.add_invoice(DIVISION, supplier, "250.00", TODAY, TODAY + timedelta(days=14))
    rig.sync()
    assert supplier in debtor_ids(rig)
    item = next(i for i in rig.store.open_items("exact-101") if i.debtor_source_id == supplier)
    assert item.open.amount == 250
    assert_store_equals_truth(rig)

    rig.app.pay(DIVISION, term, "250.00")
    rig.sync()
    assert supplier not in debtor_ids(rig)
    assert_store_equals_truth(rig)


def test_a_supplier_with_an_open_receivable_is_a_debtor_from_the_first_sync(rig: Rig) -> None:
    supplier = suppliers(rig)[1]
    rig.app.add_invoice(DIVISION, supplier, "99.95", TODAY, TODAY + timedelta(days=30))
    rig.sync()
    assert supplier in debtor_ids(rig)
    assert_store_equals_truth(rig)


def test_a_customer_that_stops_being_one_leaves_the_debtors_unless_it_owes_us(rig: Rig) -> None:
    rig.sync()
    customers = [str(a["ID"]) for a in rig.app.accounts(DIVISION) if a["Status"].strip() == "C"]
    quiet, busy = customers[0], customers[1]
    for term in rig.app.open_terms(DIVISION):  # quiet pays everything it owes
        if str(term["Account"]) == quiet:
            rig.app.pay(DIVISION, str(term["ID"]), abs(term["AmountFC"]))
    assert any(str(t["Account"]) == busy for t in rig.app.open_terms(DIVISION))
    for ident in (quiet, busy):
        rig.app.update_account(DIVISION, ident, Status="A", IsSales=False)
    rig.sync()
    assert quiet not in debtor_ids(rig)
    assert busy in debtor_ids(rig)
    assert_store_equals_truth(rig)
