"""Injected faults in Exact's shapes (connector.sandbox Faults)."""

from __future__ import annotations

import time

import httpx
import pytest

from adapters.exact.sandbox import ExactSandbox

from .conftest import NL

TERMS = f"/api/v1/{NL}/sync/Cashflow/PaymentTerms"
PARAMS = {"$select": "ID,AmountDC,Timestamp", "$filter": "Timestamp gt 1L"}


def test_5xx_faults_then_recovery(api: httpx.Client, app: ExactSandbox) -> None:
    app.faults.fail(503, endpoint="sync/Cashflow/PaymentTerms")
    app.faults.fail(500, endpoint="sync/Cashflow/PaymentTerms")
    unavailable = api.get(TERMS, params=PARAMS)
    assert unavailable.status_code == 503
    assert unavailable.headers["content-type"].startswith("text/html")
    internal = api.get(TERMS, params=PARAMS)
    assert internal.status_code == 500
    assert internal.json()["error"]["message"]["value"] == "An error has occurred."
    assert api.get(TERMS, params=PARAMS).status_code == 200


def test_injected_429_looks_like_a_minutely_limit(api: httpx.Client, app: ExactSandbox) -> None:
    api.get("/api/v1/current/Me")
    app.faults.fail(429, endpoint="sync/Cashflow/PaymentTerms")
    response = api.get(TERMS, params=PARAMS)
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Remaining" not in response.headers


def test_dropped_connection(api: httpx.Client, app: ExactSandbox) -> None:
    app.faults.drop(endpoint="sync/Cashflow/PaymentTerms")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(TERMS, params=PARAMS)
    assert api.get(TERMS, params=PARAMS).status_code == 200


def test_malformed_record_in_a_term_page(api: httpx.Client, app: ExactSandbox) -> None:
    app.faults.malformed(endpoint="sync/Cashflow/PaymentTerms")
    results = api.get(TERMS, params=PARAMS).json()["d"]["results"]
    bad = [r for r in results if not isinstance(r["AmountDC"], int | float)]
    assert len(bad) == 1
    assert isinstance(bad[0]["Timestamp"], int)
    again = api.get(TERMS, params=PARAMS).json()["d"]["results"]
    assert all(isinstance(r["AmountDC"], int | float) for r in again)


def test_malformed_account_lacks_its_id(api: httpx.Client, app: ExactSandbox) -> None:
    app.faults.malformed(endpoint="sync/CRM/Accounts")
    results = api.get(f"/api/v1/{NL}/sync/CRM/Accounts", params={"$select": "ID,Name,Timestamp", "$filter": "Timestamp gt 1L"}).json()["d"]["results"]
    assert sum(1 for r in results if "ID" not in r) == 1


def test_slow_fault_delays_the_answer_then_speeds_up(api: httpx.Client, app: ExactSandbox) -> None:
    app.faults.slow(0.3, endpoint="sync/Cashflow/PaymentTerms")
    started = time.monotonic()
    assert api.get(TERMS, params=PARAMS).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert api.get(TERMS, params=PARAMS).status_code == 200
    assert time.monotonic() - started < 0.3


def test_a_429_storm_refuses_call_after_call_then_stops(api: httpx.Client, app: ExactSandbox) -> None:
    app.faults.fail(429, endpoint="sync/Cashflow/PaymentTerms", times=4)
    storm = [api.get(TERMS, params=PARAMS) for _ in range(4)]
    assert [r.status_code for r in storm] == [429] * 4
    for response in storm:  # §8: a minutely 429 carries the minutely headers only, reset in epoch ms
        assert response.headers["X-RateLimit-Minutely-Remaining"] == "0"
        assert response.headers["X-RateLimit-Minutely-Reset"].isdigit()
        assert len(response.headers["X-RateLimit-Minutely-Reset"]) == 13
        assert "X-RateLimit-Reset" not in response.headers
    assert api.get(TERMS, params=PARAMS).status_code == 200
    assert api.get(f"/api/v1/{NL}/sync/CRM/Accounts", params={"$select": "ID", "$filter": "Timestamp gt 1L"}).status_code == 200
