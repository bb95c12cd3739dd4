"""A Moneybird adapter wired to the in-process sandbox, a SQLite store and a sandbox-clocked limiter.

The limiter and the retry policy sleep by moving the sandbox clock, so pacing under the real
150-per-5-minutes limit runs in milliseconds while the sandbox still counts every window.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.moneybird.adapter import MoneybirdAdapter
from adapters.moneybird.client import MONEYBIRD_HTTP
from adapters.moneybird.sandbox import AdministrationSpec, MoneybirdSandbox
from connector.http import ApiClient, make_client
from connector.ratelimit import RateLimiter
from connector.retry import RetryPolicy
from connector.runtime import StoreStateReader
from connector.sandbox import SandboxClock, transport
from connector.store import Store
from connector.sync import SyncReport, sync_connection
from tests.adapters.moneybird.sandbox.conftest import CLIENT_ID, REDIRECT, SECRET, token_for

BASE = "http://sandbox.test"
NL = "123456789012345678"
CONNECTION = "mb-test"
#: Thursday 12 March 2026, 11:00:05 in Amsterdam.
START = datetime(2026, 3, 12, 10, 0, 5, tzinfo=UTC)


class RecordingTransport(httpx.BaseTransport):
    """Passes every request on to the sandbox and keeps (method, path, JSON body) of each."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, Any]] = []
        self.urls: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.urls.append(request.url)
        is_json = request.headers.get("content-type", "").startswith("application/json")
        self.sent.append((request.method, request.url.path, json.loads(body) if body and is_json else None))
        return self.inner.handle_request(request)

    def posts(self, suffix: str) -> list[Any]:
        return [body for method, path, body in self.sent if method == "POST" and path.endswith(suffix)]


@dataclass
class Rig:
    sandbox: MoneybirdSandbox
    clock: SandboxClock
    store: Store
    recorder: RecordingTransport
    api: ApiClient
    limiter: RateLimiter
    adapters: list[MoneybirdAdapter] = field(default_factory=list)

    def adapter(self, **kwargs: Any) -> MoneybirdAdapter:
        adapter = MoneybirdAdapter(
            self.api, connection_id=CONNECTION, administration_id=NL,
            state=StoreStateReader(self.store, CONNECTION), clock=self.clock.now, **kwargs,
        )
        self.adapters.append(adapter)
        return adapter

    def sync(self) -> SyncReport:
        return sync_connection(self.adapter(), self.store, CONNECTION)

    def calls(self, name: str) -> int:
        return self.sandbox.count(name)


def build_rig(tmp_path: Path, *, contacts: int = 60, invoices: int = 400, limit: int = 150) -> Iterator[Rig]:
    clock = SandboxClock(START)
    sandbox = MoneybirdSandbox(
        seed=5, clock=clock, limit=limit, window_seconds=300,
        administrations=(AdministrationSpec(id=NL, name="Parkietje B.V.", contacts=contacts, invoices=invoices),),
    )
    sandbox.register_client(CLIENT_ID, SECRET, REDIRECT)
    inner = transport(sandbox, BASE)
    recorder = RecordingTransport(inner)
    with httpx.Client(transport=inner, base_url=BASE) as browser:
        token = token_for(sandbox, browser)
    http = make_client(BASE, transport=recorder, headers={"Authorization": f"Bearer {token}"})
    limiter = RateLimiter(clock=clock.now, sleep=clock.advance)
    api = ApiClient(
        http, MONEYBIRD_HTTP, limiter_key="moneybird:test", limiter=limiter,
        retry=RetryPolicy(sleep=clock.advance, clock=clock.now), clock=clock.now,
    )
    store = Store(f"sqlite:///{tmp_path / 'mb.db'}")
    store.migrate()
    store.ensure_connection(CONNECTION, "moneybird", "Parkietje B.V.")
    sandbox.reset_counts()
    recorder.sent.clear()
    recorder.urls.clear()
    try:
        yield Rig(sandbox, clock, store, recorder, api, limiter)
    finally:
        http.close()
        store.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield from build_rig(tmp_path)
