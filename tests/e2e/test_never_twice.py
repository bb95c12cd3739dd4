"""Issue 11.2: the local journal is not the only guard against dunning twice.

The Exact sandbox over real HTTP and a real SMTP server: a first apply sends e-mails and stores
letters as documents; then the journal goes (the database is deleted, or the connection is removed
and linked again) and apply runs again. Counted at the SMTP server and in the sandbox: nothing is
sent or stored a second time.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from connector import config as cfg
from connector.actions.applying import apply_connection
from connector.actions.rebuild import REBUILT_REASON
from connector.cli.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoBrowser
from connector.cli.main import app
from connector.runtime import link_package, open_store, sync_connections, today
from rules.calendar import business_day_in_all
from tests.e2e.conftest import World


def run_day() -> str:
    return business_day_in_all(today(), ("NL",)).isoformat()


def first_apply(world: World) -> tuple[int, int, int]:
    sync_connections(world.connection)
    result = apply_connection(world.connection, business_day_in_all(today(), ("NL",)))
    sent = len(world.smtp.received)
    assert sent > 0 and result.emails_sent == sent
    documents, notes = len(world.sandbox.documents(world.division)), len(world.sandbox.notes(world.division))
    assert documents > 0 and notes > 0
    return sent, documents, notes


def apply_again(world: World) -> None:
    sync_connections(world.connection)
    apply_connection(world.connection, business_day_in_all(today(), ("NL",)))


def relink(world: World) -> None:
    """What the bookkeeper does after removing a connection: link it again, set rules and mail again."""
    credential = cfg.load_config().credentials["exact-e2e"]
    [connection] = [c for c in link_package(
        "exact", region="nl", client_id=DEMO_CLIENT_ID, redirect_uri=credential.redirect_uri, credential_name="exact-e2e",
        host=credential.host, open_browser=True, divisions=[str(world.division)], say=lambda _: None,
        opener=DemoBrowser(), client_secret_value=DEMO_CLIENT_SECRET,
    )]
    assert connection.name == world.connection
    config = cfg.load_config()
    config.connections[connection.name] = connection.model_copy(update={
        "rules_file": saved_rules, "reminders_sent_by": "arconnect", "mail": saved_mail,
    })
    cfg.save_config(config)


saved_rules: str | None = None
saved_mail: cfg.MailConfig | None = None


def remember_settings(world: World) -> None:
    global saved_rules, saved_mail
    connection = cfg.load_config().connection(world.connection)
    saved_rules, saved_mail = connection.rules_file, connection.mail


def test_a_deleted_database_then_apply_sends_nothing_twice(world: World, arconnect_home: Path) -> None:
    sent, documents, notes = first_apply(world)
    for path in (arconnect_home / "data").glob("arconnect.db*"):
        path.unlink()

    apply_again(world)
    assert len(world.smtp.received) == sent
    assert len(world.sandbox.documents(world.division)) == documents
    assert len(world.sandbox.notes(world.division)) == notes
    store = open_store()
    try:
        rebuilt = [e for e in store.journal(world.connection) if e.reason == REBUILT_REASON]
    finally:
        store.close()
    assert rebuilt, "the journal was rebuilt from the package's notes before planning"


def test_remove_relink_apply_sends_nothing_twice(world: World) -> None:
    sent, documents, notes = first_apply(world)
    remember_settings(world)
    result = CliRunner().invoke(app, ["connections", "remove", world.connection, "--yes"])
    assert result.exit_code == 0, result.stdout
    assert "archived" in result.stdout and f"arconnect journal purge {world.connection}" in result.stdout

    relink(world)
    apply_again(world)
    assert len(world.smtp.received) == sent
    assert len(world.sandbox.documents(world.division)) == documents
    assert len(world.sandbox.notes(world.division)) == notes


def test_remove_purge_relink_apply_still_sends_nothing_twice(world: World) -> None:
    """Even with the archive purged, the package's own records stop a second e-mail."""
    sent, documents, notes = first_apply(world)
    remember_settings(world)
    runner = CliRunner()
    assert runner.invoke(app, ["connections", "remove", world.connection, "--yes"]).exit_code == 0
    purged = runner.invoke(app, ["journal", "purge", world.connection, "--yes"])
    assert purged.exit_code == 0, purged.stdout

    relink(world)
    apply_again(world)
    assert len(world.smtp.received) == sent
    assert len(world.sandbox.documents(world.division)) == documents
    assert len(world.sandbox.notes(world.division)) == notes


def test_remove_asks_first_and_keeps_everything_when_refused(world: World) -> None:
    result = CliRunner().invoke(app, ["connections", "remove", world.connection], input="n\n")
    assert result.exit_code == 1
    assert "Remove connection" in result.stdout
    assert world.connection in cfg.load_config().connections
