"""Fixtures for apply: a real store, a real SMTP server on 127.0.0.1, a package double with state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from connector.actions.channels.email import SmtpSender
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.actions.dispatch import Channels, Dispatcher
from connector.cli.demo import free_port
from connector.config import MailConfig
from connector.errors import UnsupportedAction
from connector.model import (
    ActionKind,
    ApplyOutcome,
    ApplyResult,
    Debtor,
    DebtorKind,
    Money,
    Page,
    PlannedAction,
)
from connector.ports import Capability
from connector.store import Store
from rules.letters import CreditorFacts

CONNECTION = "exact-101"
RUN = date(2026, 3, 2)
CREDITOR = CreditorFacts(
    name="Bakkerij De Korenschoof B.V.", coc_number="34567890", vat_number="NL812345678B01",
    iban="NL91ABNA0417164300", bic="ABNANL2A", address_lines=["Dorpsstraat 1", "1234 AB Ergens"],
    email="debiteuren@korenschoof.nl", country="NL",
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'arconnect.db'}") as s:
        s.migrate()
        s.ensure_connection(CONNECTION, "exact", "Demo")
        s.save_page(CONNECTION, "debtors", Page[Debtor](records=[
            Debtor(connection_id=CONNECTION, source_id="d1", code="1001", name="Jansen & Zn.", kind=DebtorKind.BUSINESS,
                   country="NL", language="nl", emails=("boekhouding@jansen.nl",), phone="+31 6 1234 5678"),
            Debtor(connection_id=CONNECTION, source_id="d2", code="1002", name="Marie Dupont", kind=DebtorKind.CONSUMER,
                   country="BE", language="fr", emails=("marie@dupont.be",)),
            Debtor(connection_id=CONNECTION, source_id="d3", code="1003", name="Zonder Mail", kind=DebtorKind.UNKNOWN,
                   country="NL", language="nl"),
        ], bookmark="1"))
        yield s


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer(free_port()) as server:
        yield server


@dataclass
class PackageDouble:
    """The remote side of a package as far as write-back sees it: reads state, then writes.

    Behaves like the Exact adapter: block/unblock/credit line read first and answer already_true;
    notes, tasks and documents are write-once by the effect's key; the rest is unsupported.
    """

    blocked: set[str] = field(default_factory=set)
    limits: dict[str, Money] = field(default_factory=dict)
    notes: dict[str, PlannedAction] = field(default_factory=dict)
    tasks: dict[str, PlannedAction] = field(default_factory=dict)
    documents: dict[str, PlannedAction] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    capabilities: frozenset[Capability] = frozenset(
        {Capability.BLOCK_DEBTOR, Capability.SET_CREDIT_LIMIT, Capability.ADD_NOTE, Capability.ADD_TASK, Capability.ADD_DOCUMENT}
    )

    def apply(self, action: PlannedAction) -> ApplyResult:
        self.calls.append(action.idempotency_key)
        debtor = action.debtor_source_id
        if action.kind in (ActionKind.BLOCK, ActionKind.UNBLOCK):
            wanted = action.kind == ActionKind.BLOCK
            if (debtor in self.blocked) == wanted:
                return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE)
            (self.blocked.add if wanted else self.blocked.discard)(debtor)
            return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=debtor)
        if action.kind == ActionKind.SET_CREDIT_LIMIT and action.credit_limit is not None:
            if self.limits.get(debtor) == action.credit_limit:
                return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE)
            self.limits[debtor] = action.credit_limit
            return ApplyResult(outcome=ApplyOutcome.DONE)
        effect = action.details.get("effect")
        book = {"document": self.documents, "task": self.tasks, "note": self.notes}.get(effect or "")
        if book is None:
            raise UnsupportedAction(f"the package has no API for {action.kind.value}")
        if action.idempotency_key in book:
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, remote_reference=action.idempotency_key)
        book[action.idempotency_key] = action
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=action.idempotency_key)


@pytest.fixture
def package() -> PackageDouble:
    return PackageDouble()


def make_dispatcher(store: Store, package: PackageDouble, tmp_path: Path, smtp: LocalSmtpServer | None) -> Dispatcher:
    mail = SmtpSender(MailConfig(host="127.0.0.1", port=smtp.port, sender="debiteuren@korenschoof.nl"), timeout=5) if smtp else None
    return Dispatcher(
        store=store,
        adapter_apply=package.apply,
        capabilities=package.capabilities,
        channels=Channels(
            outbox_dir=tmp_path / "outbox", calls_file=tmp_path / "calls.csv", handover_dir=tmp_path / "handover", mail=mail,
        ),
        creditor=CREDITOR,
        package_title="Exact Online",
    )


def items_json(*rows: tuple[str, str, str]) -> str:
    return json.dumps([
        {"source_id": f"i-{number}", "document_number": number, "invoice_date": "2026-01-05", "due_date": due,
         "open": amount, "currency": "EUR", "days_overdue": 26}
        for number, amount, due in rows
    ])


def message(
    key: str,
    kind: ActionKind = ActionKind.REMINDER,
    *,
    debtor: str = "d1",
    channel: str = "email",
    amount: str = "1234.56",
    costs: str | None = None,
    template: str | None = None,
) -> PlannedAction:
    return PlannedAction(
        idempotency_key=key, connection_id=CONNECTION, debtor_source_id=debtor, item_source_ids=("i-2026001",),
        kind=kind, step=kind.value, channel=channel, template=template or kind.value, run_date=RUN,
        amount=Money.of(amount, "EUR"), costs=Money.of(costs, "EUR") if costs else None,
        reason="14 days overdue", details={
            "profile": "standard", "pay_by": "2026-03-16", "payment_reference": "RF18539007547034",
            "items": items_json(("2026001", amount, "2026-02-04")),
        },
    )


def account_action(key: str, kind: ActionKind, debtor: str = "d1", limit: str | None = None) -> PlannedAction:
    return PlannedAction(
        idempotency_key=key, connection_id=CONNECTION, debtor_source_id=debtor, kind=kind, run_date=RUN,
        credit_limit=Money.of(limit, "EUR") if limit else None, reason="exposure EUR 12,000.00 above limit EUR 10,000.00",
    )
