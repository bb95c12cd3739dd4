"""End to end on the loopback Adsolut sandbox: link (the sandbox sees the activation), sync, plan
with the Belgian example rules, apply, apply again (nothing changes), remove (the sandbox sees the
deactivation). E-mails go to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.adsolut.sandbox import AdsolutSandbox, serve_adsolut
from connector import config as cfg
from connector.actions.applying import apply_connection
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.actions.planning import plan_connection
from connector.cli.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoBrowser, free_port
from connector.cli.main import app
from connector.config import MailConfig
from connector.model import ActionKind, ApplyOutcome, DebtorKind, Money
from connector.runtime import link_package, open_store, sync_connections, today
from rules.calendar import business_day_in_all
from tests.support.paths import REPO

BE_RULES = REPO / "rules" / "examples" / "be-practice.yaml"


@dataclass
class World:
    sandbox: AdsolutSandbox
    smtp: LocalSmtpServer
    connection: str
    dossier: str
    other: str


@pytest.fixture
def world(arconnect_home: Path) -> Iterator[World]:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    server = serve_adsolut(0, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, redirect_uri=redirect_uri,
                           rate_limit=100_000)
    smtp = LocalSmtpServer(free_port()).start()
    try:
        connections = link_package(
            "adsolut", region="be", client_id=DEMO_CLIENT_ID, redirect_uri=redirect_uri, credential_name="adsolut-e2e",
            host=server.url, open_browser=True, divisions=[], say=lambda _: None, opener=DemoBrowser(),
            client_secret_value=DEMO_CLIENT_SECRET,
        )
        first, second = connections
        config = cfg.load_config()
        config.connections[first.name] = first.model_copy(update={
            "rules_file": str(BE_RULES),
            "reminders_sent_by": "arconnect",
            "mail": MailConfig(host="127.0.0.1", port=smtp.port, sender="boekhouding@peeters-janssens.be"),
        })
        cfg.save_config(config)
        sandbox = server.app
        assert isinstance(sandbox, AdsolutSandbox)
        yield World(sandbox, smtp, first.name, first.administration, second.administration)
    finally:
        smtp.stop()
        server.stop()


def customers(world: World) -> dict[str, Any]:
    return {ident: dict(c) for ident, c in world.sandbox.dossier(world.dossier).customers.items()}


def test_link_sync_plan_apply_twice_and_remove_against_the_loopback_sandbox(world: World) -> None:
    # Linking activated the integration on both dossiers the user granted (reference A3).
    for dossier in (world.dossier, world.other):
        state = world.sandbox.dossier(dossier)
        assert state.activations == 1 and state.integrations == {DEMO_CLIENT_ID}

    [synced] = sync_connections(world.connection)
    assert synced.error is None and synced.stored > 0

    run_date = business_day_in_all(today(), ("BE",))
    store = open_store()
    try:
        connection = cfg.load_config().connection(world.connection)
        plan = plan_connection(connection, store, run_date)
        kinds = {d.source_id: d.kind for d in store.debtors(world.connection)}
    finally:
        store.close()
    assert any("remindersEnabled" in w for w in plan.warnings)
    first_steps = [a for a in plan.actions if a.kind == ActionKind.REMINDER]
    consumer = [a for a in first_steps if kinds[a.debtor_source_id] == DebtorKind.CONSUMER]
    business = [a for a in first_steps if kinds[a.debtor_source_id] == DebtorKind.BUSINESS]
    # Book XIX: a consumer's first reminder is a free letter that starts the 14-day term.
    assert consumer and all(a.step == "first-reminder" and a.channel == "letter" for a in consumer)
    assert all(a.costs is None or a.costs.is_zero() for a in consumer)
    assert all("costs_not_yet_allowed" in a.details.get("flags", "") for a in consumer)
    assert business and all(a.step == "reminder" and a.channel == "email" for a in business)

    before = customers(world)
    first = apply_connection(world.connection, run_date)
    # The only failures: e-mails to the few seeded customers without an address (they are told so).
    failed = [r for r in first.results if r.outcome == ApplyOutcome.FAILED]
    assert all(r.reason == "the debtor has no e-mail address; add one in the package" for r in failed)
    assert all(before[r.action.debtor_source_id]["email"] is None for r in failed)
    outcomes = Counter((r.action.kind, r.outcome) for r in first.results)
    assert first.emails_sent == len(world.smtp.received) > 0
    # Adsolut's own reminders are off for the debtors arconnect dunns; nothing else changed on them.
    paused = {r.action.debtor_source_id for r in first.results
              if r.action.kind == ActionKind.PAUSE_SOURCE_REMINDERS and r.outcome == ApplyOutcome.DONE}
    after = customers(world)
    assert paused and all(after[i]["remindersEnabled"] is False for i in paused)
    for ident in paused:
        assert {k for k in after[ident] if after[ident][k] != before[ident][k]} == {"remindersEnabled", "lastModified"}
    # Blocks have no field in Adsolut: unsupported, with the reason.
    blocks = [r for r in first.results if r.action.kind == ActionKind.BLOCK]
    assert blocks and all(r.outcome == ApplyOutcome.UNSUPPORTED and "unsupported in Adsolut" in r.reason for r in blocks)
    assert outcomes[(ActionKind.REMINDER, ApplyOutcome.DONE)] > 0

    second = apply_connection(world.connection, run_date)
    assert second.changed == 0 and second.failed == first.failed
    assert customers(world) == after
    assert len(world.smtp.received) == first.emails_sent

    # A week later a business that had its reminder gets the formal notice with the EUR 40.
    later = business_day_in_all(run_date + timedelta(days=8), ("BE",))
    store = open_store()
    try:
        notices = [a for a in plan_connection(connection, store, later).actions if a.kind == ActionKind.FORMAL_NOTICE]
    finally:
        store.close()
    business_notices = [a for a in notices if kinds[a.debtor_source_id] == DebtorKind.BUSINESS]
    assert business_notices
    # Law of 2 August 2002: EUR 40 per late invoice (a USD principal gets no EUR amount computed;
    # where credit notes were netted the engine charges on the netted balance).
    in_euro = [a for a in business_notices
               if a.amount is not None and a.amount.currency == "EUR" and "credits" not in a.details]
    assert in_euro
    assert all(a.costs == Money(amount=Decimal(40) * len(a.item_source_ids), currency="EUR") for a in in_euro)

    result = CliRunner().invoke(app, ["connections", "remove", world.connection, "--yes"])
    assert result.exit_code == 0, result.stdout
    state = world.sandbox.dossier(world.dossier)
    assert state.deactivations == 1 and state.integrations == set()
    assert world.connection not in cfg.load_config().connections
