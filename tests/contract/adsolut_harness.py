"""The Adsolut harness for the contract suite (in-process AdsolutSandbox, two dossiers).

Two variants: open items read through the (ASSUMED) open-items endpoint, and open items switched
off (``open_items_endpoint: off``), where only debtors sync and the tests about items say why.
"""

from __future__ import annotations

from decimal import Decimal

import httpx

from adapters.adsolut.adapter import open_items_off_message
from adapters.adsolut.sandbox import AdsolutSandbox, DossierSpec
from connector import config as cfg
from connector.cli.demo import press_allow
from connector.sandbox import transport
from tests.contract.harness import Harness, Truth

DOSSIERS = (
    DossierSpec(id="11111111-2222-4333-8444-555555555555", name="Contract Bouw BV", code="CB01",
                customers=250, items=900),
    DossierSpec(id="21111111-2222-4333-8444-555555555555", name="Contract Conseil SRL", code="CC01",
                language="fr", customers=30, items=100),
)


class AdsolutHarness(Harness):
    package = "adsolut"
    open_items_on = True

    def make_transport(self) -> httpx.BaseTransport:
        self.sandbox = AdsolutSandbox(seed=5, dossiers=DOSSIERS, rate_limit=100_000)
        self.sandbox.register_client(self.client_id, self.client_secret, self.redirect_uri)
        return transport(self.sandbox, "http://sandbox.test")

    def press_allow(self, authorize_url: str) -> str:
        with httpx.Client(transport=self.transport, base_url="http://sandbox.test") as browser:
            return press_allow(browser, authorize_url)

    def truth(self, connection: cfg.ConnectionConfig) -> Truth:
        dossier = connection.administration
        debtors = frozenset(self.sandbox.dossier(dossier).customers)
        items = self.sandbox.open_amounts(dossier) if self.open_items_on else {}
        return Truth(debtor_ids=debtors, open_items=dict(items))

    def _open_invoices(self, dossier: str) -> list[str]:
        state = self.sandbox.dossier(dossier)
        return sorted(i.id for i in state.items.values() if i.open_amount > 0 and i.document_type == "Invoice")

    def change_something(self, connection: cfg.ConnectionConfig) -> None:
        dossier = connection.administration
        state = self.sandbox.dossier(dossier)
        partly, fully = self._open_invoices(dossier)[:2]
        self.sandbox.pay(dossier, partly, (state.items[partly].open_amount / 2).quantize(Decimal("0.01")))
        self.sandbox.pay(dossier, fully, state.items[fully].open_amount)
        customer = state.items[partly].customer_id
        self.sandbox.rename_customer(dossier, customer, "Hernoemd BV")
        self.sandbox.add_item(dossier, customer, "1234.56", self.sandbox.clock.now().date())

    def delete_an_item(self, connection: cfg.ConnectionConfig) -> str:
        ident = self._open_invoices(connection.administration)[-1]
        self.sandbox.delete_item(connection.administration, ident)
        return ident

    def break_next_record(self) -> None:
        self.sandbox.faults.malformed(endpoint="openitems" if self.open_items_on else "customers")

    def calls(self) -> int:
        return sum(self.sandbox.calls.values())


class AdsolutWithoutOpenItemsHarness(AdsolutHarness):
    """The open-items capability off: debtors only, and the reason in place of the item tests."""

    open_items_on = False

    def link(self) -> list[cfg.ConnectionConfig]:
        connections = [c.model_copy(update={"open_items_endpoint": "off"}) for c in super().link()]
        config = cfg.load_config()
        for connection in connections:
            config.connections[connection.name] = connection
        cfg.save_config(config)
        self.connections = connections
        return connections

    @property
    def open_items_unavailable(self) -> str | None:
        return open_items_off_message(self.connections[0].name if self.connections else "adsolut")
