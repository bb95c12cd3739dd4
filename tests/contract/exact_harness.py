"""The Exact Online harness for the contract suite (in-process ExactSandbox)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx

from adapters.exact.sandbox import DivisionSpec, ExactSandbox
from adapters.exact.sandbox_admin import common_model_truth
from connector import config as cfg
from connector.cli.demo import press_allow
from connector.sandbox import transport
from tests.contract.harness import Harness, Truth


class ExactHarness(Harness):
    package = "exact"
    #: Issue 16 point 5: the sandbox varies its answers like production (see RealisticExactHarness).
    realistic = False

    def make_transport(self) -> httpx.BaseTransport:
        self.sandbox = ExactSandbox(
            realistic=self.realistic,
            seed=7,
            divisions=(
                DivisionSpec(code=101, description="Contract Groothandel B.V.", accounts=60, terms=1500, country="NL"),
                DivisionSpec(code=202, description="Contract Services BV", accounts=20, terms=80, country="BE"),
            ),
        )
        self.sandbox.register_client(self.client_id, self.client_secret, self.redirect_uri)
        return transport(self.sandbox, "http://sandbox.test")

    def press_allow(self, authorize_url: str) -> str:
        with httpx.Client(transport=self.transport, base_url="http://sandbox.test") as browser:
            return press_allow(browser, authorize_url)

    def _division(self, connection: cfg.ConnectionConfig) -> int:
        return int(connection.administration)

    def truth(self, connection: cfg.ConnectionConfig) -> Truth:
        division = self._division(connection)
        debtors = frozenset(common_model_truth(self.sandbox, division)["debtors"])
        open_items: dict[str, Decimal] = {}
        for term in self.sandbox.open_terms(division):
            group = str(term.get("TransactionEntryID") or term["ID"])
            sign = -1 if Decimal(str(term.get("TransactionAmountFC") or 0)) < 0 else 1
            open_items[group] = open_items.get(group, Decimal(0)) + sign * abs(Decimal(str(term["AmountFC"])))
        return Truth(debtor_ids=debtors, open_items=open_items)

    def _open_invoice_terms(self, division: int) -> list[dict[str, object]]:
        return [
            t for t in self.sandbox.open_terms(division)
            if Decimal(str(t.get("TransactionAmountFC") or 0)) > 0 and t.get("Status") == 20
        ]

    def change_something(self, connection: cfg.ConnectionConfig) -> None:
        division = self._division(connection)
        terms = self._open_invoice_terms(division)
        partly, fully = terms[0], terms[1]
        self.sandbox.pay(division, str(partly["ID"]), abs(Decimal(str(partly["AmountFC"]))) / 2)
        self.sandbox.pay(division, str(fully["ID"]), abs(Decimal(str(fully["AmountFC"]))))
        account = self.sandbox.accounts(division)[0]
        self.sandbox.update_account(division, str(account["ID"]), Name="Hernoemd B.V.")
        today = self.sandbox.clock.now().date()
        self.sandbox.add_invoice(division, str(account["ID"]), "1234.56", today, today + timedelta(days=30))

    def delete_an_item(self, connection: cfg.ConnectionConfig) -> str:
        division = self._division(connection)
        term = self._open_invoice_terms(division)[-1]
        self.sandbox.delete_term(division, str(term["ID"]))
        return str(term.get("TransactionEntryID") or term["ID"])

    def break_next_record(self) -> None:
        self.sandbox.faults.malformed(endpoint="sync/Cashflow/PaymentTerms")

    def calls(self) -> int:
        return sum(self.sandbox.calls.values())


class RealisticExactHarness(ExactHarness):
    """The same contract on the ``realistic`` sandbox: quoted Int64s, shortest amounts, nulls, ``__deferred``
    links, maintenance pages with 200 and 503, and an access token that lapses mid-sync."""

    realistic = True
