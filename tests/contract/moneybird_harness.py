"""The Moneybird harness for the contract suite (in-process MoneybirdSandbox, two administrations).

Sizes are chosen so that a full sync needs several synchronization POSTs (100 ids each) while a
small change needs one per stream.
"""

from __future__ import annotations

from decimal import Decimal

import httpx

from adapters.moneybird.sandbox import AdministrationSpec, MoneybirdSandbox
from connector import config as cfg
from connector.cli.demo import press_allow
from connector.sandbox import transport
from tests.contract.harness import Harness, Truth


class MoneybirdHarness(Harness):
    package = "moneybird"
    #: Issue 16 point 5: the sandbox varies its answers like production (see RealisticMoneybirdHarness).
    realistic = False

    def make_transport(self) -> httpx.BaseTransport:
        self.sandbox = MoneybirdSandbox(
            realistic=self.realistic,
            seed=11,
            administrations=(
                AdministrationSpec(id="123456789012345678", name="Contract Groothandel B.V.", contacts=250, invoices=700),
                AdministrationSpec(id="223456789012345678", name="Contract Diensten BV", contacts=30, invoices=90,
                                   country="BE", language="nl-be"),
            ),
        )
        self.sandbox.register_client(self.client_id, self.client_secret, self.redirect_uri)
        return transport(self.sandbox, "http://sandbox.test")

    def press_allow(self, authorize_url: str) -> str:
        with httpx.Client(transport=self.transport, base_url="http://sandbox.test") as browser:
            return press_allow(browser, authorize_url)

    def truth(self, connection: cfg.ConnectionConfig) -> Truth:
        admin_id = connection.administration
        admin = self.sandbox.admin(admin_id)
        debtors = frozenset(
            rec.id for rec in (admin.contact(i) for i in admin.live_contact_indexes()) if rec is not None
        )
        open_items = {
            ident: Decimal(str(self.sandbox.invoice(admin_id, ident)["total_unpaid"]))
            for ident in self.sandbox.open_invoices(admin_id)
        }
        return Truth(debtor_ids=debtors, open_items=open_items)

    def _open_ids(self, connection: cfg.ConnectionConfig) -> list[str]:
        admin_id = connection.administration
        return [
            i for i in self.sandbox.invoice_ids(admin_id, states=("open", "late", "reminded"))
            if Decimal(str(self.sandbox.invoice(admin_id, i)["total_unpaid"])) > 0
        ]

    def change_something(self, connection: cfg.ConnectionConfig) -> None:
        admin_id = connection.administration
        partly, fully = self._open_ids(connection)[:2]
        unpaid = Decimal(str(self.sandbox.invoice(admin_id, partly)["total_unpaid"]))
        self.sandbox.pay(admin_id, partly, (unpaid / 2).quantize(Decimal("0.01")))
        self.sandbox.pay(admin_id, fully, Decimal(str(self.sandbox.invoice(admin_id, fully)["total_unpaid"])))
        contact_id = str(self.sandbox.invoice(admin_id, partly)["contact_id"])
        self.sandbox.update_contact(admin_id, contact_id, company_name="Hernoemd B.V.")
        self.sandbox.add_invoice(admin_id, contact_id=contact_id, amount="1234.56")

    def delete_an_item(self, connection: cfg.ConnectionConfig) -> str:
        ident = self._open_ids(connection)[-1]
        self.sandbox.delete_invoice(connection.administration, ident)
        return ident

    def break_next_record(self) -> None:
        self.sandbox.faults.malformed(endpoint="sales_invoices/synchronization")

    def calls(self) -> int:
        return sum(self.sandbox.calls.values())


class RealisticMoneybirdHarness(MoneybirdHarness):
    """The same contract on the ``realistic`` sandbox: newer optional fields, nulls, HTML pages with 200 and
    503, and an access token that lapses mid-sync."""

    realistic = True
