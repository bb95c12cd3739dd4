"""The job functions the scheduler runs, in-process: outcomes, run records, once-a-day failure
reports, a failing connection that does not stop the others, and `arconnect status`."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from connector import config as cfg
from connector.serve.jobs import close_resources, resources, sync_job
from connector.store.lease import connection_lease
from tests.connector.serve.conftest import ROOT, Linked, assert_store_holds_the_division


def add_unlinked_connection() -> None:
    """A connection whose credential was never linked (or whose grant is gone): it must re-link."""
    config = cfg.load_config()
    config.credentials["exact-gone"] = config.credentials["exact-serve"].model_copy(update={"name": "exact-gone"})
    config.connections["exact-gone-1"] = config.connections[sorted(config.connections)[0]].model_copy(
        update={"name": "exact-gone-1", "credential": "exact-gone"})
    cfg.save_config(config)


def test_a_sync_job_syncs_and_records_the_run_with_its_runner(linked_factory: Callable[..., Linked]) -> None:
    linked: Linked = linked_factory(1)
    name = linked.connections[0]
    outcome = sync_job(name)
    assert (outcome["job"], outcome["subject"], outcome["outcome"]) == ("sync", f"connection:{name}", "ok")
    assert outcome["api_calls"] > 0
    store, _ = resources()
    (run,) = store.runs(name)
    assert (run.kind, run.outcome, run.api_calls) == ("sync", "ok", outcome["api_calls"])
    assert run.runner == f"{os.uname().nodename}:{os.getpid()}"
    assert_store_holds_the_division(store, linked, name)


def test_a_sync_job_skips_an_administration_another_runner_holds(linked_factory: Callable[..., Linked]) -> None:
    linked: Linked = linked_factory(1)
    name = linked.connections[0]
    taken, release = threading.Event(), threading.Event()

    def other_runner() -> None:
        with connection_lease(name):
            taken.set()
            release.wait(10)

    thread = threading.Thread(target=other_runner)
    thread.start()
    try:
        assert taken.wait(10)
        outcome = sync_job(name)
    finally:
        release.set()
        thread.join(10)
    assert outcome["outcome"] == "busy"
    assert outcome["detail"].startswith(f"connection {name} is busy")
    store, _ = resources()
    assert store.runs(name) == []
    assert linked.app.count("sync/CRM/Accounts") == 0


def test_a_connection_that_needs_relinking_is_reported_once_and_does_not_stop_the_others(
    linked_factory: Callable[..., Linked], caplog: pytest.LogCaptureFixture
) -> None:
    linked: Linked = linked_factory(2)
    add_unlinked_connection()
    with caplog.at_level(logging.INFO):
        rounds = [[sync_job(name) for name in ["exact-gone-1", *linked.connections]] for _ in range(3)]
    for outcomes in rounds:
        assert [o["outcome"] for o in outcomes] == ["failed", "ok", "ok"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("connection:exact-gone-1: sync failed: credential exact-gone is not linked yet")
    assert "arconnect link exact --name exact-gone" in errors[0]


def test_status_shows_the_last_runs_and_what_needs_attention(linked_factory: Callable[..., Linked]) -> None:
    linked: Linked = linked_factory(1)
    add_unlinked_connection()
    sync_job(linked.connections[0])
    sync_job("exact-gone-1")
    close_resources()
    shown = subprocess.run([sys.executable, "-c", "from connector.cli.main import main; main()", "status", "--format", "json"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    runs = {(r["connection"], r["kind"]): r for r in data["runs"]}
    good = runs[(linked.connections[0], "sync")]
    assert good["outcome"] == "ok" and good["api_calls"] > 0 and good["rate_limited"] == 0
    assert good["counts"]["open_items.stored"] > 0 and good["finished_at"] is not None
    assert runs[("exact-gone-1", "sync")]["outcome"] == "failed"
    (problem,) = data["problems"]
    assert (problem["subject"], problem["topic"]) == ("connection:exact-gone-1", "failing")
    table = subprocess.run([sys.executable, "-c", "from connector.cli.main import main; main()", "status"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert table.returncode == 0
    assert linked.connections[0] in table.stdout and "Needs attention" in table.stdout


def test_after_each_sync_serve_takes_the_days_snapshot_and_checks_the_desk(linked_factory: Callable[..., Linked]) -> None:
    from connector.runtime import today
    from connector.store.desk import Desk

    linked: Linked = linked_factory(1)
    name = linked.connections[0]
    assert sync_job(name)["outcome"] == "ok"
    store, _ = resources()
    desk = Desk(store)
    day = today(cfg.load_config().connection(name).timezone)
    taken = desk.snapshots(name, [day])[day]
    open_eur = sum((i.open.amount for i in store.open_items(name) if i.open.currency == "EUR"
                    and i.kind.value in ("invoice", "credit_note") and i.invoice_date <= day), start=0)
    assert taken["EUR"].total == open_eur
    assert store.get_state(name, ["desk:history"])  # the history check ran once, after the first sync
