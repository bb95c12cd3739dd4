"""End to end on loopback: the Twinfield sandbox on 127.0.0.1 (login host) and localhost (cluster host)
with a Dutch and a Belgian office, linked over the real consent page, then ``arconnect sync``,
``report aging``, ``plan`` (the example rules of each country) and ``apply``; a second ``apply``
writes nothing to Twinfield and sends nothing."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.twinfield.mapping import BLOCK_TEXT
from adapters.twinfield.sandbox import TwinfieldSandbox, default_offices
from connector import config as cfg
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.cli.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoBrowser, free_port
from connector.cli.main import app
from connector.config import MailConfig
from connector.runtime import link_package, today
from connector.sandbox import serve
from rules.calendar import business_day_in_all
from tests.support.paths import REPO

RULES = {"NL": REPO / "rules" / "examples" / "nl-practice.yaml", "BE": REPO / "rules" / "examples" / "be-practice.yaml"}
NL_OFFICE, BE_OFFICE = "NLA000001", "BEA000002"


@dataclass
class World:
    sandbox: TwinfieldSandbox
    smtp: LocalSmtpServer
    connections: dict[str, str]  # office code -> connection name


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stdout
    return result.stdout


@pytest.fixture
def world(arconnect_home: Path) -> Iterator[World]:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    # Real Fair Use limits (certified): a sync of two small offices stays far below them.
    sandbox = TwinfieldSandbox(seed=11, offices=default_offices(2, 30, 160))
    sandbox.register_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uri)
    server = serve(sandbox, port=0)
    smtp = LocalSmtpServer(free_port()).start()
    try:
        linked = link_package(
            "twinfield", region="nl", client_id=DEMO_CLIENT_ID, redirect_uri=redirect_uri, credential_name="twf-e2e",
            host=server.url, open_browser=True, divisions=[], say=lambda _: None, opener=DemoBrowser(),
            client_secret_value=DEMO_CLIENT_SECRET,
        )
        config = cfg.load_config()
        for connection in linked:
            config.connections[connection.name] = connection.model_copy(update={
                "rules_file": str(RULES[connection.country]),
                "reminders_sent_by": "arconnect",
                "mail": MailConfig(host="127.0.0.1", port=smtp.port, sender="debiteuren@accountant.example"),
            })
        cfg.save_config(config)
        yield World(sandbox=sandbox, smtp=smtp, connections={c.administration: c.name for c in linked})
    finally:
        smtp.stop()
        server.stop()


def failed_counts(out: str) -> list[int]:
    """The ``N failed`` of each connection's apply summary line."""
    return [int(n) for n in re.findall(r"(\d+) failed", out)]


def writes(sandbox: TwinfieldSandbox) -> int:
    """ProcessXml requests that change something: ``<dimension>`` upserts (the only writes the adapter makes)."""
    kinds = {kind for kind, _office in sandbox.office_calls}
    assert kinds <= {"read", "list", "columns", "finder", "dimension", "deletedtransactions"}, kinds
    return sum(n for (kind, _office), n in sandbox.office_calls.items() if kind == "dimension")


def customers(sandbox: TwinfieldSandbox) -> dict[str, str]:
    """Every DEB dimension of both offices as XML text: what a second apply must leave exactly as it was."""
    return {f"{office}/{code}": ET.tostring(dim, encoding="unicode")
            for office, book in sandbox.books.items() for code, dim in book.dimensions.items()}


def test_link_sync_report_plan_apply_and_a_second_apply_changes_nothing(world: World) -> None:
    assert set(world.connections) == {NL_OFFICE, BE_OFFICE}
    config = cfg.load_config()
    nl, be = (config.connections[world.connections[o]] for o in (NL_OFFICE, BE_OFFICE))
    # Each office links with its own country, so Belgian rules, holidays and time zone apply to it.
    assert (nl.country, nl.timezone) == ("NL", "Europe/Amsterdam")
    assert (be.country, be.timezone) == ("BE", "Europe/Brussels")

    out = invoke("sync")
    assert "error" not in out.lower(), out
    assert world.sandbox.rejections == {}, "no fault and no 429 on the way"

    # One JSON document over every connection (issue 11 §14).
    owed = {r["connection"]: r for r in json.loads(invoke("report", "aging", "--format", "json"))["connections"]}
    for office, name in world.connections.items():
        truth = [ln for ln in world.sandbox.book(office).open_lines() if ln.open != 0]
        assert owed[name]["totals"], f"{name}: the aging report shows what is owed"
        assert sum(row["items"] for row in owed[name]["rows"]) == len(truth)

    day = business_day_in_all(today(), ("NL", "BE"))  # letters go out on business days only
    run = day.isoformat()
    # A weekend's run date is the next business day: the bookkeeper says so explicitly.
    future = ["--allow-future"] if day > today() else []
    for name in world.connections.values():
        plan = json.loads(invoke("plan", name, "--date", run, "--format", "json"))
        assert plan["actions"], f"{name}: the example rules plan something"
        assert any("Twinfield has no sales block" in w for w in plan["warnings"]), plan["warnings"]

    before = writes(world.sandbox)
    out = invoke("apply", "--date", run, "--yes", *future)
    first_writes = writes(world.sandbox) - before
    assert first_writes > 0, out
    assert failed_counts(out) == [0, 0], out
    after_first = customers(world.sandbox)
    mails = len(world.smtp.received)
    assert mails > 0, out
    # What the first apply wrote is in Twinfield: arconnect's steps in the comment, Twinfield's own
    # reminders off for the debtors arconnect dunns, blocks as text in the block field.
    dims = [d for b in world.sandbox.books.values() for d in b.dimensions.values()]
    assert any("[arconnect stap]" in (d.findtext("creditmanagement/comment") or "") for d in dims)
    assert any(d.findtext("creditmanagement/sendreminder") == "false" for d in dims)
    assert any(BLOCK_TEXT in (d.findtext("creditmanagement/freetext3") or "") for d in dims)
    assert all(d.findtext("creditmanagement/blocked") == "false" for d in dims), "the T&E project flag is not a credit block"

    # The next sync reads back what apply wrote (the customers changed); applying again changes nothing.
    out = invoke("sync")
    assert "error" not in out.lower(), out
    for name in world.connections.values():
        # arconnect's blocks read back as blocks (the text in the block field): nothing to block again.
        plan = json.loads(invoke("plan", name, "--date", run, "--format", "json"))
        assert [a["debtor_source_id"] for a in plan["actions"] if a["kind"] == "block"] == [], name
    out = invoke("apply", "--date", run, "--yes", *future)
    assert failed_counts(out) == [0, 0], out
    assert writes(world.sandbox) - before == first_writes, out
    assert customers(world.sandbox) == after_first
    assert len(world.smtp.received) == mails
