"""One runner per administration: the connection lease on SQLite (lock file) and PostgreSQL
(advisory lock), across threads and processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.errors import Busy, TransientError
from connector.store.lease import connection_lease, lease_key, runner_id
from tests.connector.serve.conftest import ROOT, wait_until
from tests.support.pg import temporary_postgres_url


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with temporary_postgres_url("arconnect_serve_lease") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}"
    return str(request.getfixturevalue("pg_url"))


def hold_in_thread(url: str, connection: str, release: threading.Event) -> threading.Event:
    taken = threading.Event()

    def run() -> None:
        with connection_lease(connection, database_url=url):
            taken.set()
            release.wait(10)

    threading.Thread(target=run, daemon=True).start()
    assert taken.wait(10)
    return taken


def test_a_second_runner_is_told_the_connection_is_busy(db_url: str) -> None:
    release = threading.Event()
    hold_in_thread(db_url, "exact-101", release)
    try:
        with pytest.raises(Busy) as caught, connection_lease("exact-101", database_url=db_url):
            pass
        message = str(caught.value)
        assert message.startswith("connection exact-101 is busy: another sync or apply holds its lease")
        assert "try again later" in message and "\n" not in message
        assert caught.value.exit_code == TransientError.exit_code
    finally:
        release.set()


def test_leases_of_different_connections_do_not_block_each_other(db_url: str) -> None:
    release = threading.Event()
    hold_in_thread(db_url, "exact-101", release)
    try:
        with connection_lease("exact-202", database_url=db_url):
            pass
    finally:
        release.set()


def test_a_waiting_runner_gets_the_lease_once_it_is_released(db_url: str) -> None:
    release = threading.Event()
    hold_in_thread(db_url, "exact-101", release)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    with connection_lease("exact-101", wait=10, database_url=db_url):
        waited = time.monotonic() - started
    assert 0.3 < waited < 5


def test_a_bounded_wait_ends_in_busy_saying_how_long_it_waited(db_url: str) -> None:
    release = threading.Event()
    hold_in_thread(db_url, "exact-101", release)
    try:
        with pytest.raises(Busy, match=r"after waiting 0\.4 s"), connection_lease("exact-101", wait=0.4, database_url=db_url):
            pass
    finally:
        release.set()


def test_the_lease_is_reentrant_within_one_thread(db_url: str) -> None:
    with connection_lease("exact-101", database_url=db_url), connection_lease("exact-101", database_url=db_url):
        pass
    # and free again afterwards, for another thread
    release = threading.Event()
    hold_in_thread(db_url, "exact-101", release)
    release.set()


HOLDER = """
import sys, time
from connector.store.lease import connection_lease
with connection_lease(sys.argv[1], database_url=sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_killed_runner_leaves_no_stale_lease_and_is_named_while_it_lives(db_url: str) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, "exact-101", db_url], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(Busy) as caught, connection_lease("exact-101", database_url=db_url):
            pass
        assert f":{holder.pid})" in str(caught.value)  # "held by host:pid"
        assert runner_id().split(":")[0] in str(caught.value)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        if holder.stdout is not None:
            holder.stdout.close()

    def free() -> bool:
        try:
            with connection_lease("exact-101", database_url=db_url):
                return True
        except Busy:
            return False

    wait_until(free, 10, "the lease of the killed runner to be released")


def test_the_advisory_key_is_stable_and_differs_per_connection() -> None:
    assert lease_key("exact-101") == lease_key("exact-101")
    assert lease_key("exact-101") != lease_key("exact-202")
    assert -(2**63) <= lease_key("exact-101") < 2**63
