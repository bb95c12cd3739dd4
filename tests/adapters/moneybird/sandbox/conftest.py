"""Fixtures for the Moneybird sandbox tests: a fixed clock, the small sandbox, an authorised client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from adapters.moneybird.sandbox import MoneybirdSandbox
from connector.sandbox import SandboxClock, transport

BASE = "http://sandbox.test"
CLIENT_ID = "mb-client-1"
SECRET = "mb-secret-1"
REDIRECT = "http://127.0.0.1:8765/callback"
#: Thursday 12 March 2026, 11:00:05 in Amsterdam.
START = datetime(2026, 3, 12, 10, 0, 5, tzinfo=UTC)
TODAY = date(2026, 3, 12)
NL = "123456789012345678"
BE = "223456789012345678"
API = f"/api/v2/{NL}"


def code_from(redirect_url: str) -> str:
    return parse_qs(urlparse(redirect_url).query)["code"][0]


def token_for(sandbox: MoneybirdSandbox, http: httpx.Client, scope: str = "sales_invoices settings") -> str:
    """The whole authorization-code flow: consent click, then the code exchange (reference §2)."""
    code = code_from(sandbox.approve(CLIENT_ID, REDIRECT, "st4te", scope=scope))
    response = http.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID, "client_secret": SECRET,
    })
    assert response.status_code == 200
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(START)


@pytest.fixture
def sandbox(clock: SandboxClock) -> MoneybirdSandbox:
    app = MoneybirdSandbox.small(clock=clock)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    return app


@pytest.fixture
def http(sandbox: MoneybirdSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport(sandbox, BASE), base_url=BASE) as client:
        yield client


@pytest.fixture
def api(sandbox: MoneybirdSandbox, http: httpx.Client) -> httpx.Client:
    """``http`` with a bearer token of scopes sales_invoices + settings."""
    http.headers["Authorization"] = f"Bearer {token_for(sandbox, http)}"
    return http
