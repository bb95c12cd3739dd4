"""The Twinfield harness for the contract suite (in-process TwinfieldSandbox, two offices).

The login host is ``sandbox.test``; the sandbox's cluster (``cluster.sandbox.test``) is found
through access-token validation, so discovery is exercised on every link and sync.
"""

from __future__ import annotations

from decimal import Decimal

import httpx

from adapters.twinfield.sandbox import TwinfieldSandbox, default_offices
from adapters.twinfield.sandbox_data import Line
from connector import config as cfg
from connector.cli.demo import press_allow
from connector.sandbox import transport
from tests.contract.harness import Harness, Truth


class TwinfieldHarness(Harness):
    package = "twinfield"

    def make_transport(self) -> httpx.BaseTransport:
        self.sandbox = TwinfieldSandbox(seed=13, offices=default_offices(2, 40, 300))
        self.sandbox.register_client(self.client_id, self.client_secret, self.redirect_uri)
        return transport(self.sandbox, "http://sandbox.test")

    def press_allow(self, authorize_url: str) -> str:
        with httpx.Client(transport=self.transport, base_url="http://sandbox.test") as browser:
            return press_allow(browser, authorize_url)

    def truth(self, connection: cfg.ConnectionConfig) -> Truth:
        book = self.sandbox.book(connection.administration)
        debtors = frozenset(code for code, d in book.dimensions.items() if d.get("status") != "deleted")
        open_items = {f"{ln.code}/{ln.number}/{ln.line}": ln.open for ln in book.open_lines()}
        return Truth(debtor_ids=debtors, open_items=open_items)

    def _open_invoices(self, connection: cfg.ConnectionConfig) -> list[Line]:
        return [ln for ln in self.sandbox.open_lines(connection.administration)
                if ln.code == "VRK" and ln.value > 0 and ln.matchstatus == "available" and ln.open == ln.value]

    def change_something(self, connection: cfg.ConnectionConfig) -> None:
        office = connection.administration
        partly, fully = self._open_invoices(connection)[:2]
        self.sandbox.pay(office, partly, (partly.open / 2).quantize(Decimal("0.01")))
        self.sandbox.pay(office, fully, fully.open)
        self.sandbox.rename(office, partly.dim2, "Hernoemd B.V.")
        self.sandbox.add_invoice(office, partly.dim2, Decimal("1234.56"))

    def delete_an_item(self, connection: cfg.ConnectionConfig) -> str:
        line = self._open_invoices(connection)[-1]
        self.sandbox.delete_transaction(connection.administration, line.code, line.number)
        return f"{line.code}/{line.number}/{line.line}"

    def break_next_record(self) -> None:
        self.sandbox.faults.malformed(endpoint="processxml")

    def calls(self) -> int:
        return sum(self.sandbox.calls.values())
