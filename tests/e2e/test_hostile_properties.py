"""Property (issue 11, "Done when"): hostile strings in every debtor and item field of the Exact
and Moneybird sandboxes go through sync, plan, apply and every report with no traceback, nothing
written outside the data dir, every CSV cell safe and nothing unsafe on the terminal."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from typer.testing import CliRunner

from adapters.moneybird.sandbox import MoneybirdSandbox
from connector import config as cfg
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.cli.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoBrowser, free_port
from connector.cli.main import app
from connector.config import MailConfig
from connector.runtime import link_package, open_store, today
from connector.sandbox import serve
from rules.calendar import business_day_in_all
from tests.e2e.conftest import NL_RULES, exact_world
from tests.support.hostile import hostile_values, terminal_problems, unsafe_cells

MONEYBIRD_NL = "123456789012345678"
#: Debtors made hostile per example; each gets a value in every text field, and so do their items.
DEBTORS = 8
EXACT_ACCOUNT_FIELDS = ("Name", "Code", "Email", "Phone", "City", "AddressLine1", "Postcode", "VATNumber",
                        "ChamberOfCommerce", "Language", "Country", "Website", "Remarks", "Classification1")
EXACT_TERM_FIELDS = ("Description", "YourRef", "PaymentReference", "AccountName", "AccountCode")
#: Fields whose hostile value makes the record unusable (quarantined): only the first debtor's items
#: get them, so the other hostile debtors still reach plan, apply and every channel.
EXACT_BREAKING_TERM_FIELDS = ("Currency", "InvoiceNumber")
MONEYBIRD_CONTACT_FIELDS = ("company_name", "firstname", "lastname", "address1", "zipcode", "city", "country", "phone",
                            "email", "tax_number", "chamber_of_commerce", "customer_id")
MONEYBIRD_INVOICE_FIELDS = ("reference", "invoice_number")
MONEYBIRD_BREAKING_INVOICE_FIELDS = ("currency",)

VALUES = hostile_values(64)
# Each example links, syncs, plans, applies and reports for real (seconds): few examples, each
# with 64 hostile values over 8 debtors and their items, and no shrinking (it would take minutes;
# the failing values are printed whole instead).
PROPERTY = settings(max_examples=3, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclass
class Run:
    connection: str
    smtp: LocalSmtpServer
    home: Path
    hostile_debtors: set[str]


@contextmanager
def _home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as raw, pytest.MonkeyPatch.context() as env:
        home = Path(raw)
        env.setenv("ARCONNECT_CONFIG_DIR", str(home / "config"))
        env.setenv("ARCONNECT_DATA_DIR", str(home / "data"))
        env.setenv("ARCONNECT_SECRET_STORE", "plain-file")
        env.delenv("ARCONNECT_DATABASE_URL", raising=False)
        env.delenv("ARCONNECT_SMTP_PASSWORD", raising=False)
        yield home


def _cycle(values: Iterator[str]) -> Callable[[], str]:
    pool = list(values)
    position = [0]

    def take() -> str:
        position[0] += 1
        return pool[position[0] % len(pool)]

    return take


def _exact_hostile(values: list[str]) -> Iterator[Run]:
    with _home() as home, exact_world() as world:
        state = world.sandbox.division(world.division)
        take = _cycle(iter(values))
        now = datetime.now(UTC)
        accounts: list[str] = []
        for term in state.terms.all():
            if term.get("Status") == 20 and term.get("TransactionType") == 20 and term["Account"] not in accounts:
                accounts.append(term["Account"])
            if len(accounts) == DEBTORS:
                break
        for account in accounts:
            state.update_account(account, {f: take() for f in EXACT_ACCOUNT_FIELDS}, now)
        for term in list(state.terms.all()):
            if term["Account"] in accounts:
                changed = dict(term)
                fields = EXACT_TERM_FIELDS + (EXACT_BREAKING_TERM_FIELDS if term["Account"] == accounts[0] else ())
                changed.update({f: take() for f in fields})
                state.touch(state.terms, changed, now)
        yield Run(world.connection, world.smtp, home, {a.lower() for a in accounts})


def _moneybird_hostile(values: list[str]) -> Iterator[Run]:
    with _home() as home:
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        sandbox = MoneybirdSandbox.small(seed=3, limit=100_000)
        sandbox.register_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uri)
        server = serve(sandbox, port=0)
        smtp = LocalSmtpServer(free_port()).start()
        try:
            (connection,) = link_package(
                "moneybird", region="nl", client_id=DEMO_CLIENT_ID, redirect_uri=redirect_uri,
                credential_name="moneybird-hostile", host=server.url, open_browser=True, divisions=[MONEYBIRD_NL],
                say=lambda _: None, opener=DemoBrowser(), client_secret_value=DEMO_CLIENT_SECRET,
            )
            config = cfg.load_config()
            config.connections[connection.name] = connection.model_copy(update={
                "rules_file": str(NL_RULES), "reminders_sent_by": "arconnect",
                "mail": MailConfig(host="127.0.0.1", port=smtp.port, sender="debiteuren@parkietje.nl"),
            })
            cfg.save_config(config)
            admin = sandbox.admin(MONEYBIRD_NL)
            take = _cycle(iter(values))
            contacts: set[int] = set()
            for index in admin.live_invoice_indexes():
                invoice = admin.invoice_for_write(index)
                if invoice is None or invoice.draft:
                    continue
                if invoice.contact_index not in contacts and len(contacts) == DEBTORS:
                    continue
                first = not contacts or invoice.contact_index == min(contacts)
                contacts.add(invoice.contact_index)
                for name in MONEYBIRD_INVOICE_FIELDS + (MONEYBIRD_BREAKING_INVOICE_FIELDS if first else ()):
                    setattr(invoice, name, take())
            ids = set()
            for index in contacts:
                contact = admin.contact_for_write(index)
                assert contact is not None
                ids.add(contact.id)
                for name in MONEYBIRD_CONTACT_FIELDS:
                    setattr(contact, name, take())
            yield Run(connection.name, smtp, home, ids)
        finally:
            smtp.stop()
            server.stop()


def _files(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*") if p.is_file()}


def _everything_is_safe(run: Run) -> None:
    day = business_day_in_all(today(), ("NL",)).isoformat()
    data = Path(os.environ["ARCONNECT_DATA_DIR"])
    outside_before = _files(run.home) - _files(data)
    cwd_before = set(os.listdir("."))
    outputs: dict[str, str] = {}

    def arconnect(*args: str, codes: tuple[int, ...] = (0,)) -> str:
        result = CliRunner().invoke(app, list(args), env={"COLUMNS": "120"})
        shown = " ".join(args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{shown}: {type(result.exception).__name__}: {result.exception}") from result.exception
        text = result.stdout + result.stderr
        assert result.exit_code in codes, f"{shown} exited {result.exit_code}: {text[-2000:]}"
        assert not terminal_problems(text), (shown, terminal_problems(text))
        outputs[shown] = result.stdout
        return result.stdout

    arconnect("sync", run.connection)
    arconnect("plan", run.connection, "--date", day)
    json.loads(arconnect("plan", run.connection, "--date", day, "--format", "json"))
    arconnect("apply", run.connection, "--date", day, "--yes", "--allow-future", codes=(0, 1))
    store = open_store()
    try:
        dunned = {e.debtor_source_id.lower() for e in store.journal(run.connection)}
    finally:
        store.close()
    assert dunned & run.hostile_debtors, "no hostile debtor reached apply: the property tests nothing"
    arconnect("apply", run.connection, "--date", day, "--yes", "--allow-future", codes=(0, 1))  # again: nothing twice, no crash
    arconnect("report", "aging", run.connection)
    json.loads(arconnect("report", "aging", run.connection, "--format", "json"))
    arconnect("report", "calls", run.connection, "--all")
    arconnect("report", "quarantine", run.connection)
    arconnect("mail", "checks", run.connection)
    arconnect("status")
    json.loads(arconnect("status", "--format", "json"))
    arconnect("connections")
    for csv_command in (("report", "aging", run.connection, "--format", "csv"), ("report", "calls", run.connection, "--all", "--format", "csv")):
        text = arconnect(*csv_command)
        assert not unsafe_cells(text), (csv_command, unsafe_cells(text)[:5])
    for path in data.rglob("*.csv"):
        assert not unsafe_cells(path.read_text(encoding="utf-8")), (path, unsafe_cells(path.read_text(encoding="utf-8"))[:5])
    assert _files(run.home) - _files(data) == outside_before, "a file was written outside the data dir"
    assert set(os.listdir(".")) == cwd_before
    for message in run.smtp.received:
        assert message.message["Bcc"] is None
        assert len(message.recipients) == 1 and "\n" not in message.recipients[0] and "\r" not in message.recipients[0]


@PROPERTY
@given(values=VALUES)
def test_hostile_exact_data_goes_through_everything(values: list[str]) -> None:
    for run in _exact_hostile(values):
        _everything_is_safe(run)


@PROPERTY
@given(values=VALUES)
def test_hostile_moneybird_data_goes_through_everything(values: list[str]) -> None:
    for run in _moneybird_hostile(values):
        _everything_is_safe(run)
