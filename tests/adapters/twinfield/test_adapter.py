"""The Twinfield adapter's reading of open items and payments (against the in-process sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from connector import config as cfg
from connector.auth import open_secret_store
from connector.model import ItemKind, ItemStatus
from connector.store import Store
from tests.contract.twinfield_harness import TwinfieldHarness


@pytest.fixture
def linked(tmp_path: Path, arconnect_home: Path) -> Iterator[tuple[TwinfieldHarness, cfg.ConnectionConfig]]:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}")
    store.migrate()
    harness = TwinfieldHarness(tmp_path, store, open_secret_store())
    try:
        yield harness, harness.link()[0]
    finally:
        store.close()


def test_link_offers_every_office_of_the_organisation(linked: tuple[TwinfieldHarness, cfg.ConnectionConfig]) -> None:
    harness, _ = linked
    assert sorted(c.administration for c in harness.connections) == sorted(harness.sandbox.books)


def test_items_in_a_collection_run_are_open_but_flagged(linked: tuple[TwinfieldHarness, cfg.ConnectionConfig]) -> None:
    harness, connection = linked
    office = connection.administration
    invoice = harness.sandbox.add_invoice(office, "1003", Decimal("321.00"))
    harness.sandbox.propose(office, invoice)
    harness.sync(connection)
    stored = {i.source_id: i for i in harness.store.open_items(connection.name)}
    item = stored[f"VRK/{invoice.number}/1"]
    assert item.in_direct_debit and item.status == ItemStatus.OPEN


def test_credit_notes_and_unapplied_receipts_are_negative_items_of_their_kind(
    linked: tuple[TwinfieldHarness, cfg.ConnectionConfig],
) -> None:
    harness, connection = linked
    harness.sync(connection)
    kinds = {i.kind for i in harness.store.open_items(connection.name) if i.open.amount < 0}
    assert kinds == {ItemKind.CREDIT_NOTE, ItemKind.UNAPPLIED_PAYMENT}
    assert all(i.open.amount > 0 for i in harness.store.open_items(connection.name) if i.kind == ItemKind.INVOICE)


def test_a_payment_closes_its_invoice_and_is_stored_with_it(linked: tuple[TwinfieldHarness, cfg.ConnectionConfig]) -> None:
    harness, connection = linked
    office = connection.administration
    harness.sync(connection)
    invoice = next(ln for ln in harness.sandbox.open_lines(office) if ln.code == "VRK" and ln.value > 0 and ln.open == ln.value)
    receipt = harness.sandbox.pay(office, invoice, invoice.open)
    harness.sync(connection)
    item_id = f"VRK/{invoice.number}/1"
    closed = {i.source_id: i for i in harness.store.open_items(connection.name, include_closed=True)}[item_id]
    assert closed.status == ItemStatus.PAID and closed.closed_on == receipt.matchdate
    payment = next(p for p in harness.store.payments(connection.name) if p.source_id == f"BNK/{receipt.number}/2")
    assert payment.item_source_ids == (item_id,) and payment.amount.amount == invoice.value
