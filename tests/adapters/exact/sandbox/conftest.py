"""Fixtures for the Exact Online sandbox tests: a fixed clock, the small sandbox, OAuth helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from adapters.exact.sandbox import ExactSandbox
from connector.sandbox import SandboxClock, transport

BASE = "http://sandbox.test"
CLIENT_ID = "b81cc4de-d192-400e-bcb4-09254394c52a"
SECRET = "s3cr3t-app-key"
REDIRECT = "http://127.0.0.1:8765/callback"
#: 10:15:05 UTC: the minute window stays 10:15 for the whole (fast) test.
START = datetime(2025, 3, 12, 10, 15, 5, tzinfo=UTC)
TODAY = date(2025, 3, 12)
NL, BE = 101, 202


@dataclass
class Tokens:
    access_token: str
    refresh_token: str


def code_from(redirect_url: str) -> str:
    """§1.2: the callback gets ?code=…&state=…; parse_qs URL-decodes %21 to '!'."""
    return parse_qs(urlparse(redirect_url).query)["code"][0]


def exchange(http: httpx.Client, code: str, *, secret: str = SECRET, redirect_uri: str = REDIRECT) -> httpx.Response:
    return http.post(
        "/api/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
              "client_id": CLIENT_ID, "client_secret": secret},
    )


def refresh(http: httpx.Client, refresh_token: str) -> httpx.Response:
    return http.post(
        "/api/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLIENT_ID,
              "client_secret": SECRET},
    )


def authorize(app: ExactSandbox, http: httpx.Client, divisions: tuple[int, ...] = (NL, BE)) -> Tokens:
    url = app.approve(CLIENT_ID, REDIRECT, "st4te", list(divisions))
    body = exchange(http, code_from(url)).json()
    return Tokens(body["access_token"], body["refresh_token"])


def bearer(tokens: Tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"}


def rows(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["d"]["results"]
    return results


def follow(api: httpx.Client, url: str, params: dict[str, str] | None = None) -> list[list[dict[str, Any]]]:
    """Every page of a list, following __next verbatim (§2.3)."""
    pages: list[list[dict[str, Any]]] = []
    response = api.get(url, params=params)
    while True:
        pages.append(rows(response))
        nxt = response.json()["d"].get("__next")
        if not nxt:
            return pages
        response = api.get(nxt)


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(START)


def make_app(clock: SandboxClock, **kwargs: Any) -> ExactSandbox:
    app = ExactSandbox.small(seed=42, clock=clock, today=TODAY, **kwargs)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    return app


@pytest.fixture
def app(clock: SandboxClock) -> ExactSandbox:
    return make_app(clock)


@pytest.fixture
def http(app: ExactSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport(app), base_url=BASE) as client:
        yield client


@pytest.fixture
def tokens(app: ExactSandbox, http: httpx.Client) -> Tokens:
    return authorize(app, http)


@pytest.fixture
def api(app: ExactSandbox, tokens: Tokens) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport(app), base_url=BASE, headers=bearer(tokens)) as client:
        yield client


def custom_app(clock: SandboxClock, *specs: Any, **kwargs: Any) -> ExactSandbox:
    app = ExactSandbox(divisions=tuple(specs), clock=clock, today=TODAY, **kwargs)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    return app


def client_for(app: ExactSandbox, divisions: tuple[int, ...]) -> httpx.Client:
    """An httpx client with a bearer token for ``divisions`` (close it, or use it in a with block)."""
    with httpx.Client(transport=transport(app), base_url=BASE) as http:
        tokens = authorize(app, http, divisions)
    return httpx.Client(transport=transport(app), base_url=BASE, headers=bearer(tokens))
