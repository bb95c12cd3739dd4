"""`arconnect serve` processes against loopback Exact sandboxes (issue 6, "Done when").

* One database, two `serve` processes without a queue: one leads and syncs every administration,
  the other stands by; killing the leader in the middle of its syncs loses nothing: the other
  takes over, rebuilds the jobs from the configuration, marks the killed runs interrupted and
  syncs again, and the store ends up holding exactly what the sandbox holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from connector import config as cfg
from connector.store import Store
from tests.connector.serve.conftest import Linked, Serve, assert_store_holds_the_division, overlaps, wait_until


def runs_of(store: Store) -> list:  # type: ignore[type-arg]
    return store.runs(limit=10_000)


def test_a_standby_takes_over_from_a_killed_leader_and_nothing_is_lost(
    linked_factory: Callable[..., Linked], serve_processes: Serve, tmp_path: Path
) -> None:
    linked: Linked = linked_factory(3, accounts=15, terms=1_500)  # two pages of payment terms each
    linked.app.faults.slow(0.3, times=10_000)  # every call takes 0.3 s: the leader is killed mid-sync
    first = serve_processes.start("--workers", "4", "--poll", "0.5", "--log-format", "json")
    wait_until(lambda: "leading" in serve_processes.log(0), 30, "the first process to lead")
    second = serve_processes.start("--workers", "4", "--poll", "0.5", "--log-format", "json")
    store = Store(cfg.database_url())
    try:
        wait_until(lambda: "standing by" in serve_processes.log(1), 30, "the second process to stand by")

        def half_synced() -> bool:
            running = {r.connection_id for r in runs_of(store) if r.finished_at is None}
            return any(store.counts(c)["open_items"] > 0 and c in running for c in linked.connections)

        wait_until(half_synced, 30, "the leader to have stored part of an administration", poll=0.05)
        serve_processes.kill(first)
        partly = {c: store.counts(c)["open_items"] for c in linked.connections}
        linked.app.faults.clear()

        def all_synced_by_the_second() -> bool:
            done = {r.connection_id for r in runs_of(store) if r.outcome == "ok" and r.runner and
                    r.runner.endswith(f":{second.pid}")}
            return done == set(linked.connections)

        wait_until(all_synced_by_the_second, 40, "the second process to take over and sync everything")
        runs = runs_of(store)
        interrupted = [r for r in runs if r.outcome == "interrupted"]
        # The syncs start a few seconds apart (the scheduler spreads them), so the kill catches at least
        # the one that was half-way; whatever it caught was closed as interrupted and synced again.
        assert interrupted and {r.connection_id for r in interrupted} <= set(linked.connections)
        assert any(0 < partly[c] < len(linked.truth(c)["items"]) for c in linked.connections)
        assert all(r.runner and r.runner.endswith(f":{first.pid}") for r in interrupted)
        assert not [r for r in runs if r.outcome == "failed"]
        assert overlaps(runs) == []
        for connection in linked.connections:
            assert_store_holds_the_division(store, linked, connection)
    finally:
        store.close()
    leading = [json.loads(line) for line in serve_processes.log(1).splitlines() if '"leader"' in line]
    assert leading and leading[0]["jobs"] == 5  # 3 syncs, a keep-alive and a move-date check, rebuilt from the configuration
