"""One read per credential and scheduling cycle instead of one per sync (issue 15 §3).

Exact's move dates (docs/reference/exact.md §4) of every division of a credential come from one paged
``system/Divisions`` read at the start of each cycle (``check_job``); each sync of the cycle is handed its
division's answer, so a quiet incremental sync costs three calls: accounts, payment terms, deletions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from adapters.exact.adapter import CHECKED_MOVE_KEY
from connector import config as cfg
from connector.runtime import CHECK_GRACE, checked_answer
from connector.serve.jobs import check_job, current_config, resources, sync_job
from tests.connector.serve.conftest import Linked, assert_store_holds_the_division

DIVISIONS = 130  # three pages of system/Divisions


def test_the_cycles_check_reads_every_division_in_one_paged_call_and_a_quiet_sync_then_costs_three_calls(
    linked_factory: Callable[..., Linked],
) -> None:
    linked: Linked = linked_factory(DIVISIONS, accounts=3, terms=5, sync_every_minutes=15)
    name = linked.connections[7]
    assert sync_job(name)["outcome"] == "ok"  # the first, full sync (it asked for its own move date)
    before = dict(linked.app.calls)

    outcome = check_job("exact-serve")

    assert (outcome["outcome"], outcome["detail"]) == ("ok", f"{DIVISIONS} answered")
    assert linked.app.calls["system/Divisions"] - before["system/Divisions"] == math.ceil(DIVISIONS / 60)
    store, _ = resources()
    assert checked_answer(store, current_config().connection(name)) == {CHECKED_MOVE_KEY: None}
    before = dict(linked.app.calls)

    quiet = sync_job(name)

    assert quiet["outcome"] == "ok" and quiet["api_calls"] == 3
    spent = {k: v - before.get(k, 0) for k, v in linked.app.calls.items() if v - before.get(k, 0)}
    assert spent == {"sync/CRM/Accounts": 1, "sync/Cashflow/PaymentTerms": 1, "sync/Deleted": 1}
    assert_store_holds_the_division(store, linked, name)


def test_a_move_the_check_saw_starts_that_divisions_streams_again(linked_factory: Callable[..., Linked]) -> None:
    linked: Linked = linked_factory(3, accounts=3, terms=5, sync_every_minutes=15)
    name = linked.connections[1]
    sync_job(name)
    linked.app.move_division(linked.divisions[name])
    check_job("exact-serve")
    store, _ = resources()
    before = store.bookmark(name, "open_items")
    before_calls = linked.app.calls["system/Divisions"]

    assert sync_job(name)["outcome"] == "ok"

    assert linked.app.calls["system/Divisions"] == before_calls  # the answer was handed, not asked again
    assert store.bookmark(name, "open_items") != before
    assert '"moved": "/Date(' in (store.bookmark(name, "open_items") or "")
    assert_store_holds_the_division(store, linked, name)


def test_an_answer_older_than_one_interval_and_the_grace_is_not_used(linked_factory: Callable[..., Linked]) -> None:
    linked: Linked = linked_factory(2, accounts=3, terms=5, sync_every_minutes=15)
    check_job("exact-serve")
    store, _ = resources()
    connection = cfg.load_config().connection(linked.connections[0])
    read_at = store.checked(connection.name, CHECKED_MOVE_KEY)
    assert read_at is not None
    limit = read_at[1] + timedelta(minutes=15) + CHECK_GRACE
    assert checked_answer(store, connection, now=limit) == {CHECKED_MOVE_KEY: None}
    assert checked_answer(store, connection, now=limit + timedelta(seconds=1)) == {}
    assert checked_answer(store, connection, now=datetime(2000, 1, 1, tzinfo=UTC)) == {}  # a clock gone back

    before = linked.app.calls["system/Divisions"]
    store.save_checked(CHECKED_MOVE_KEY, {connection.name: None}, datetime.now(UTC) - timedelta(hours=1))
    assert sync_job(connection.name)["outcome"] == "ok"
    assert linked.app.calls["system/Divisions"] == before + 1  # stale: the sync asked for itself
