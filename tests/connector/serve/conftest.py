"""Fixtures of the serve tests: isolated dirs, Exact sandboxes on 127.0.0.1 linked over real OAuth,
``arconnect serve`` processes, and the run records the assertions read."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.exact.sandbox import ExactSandbox
from adapters.exact.sandbox_admin import common_model_truth
from adapters.exact.sandbox_data import DivisionSpec
from connector import config as cfg
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.cli.demo import free_port
from connector.runtime import link_package
from connector.sandbox import RunningServer, serve
from connector.serve.jobs import close_resources
from connector.store import Store
from connector.store.rows import RunRow
from tests.support.paths import REPO

CLIENT_ID = "arconnect-serve-test"
CLIENT_SECRET = "serve-test-secret"
ROOT = REPO


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARCONNECT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "plain-file")
    for name in ("ARCONNECT_DATABASE_URL", "ARCONNECT_BROKER_URL", "ARCONNECT_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@dataclass
class Linked:
    """An Exact sandbox on loopback, one credential linked to it, one connection per division."""

    app: ExactSandbox
    server: RunningServer
    connections: list[str]
    divisions: dict[str, int]

    def truth(self, connection: str) -> dict[str, Any]:
        return common_model_truth(self.app, self.divisions[connection])


def stored(store: Store, connection: str) -> dict[str, Any]:
    """The store in the shape of :func:`common_model_truth`."""
    items = {i.source_id: i for i in store.open_items(connection, include_closed=True)}
    return {
        "debtors": sorted(d.source_id for d in store.debtors(connection)),
        "items": {k: Decimal(str(v.open.amount)) for k, v in sorted(items.items())},
        "payments": sorted(p.source_id for p in store.payments(connection)),
    }


def assert_store_holds_the_division(store: Store, linked: Linked, connection: str) -> None:
    got, truth = stored(store, connection), linked.truth(connection)
    assert got["debtors"] == truth["debtors"]
    assert got["items"] == {k: Decimal(v) for k, v in truth["items"].items()}
    assert got["payments"] == truth["payments"]


def link_exact(divisions: int, *, accounts: int = 12, terms: int = 40, sync_every_minutes: int = 1,
               **connection_settings: Any) -> Linked:
    """Serve a sandbox with ``divisions`` divisions and link them all through the real OAuth flow."""
    specs = tuple(
        DivisionSpec(code=300 + i, description=f"Serve Test {i} B.V.", accounts=accounts, terms=terms, country="NL")
        for i in range(divisions)
    )
    app = ExactSandbox(divisions=specs, minutely_limit=10_000, daily_limit=1_000_000, token_daily_limit=100_000)
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    app.register_client(CLIENT_ID, CLIENT_SECRET, redirect)
    server = serve(app)

    def tick_every_division(url: str) -> None:
        """The person at the consent page ticks every division and presses Allow (docs/reference/exact.md §1.2)."""
        state = parse_qs(urlsplit(url).query)["state"][0]
        landing = app.approve(CLIENT_ID, redirect, state, [spec.code for spec in specs])
        threading.Thread(target=lambda: httpx.get(landing, timeout=10), daemon=True).start()

    created = link_package(
        "exact", region="nl", client_id=CLIENT_ID, redirect_uri=redirect, credential_name="exact-serve",
        host=server.url, open_browser=True, divisions=[], say=lambda _line: None, opener=tick_every_division,
        client_secret_value=CLIENT_SECRET,
    )
    assert len(created) == divisions
    config = cfg.load_config()
    for connection in created:
        config.connections[connection.name] = connection.model_copy(
            update={"sync_every_minutes": sync_every_minutes, **connection_settings}
        )
    cfg.save_config(config)
    return Linked(app, server, sorted(c.name for c in created),
                  {c.name: int(c.administration) for c in created})


@pytest.fixture
def linked_factory() -> Iterator[Callable[..., Linked]]:
    made: list[Linked] = []

    def make(divisions: int, **kwargs: Any) -> Linked:
        linked = link_exact(divisions, **kwargs)
        made.append(linked)
        return linked

    yield make
    for linked in made:
        linked.server.stop()


@dataclass
class Serve:
    """``arconnect serve`` child processes with their output in files."""

    tmp: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    files: list[BinaryIO] = field(default_factory=list)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        index = len(self.processes)
        log = (self.tmp / f"serve-{index}.log").open("wb")
        self.files.append(log)
        process = subprocess.Popen(
            [sys.executable, "-c", "from connector.cli.main import main; main()", "serve", *args],
            cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def log(self, index: int) -> str:
        return (self.tmp / f"serve-{index}.log").read_text(encoding="utf-8", errors="replace")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process and everything it started (its Celery worker child)."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for file in self.files:
            file.close()


@pytest.fixture
def serve_processes(tmp_path: Path) -> Iterator[Serve]:
    processes = Serve(tmp_path)
    yield processes
    processes.stop_all()


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def overlaps(runs: list[RunRow]) -> list[tuple[RunRow, RunRow]]:
    """Pairs of runs of one connection whose [start, end] intervals overlap."""
    found: list[tuple[RunRow, RunRow]] = []
    by_connection: dict[str, list[RunRow]] = {}
    for run in runs:
        by_connection.setdefault(run.connection_id, []).append(run)
    for group in by_connection.values():
        group.sort(key=lambda r: r.started_at)
        for earlier, later in itertools.pairwise(group):
            end: datetime | None = earlier.finished_at
            if end is None or later.started_at < end:
                found.append((earlier, later))
    return found


@pytest.fixture(autouse=True)
def fresh_resources() -> Iterator[None]:
    """The jobs keep their store and secret store per process; every test starts without them."""
    close_resources()
    yield
    close_resources()


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""
    server = LocalSmtpServer(free_port()).start()
    yield server
    server.stop()
