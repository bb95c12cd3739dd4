"""Fixtures for the Adsolut tests: a fixed clock, the small sandbox, an authorised HTTP client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from adapters.adsolut.sandbox import DEFAULT_DOSSIERS, AdsolutSandbox
from connector.sandbox import SandboxClock, transport

BASE = "http://sandbox.test"
CLIENT_ID = "wk-client-1"
SECRET = "wk-secret-1"
REDIRECT = "http://127.0.0.1:8765/callback"
#: Thursday 12 March 2026, 11:00:05 in Brussels.
START = datetime(2026, 3, 12, 10, 0, 5, tzinfo=UTC)
DOSSIER = DEFAULT_DOSSIERS[0].id
OTHER_DOSSIER = DEFAULT_DOSSIERS[1].id
ALL_SCOPES = "openid profile offline_access WK.BE.Administrations WK.BE.Accounting.Read WK.BE.Accounting.Write"
DATA = Path(__file__).resolve().parents[2] / "data" / "adsolut"


def sample(name: str) -> dict[str, Any]:
    """A sample from tests/data/adsolut without its ``_origin`` note."""
    body: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    body.pop("_origin", None)
    return body


def code_from(redirect_url: str) -> str:
    return parse_qs(urlparse(redirect_url).query)["code"][0]


def tokens_for(sandbox: AdsolutSandbox, http: httpx.Client, scope: str = ALL_SCOPES) -> dict[str, Any]:
    """Consent click, then the code exchange with HTTP Basic client authentication (reference A2)."""
    code = code_from(sandbox.approve(CLIENT_ID, REDIRECT, "st4te", scope))
    response = http.post("/auth/core/connect/token", auth=(CLIENT_ID, SECRET), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
    })
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(START)


@pytest.fixture
def sandbox(clock: SandboxClock) -> AdsolutSandbox:
    app = AdsolutSandbox(seed=3, clock=clock, rate_limit=10_000)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    return app


@pytest.fixture
def http(sandbox: AdsolutSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport(sandbox, BASE), base_url=BASE) as client:
        yield client


@pytest.fixture
def api(sandbox: AdsolutSandbox, http: httpx.Client) -> httpx.Client:
    """A client with a valid access token for every scope, its app activated on DOSSIER."""
    token = tokens_for(sandbox, http)["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    assert http.post(f"/adm/v1/administrations/{DOSSIER}/integrations").status_code == 204
    return http
