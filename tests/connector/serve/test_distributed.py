"""Two `serve` processes with Celery workers on one PostgreSQL database and a Redis queue, against a
loopback Exact sandbox whose refresh tokens are single-use and rotate (docs/reference/exact.md §1.4).

The test floods the queue with syncs of every administration (duplicates included) while the
sandbox lets access tokens live one second instead of ten minutes (the client is still told 600 s),
so the workers of both processes keep meeting 401s and refreshing the one shared credential at the
same time: a refresh token used twice would be refused (400 invalid_grant) and fail a run.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from connector import config as cfg
from connector.auth import load_tokens, open_secret_store
from connector.runtime import sync_one
from connector.serve.distributed import make_app
from connector.store import Store
from tests.connector.serve.conftest import (
    CLIENT_SECRET,
    Linked,
    Serve,
    assert_store_holds_the_division,
    overlaps,
    wait_until,
)
from tests.support.pg import temporary_postgres_url

BROKER = "redis://127.0.0.1:6379/14"


@pytest.fixture
def pg_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with temporary_postgres_url("arconnect_serve_dist") as url:
        monkeypatch.setenv("ARCONNECT_DATABASE_URL", url)
        yield url


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"arconnect-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("ARCONNECT_QUEUE", name)
    yield name
    client = redis.Redis.from_url(BROKER)
    client.delete(name, *client.keys(f"_kombu.binding*.{name}"))
    client.close()


def test_two_serve_processes_sync_everything_never_twice_at_once_and_lose_no_refresh_token(
    linked_factory: Callable[..., Linked], serve_processes: Serve, pg_database: str, queue: str
) -> None:
    linked: Linked = linked_factory(6, accounts=10, terms=30)
    linked.app.issuer.rules = dataclasses.replace(linked.app.issuer.rules, access_lifetime=1, min_refresh_age=0)
    args = ("--broker", BROKER, "--workers", "3", "--poll", "0.5", "--log-format", "json")
    first = serve_processes.start(*args)
    second = serve_processes.start(*args)
    client = make_app(BROKER)
    store = Store(pg_database)
    try:
        wait_until(lambda: "leading" in serve_processes.log(0) + serve_processes.log(1), 30, "a leader")
        token_calls_before = linked.app.count("oauth2/token")
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            for connection in linked.connections:
                for _copy in range(2):  # the same administration twice on the queue at once
                    client.send_task("arconnect.run_job", args=["sync", connection], queue=queue)
            time.sleep(0.6)

        def drained() -> bool:
            waiting = redis.Redis.from_url(BROKER)
            try:
                empty = waiting.llen(queue) == 0
            finally:
                waiting.close()
            return empty and all(r.finished_at is not None for r in store.runs(limit=100_000))

        wait_until(drained, 40, "the queue to drain")
        time.sleep(1)
        wait_until(drained, 20, "the queue to drain")
        runs = store.runs(limit=100_000)
        ok = [r for r in runs if r.kind == "sync" and r.outcome == "ok"]
        assert {r.connection_id for r in ok} == set(linked.connections)
        assert all(len([r for r in ok if r.connection_id == c]) >= 3 for c in linked.connections)
        assert len({r.runner for r in ok}) >= 2, "both processes' workers ran syncs"
        assert [(r.connection_id, r.error) for r in runs if r.outcome != "ok"] == []
        assert overlaps(runs) == []
        # the rotating refresh token survived every concurrent refresh
        assert linked.app.count("oauth2/token") - token_calls_before >= 4  # about one a second
        assert linked.app.status_counts[400] == 0
        combined = serve_processes.log(0) + serve_processes.log(1)
        assert "is busy: another sync or apply holds its lease" in combined  # duplicates were skipped
        for connection in linked.connections:
            assert_store_holds_the_division(store, linked, connection)
        # the JSON logs of both processes and their workers carry no token and no client secret
        secrets = open_secret_store()
        tokens = load_tokens(secrets, "exact-serve")  # the last ones the workers used
        assert tokens is not None and '"level": "info"' in combined
        for secret in (tokens.access_value(), tokens.refresh_value(), CLIENT_SECRET):
            assert secret and secret not in combined
        config = cfg.load_config()
        after = sync_one(config, config.connection(linked.connections[0]), store, secrets)
        assert after.error is None
    finally:
        store.close()
        client.close()
    assert first.poll() is None and second.poll() is None
