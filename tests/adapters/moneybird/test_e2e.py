"""End to end on loopback: the Moneybird sandbox on 127.0.0.1 linked over the real OAuth redirect,
then sync, plan (rules/examples/nl-practice.yaml) and apply; a second apply changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.moneybird.sandbox import MoneybirdSandbox
from connector import config as cfg
from connector.actions.applying import apply_connection
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.cli.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoBrowser, free_port
from connector.config import MailConfig
from connector.model import ActionKind, ApplyOutcome
from connector.runtime import link_package, sync_connections, today
from connector.sandbox import serve
from rules.calendar import business_day_in_all
from tests.support.paths import REPO

NL_RULES = REPO / "rules" / "examples" / "nl-practice.yaml"
NL = "123456789012345678"


@dataclass
class World:
    sandbox: MoneybirdSandbox
    smtp: LocalSmtpServer
    connection: str


@pytest.fixture
def world(arconnect_home: Path) -> Iterator[World]:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    # The real limit would pace this test for minutes; pacing has its own tests (test_sync.py).
    app = MoneybirdSandbox.small(seed=3, limit=100_000)
    app.register_client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uri)
    server = serve(app, port=0)
    smtp = LocalSmtpServer(free_port()).start()
    try:
        connections = link_package(
            "moneybird", region="nl", client_id=DEMO_CLIENT_ID, redirect_uri=redirect_uri,
            credential_name="moneybird-e2e", host=server.url, open_browser=True, divisions=[NL],
            say=lambda _: None, opener=DemoBrowser(), client_secret_value=DEMO_CLIENT_SECRET,
        )
        (connection,) = connections
        config = cfg.load_config()
        assert config.credentials["moneybird-e2e"].scopes == ["sales_invoices", "settings"]
        config.connections[connection.name] = connection.model_copy(update={
            "rules_file": str(NL_RULES),
            "reminders_sent_by": "arconnect",
            "mail": MailConfig(host="127.0.0.1", port=smtp.port, sender="debiteuren@parkietje.nl"),
        })
        cfg.save_config(config)
        yield World(sandbox=app, smtp=smtp, connection=connection.name)
    finally:
        smtp.stop()
        server.stop()


def remote_state(world: World) -> dict[str, Any]:
    s = world.sandbox
    invoices = [s.invoice(NL, i) for i in s.invoice_ids(NL)]
    admin = s.admin(NL)
    contacts = [s.contact(NL, c.id) for c in (admin.contact(i) for i in admin.live_contact_indexes()) if c is not None]
    return {
        "reminders": len(s.reminders_sent(NL)),
        "invoice_notes": sorted(n["id"] for inv in invoices for n in inv["notes"]),
        "contact_notes": sorted(n["id"] for c in contacts for n in c["notes"]),
        "paused": sorted(inv["id"] for inv in invoices if inv["paused"]),
        "states": sorted((inv["id"], inv["state"], inv["marked_dubious_on"]) for inv in invoices),
        "custom_fields": sorted((c["id"], f["name"], f["value"]) for c in contacts for f in c["custom_fields"]),
    }


def test_sync_plan_apply_and_a_second_apply_changes_nothing(world: World) -> None:
    [synced] = sync_connections(world.connection)
    assert synced.error is None and synced.stored > 0 and synced.rate_limited == 0
    run_date = business_day_in_all(today(), ("NL",))  # letters go out on business days only

    first = apply_connection(world.connection, run_date)
    failed = [(r.action.kind, r.effect, r.reason) for r in first.results if r.outcome == ApplyOutcome.FAILED]
    assert first.failed == 0, failed
    done = Counter(r.action.kind for r in first.results if r.outcome == ApplyOutcome.DONE)
    after_first = remote_state(world)
    # Steps arconnect e-mailed itself are recorded in Moneybird as Manual reminders, once each.
    assert done[ActionKind.REMINDER] > 0 and len(world.smtp.received) == first.emails_sent > 0
    assert {r["delivery_method"] for r in world.sandbox.reminders_sent(NL)} == {"Manual"}
    # Blocks and credit limits land in the contact custom fields the connection names.
    fields = {(c, name): value for c, name, value in after_first["custom_fields"]}
    blocks = [r.action.debtor_source_id for r in first.results if r.action.kind == ActionKind.BLOCK and r.outcome == ApplyOutcome.DONE]
    assert blocks and all(fields[(debtor, "Geblokkeerd")] == "ja" for debtor in blocks)
    limits = [r.action for r in first.results if r.action.kind == ActionKind.SET_CREDIT_LIMIT and r.outcome == ApplyOutcome.DONE]
    assert all(a.credit_limit and fields[(a.debtor_source_id, "Kredietlimiet")] == f"{a.credit_limit.amount:f}" for a in limits)

    # Moneybird's own workflow reminders are paused on every open invoice arconnect now dunns.
    paused = {i for r in first.results if r.action.kind == ActionKind.PAUSE_SOURCE_REMINDERS for i in r.action.item_source_ids}
    assert paused and paused <= set(after_first["paused"])
    assert set(world.sandbox.open_invoices(NL)) <= set(after_first["paused"])

    second = apply_connection(world.connection, run_date)
    assert second.changed == 0
    assert remote_state(world) == after_first
    assert len(world.smtp.received) == first.emails_sent


def test_the_first_desk_run_backfills_13_months_of_settled_invoices_once(world: World) -> None:
    """issue 14: Moneybird's sync reads only unpaid invoices; the desk's first run (serve after a
    sync, or `arconnect promise check`) stores the settled ones of the last 13 months, once."""
    from connector.actions.desk import run_desk
    from connector.runtime import open_store

    sync_connections(world.connection)
    with open_store() as store:
        before = {i.source_id for i in store.open_items(world.connection, include_closed=True)}
    settled = set(world.sandbox.invoice_ids(NL, states=("paid", "uncollectible")))
    first = run_desk(world.connection)
    with open_store() as store:
        after = {i.source_id: i for i in store.open_items(world.connection, include_closed=True)}
        payments = store.payments(world.connection)
    assert first.history is not None and first.history > 0
    added = set(after) - before
    assert added and added <= settled
    assert {after[i].status.value for i in added} <= {"paid", "written_off"}
    assert any(set(p.item_source_ids) & added for p in payments)
    assert run_desk(world.connection).history is None  # once
