"""Fixtures for the Exact adapter tests: an in-process sandbox, a signed-in ApiClient and a store.

The adapter is driven the way ``arconnect sync`` drives it (a fresh :class:`ExactAdapter` per run over
:func:`connector.sync.sync_connection`), against :class:`ExactSandbox` behind ``httpx`` in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from adapters.exact.adapter import ExactAdapter
from adapters.exact.client import EXACT_HTTP
from adapters.exact.sandbox import DivisionSpec, ExactSandbox, Realism
from adapters.exact.sandbox_admin import common_model_truth
from connector.http import ApiClient
from connector.ratelimit import RateLimiter
from connector.retry import RetryPolicy
from connector.runtime import StoreStateReader
from connector.sandbox import SandboxClock, transport
from connector.store import Store
from connector.sync import SyncReport, sync_connection

BASE = "http://sandbox.test"
CLIENT_ID = "0b7c9a52-5f1e-4c3d-9e2a-6d8f1a2b3c4d"
SECRET = "adapter-test-secret"
REDIRECT = "http://127.0.0.1:8765/callback"
#: 10:15:05 UTC: the sandbox's minute and day windows stay put during a fast test.
START = datetime(2025, 3, 12, 10, 15, 5, tzinfo=UTC)
TODAY = date(2025, 3, 12)
DIVISION = 101
CONNECTION = "exact-101"
#: Two pages of payment terms (1000 a page, §2.3) so that a sync can stop between pages.
SPEC = DivisionSpec(code=DIVISION, description="Adapter Test B.V.", accounts=40, terms=1200, country="NL")


@dataclass
class Rig:
    """The sandbox, one signed-in API client on it, and the store a sync writes to."""

    app: ExactSandbox
    api: ApiClient
    store: Store
    reports: list[SyncReport] = field(default_factory=list)
    adapters: list[ExactAdapter] = field(default_factory=list)

    def adapter(self) -> ExactAdapter:
        adapter = ExactAdapter(self.api, connection_id=CONNECTION, division=str(DIVISION),
                               state=StoreStateReader(self.store, CONNECTION))
        self.adapters.append(adapter)
        return adapter

    def sync(self, adapter: ExactAdapter | None = None, **kwargs: Any) -> SyncReport:
        report = sync_connection(adapter or self.adapter(), self.store, CONNECTION, **kwargs)
        self.reports.append(report)
        return report

    def calls(self) -> dict[str, int]:
        return dict(self.app.calls)

    def truth(self) -> dict[str, Any]:
        return common_model_truth(self.app, DIVISION)

    def stored(self) -> dict[str, Any]:
        """The store in the shape of :func:`common_model_truth`."""
        items = {i.source_id: i for i in self.store.open_items(CONNECTION, include_closed=True)}
        return {
            "debtors": sorted(d.source_id for d in self.store.debtors(CONNECTION)),
            "items": {k: str(v.open.amount) for k, v in sorted(items.items())},
            "open_items": {k: str(v.open.amount) for k, v in sorted(items.items()) if v.status.value == "open"},
            "payments": sorted(p.source_id for p in self.store.payments(CONNECTION)),
        }

    def bookmark(self, stream: str) -> str | None:
        return self.store.bookmark(CONNECTION, stream)


def same_amounts(left: dict[str, str], right: dict[str, str]) -> bool:
    return left.keys() == right.keys() and all(Decimal(left[k]) == Decimal(right[k]) for k in left)


def assert_store_equals_truth(rig: Rig) -> None:
    stored, truth = rig.stored(), rig.truth()
    assert stored["debtors"] == truth["debtors"]
    assert same_amounts(stored["items"], truth["items"])
    assert same_amounts(stored["open_items"], truth["open_items"])
    assert stored["payments"] == truth["payments"]


def signed_in_client(app: ExactSandbox) -> httpx.Client:
    """Consent for the division, code exchange (§1.2, §1.3), and a client with the bearer token."""
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    landing = app.approve(CLIENT_ID, REDIRECT, "st4te", [DIVISION])
    code = parse_qs(urlparse(landing).query)["code"][0]
    with httpx.Client(transport=transport(app), base_url=BASE) as http:
        token = http.post("/api/oauth2/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID, "client_secret": SECRET,
        }).json()["access_token"]
    return httpx.Client(transport=transport(app), base_url=BASE, headers={"Authorization": f"Bearer {token}"})


#: The ``realistic`` sandbox (issue 16 point 5) for a rig whose client holds one fixed bearer token: every
#: variation but the lapsing token, which needs the OAuth client (the contract suite has it on).
REALISTIC = Realism(expire_every=0)


@pytest.fixture
def rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Rig]:
    """The rig; ``@pytest.mark.parametrize("rig", [False, True], indirect=True)`` runs a test on the tidy and the
    realistic sandbox."""
    realistic = bool(getattr(request, "param", False))
    # The limits are not what these tests are about (tests/exact_sandbox/test_limits.py is): room for many runs.
    app = ExactSandbox(seed=11, divisions=(SPEC,), clock=SandboxClock(START), today=TODAY, minutely_limit=10_000,
                       realistic=REALISTIC if realistic else False)
    client = signed_in_client(app)
    store = Store(f"sqlite:///{tmp_path / 'arconnect.db'}")
    store.migrate()
    store.ensure_connection(CONNECTION, "exact", "Adapter Test B.V.")
    # Maintenance pages are retried (issue 16 point 2); the tests need not wait for the back-off.
    api = ApiClient(client, EXACT_HTTP, limiter_key=f"exact-test:{DIVISION}", limiter=RateLimiter(),
                    retry=RetryPolicy(sleep=lambda seconds: None))
    try:
        yield Rig(app, api, store)
    finally:
        client.close()
        store.close()
