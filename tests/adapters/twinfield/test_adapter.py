"""The Twinfield adapter's reading of open items and payments (against the in-process sandbox)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.twinfield.sandbox_finder import search
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


def test_offices_link_with_their_country_from_the_office_finder(
    linked: tuple[TwinfieldHarness, cfg.ConnectionConfig],
) -> None:
    harness, _ = linked
    countries = {c.administration: (c.country, c.timezone) for c in harness.connections}
    assert countries == {code: (book.spec.country, "Europe/Brussels" if book.spec.country == "BE" else "Europe/Amsterdam")
                         for code, book in harness.sandbox.books.items()}
    assert "BE" in {c for c, _ in countries.values()}


def test_a_refused_office_finder_costs_the_country_not_the_link(
    linked: tuple[TwinfieldHarness, cfg.ConnectionConfig], monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness, _ = linked
    refusal = search(harness.sandbox.books, ET.fromstring('<Search xmlns="http://www.twinfield.com/"><type>NONE</type></Search>'))
    monkeypatch.setattr("adapters.twinfield.sandbox.search", lambda books, body: refusal)
    relinked = harness.link()
    assert sorted(c.administration for c in relinked) == sorted(harness.sandbox.books)
    assert {c.country for c in relinked} == {"NL"}, "no country known: the default"


def test_one_token_validation_finds_the_cluster_for_every_office(
    linked: tuple[TwinfieldHarness, cfg.ConnectionConfig],
) -> None:
    harness, _ = linked
    for connection in harness.connections:
        assert harness.sync(connection).error is None
    assert harness.sandbox.calls["accesstokenvalidation"] == 1, "link and both offices' syncs share one access token"
    harness.sandbox.expire_tokens()
    assert harness.sync(harness.connections[0]).error is None
    assert harness.sandbox.calls["accesstokenvalidation"] == 2, "a new token is validated again"


def test_a_customer_changed_in_the_second_of_the_last_read_is_still_picked_up(
    linked: tuple[TwinfieldHarness, cfg.ConnectionConfig],
) -> None:
    harness, connection = linked
    assert harness.sync(connection).error is None
    dim = harness.sandbox.dimension(connection.administration, "1002")
    name = dim.find("name")
    assert name is not None
    name.text = "Zelfde seconde B.V."  # ``modified`` keeps its value: Twinfield's has whole seconds
    again = harness.sync(connection)
    assert again.error is None
    assert {d.source_id: d.name for d in harness.store.debtors(connection.name)}["1002"] == "Zelfde seconde B.V."
    unchanged = harness.sync(connection)
    assert unchanged.stored < again.stored, "unchanged customers are not stored again"


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
