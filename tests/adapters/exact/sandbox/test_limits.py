"""Rate limits (docs/reference/exact.md §8) and the error budget (§2.8)."""

from __future__ import annotations

import httpx

from connector.sandbox import SandboxClock

from .conftest import BE, NL, client_for, make_app

DAILY = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
MINUTELY = ("x-ratelimit-minutely-limit", "x-ratelimit-minutely-remaining", "x-ratelimit-minutely-reset")


def test_every_response_carries_both_windows_in_epoch_ms(api: httpx.Client) -> None:
    response = api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID"})
    assert response.headers["X-RateLimit-Limit"] == "5000"
    assert response.headers["X-RateLimit-Remaining"] == "4999"
    assert response.headers["X-RateLimit-Reset"] == "1741824000000"  # 2025-03-13T00:00:00Z
    assert response.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert response.headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert response.headers["X-RateLimit-Minutely-Reset"] == "1741774560000"  # 2025-03-12T10:16:00Z
    error = api.get(f"/api/v1/{NL}/sync/CRM/Accounts")  # a 400 also counts and carries the headers
    assert error.status_code == 400
    assert error.headers["X-RateLimit-Minutely-Remaining"] == "58"


def test_limits_count_per_division(api: httpx.Client) -> None:
    api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID"})
    other = api.get(f"/api/v1/{BE}/crm/Accounts", params={"$select": "ID"})
    assert other.headers["X-RateLimit-Minutely-Remaining"] == "59"


def test_the_61st_call_in_a_minute_is_a_429_with_only_minutely_headers(api: httpx.Client, clock: SandboxClock) -> None:
    for _ in range(60):
        assert api.get("/api/v1/current/Me").status_code == 200
    refused = api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID"})
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Minutely-Reset"] == "1741774560000"
    assert not any(h in refused.headers for h in DAILY)
    # §8 Retry-After is [UNVERIFIED]: the sandbox reads the reference as "Exact sends the reset headers only".
    assert "Retry-After" not in refused.headers
    clock.advance(60)
    again = api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID"})
    assert again.status_code == 200
    assert again.headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert again.headers["X-RateLimit-Remaining"] == str(5000 - 61)  # the refused call did not count


def test_daily_exhaustion_sends_only_daily_headers_until_midnight_utc(clock: SandboxClock) -> None:
    app = make_app(clock, daily_limit=3)
    with client_for(app, (NL,)) as api:
        for _ in range(3):
            assert api.get("/api/v1/current/Me").status_code == 200
        refused = api.get("/api/v1/current/Me")
        assert refused.status_code == 429
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert refused.headers["X-RateLimit-Reset"] == "1741824000000"
        assert not any(h in refused.headers for h in MINUTELY)
    clock.advance(14 * 3600)  # 00:15 UTC the next day (with a new access token: the old one expired)
    with client_for(app, (NL,)) as api:
        assert api.get("/api/v1/current/Me").status_code == 200


def test_ten_errors_in_an_hour_block_that_endpoint(clock: SandboxClock) -> None:
    app = make_app(clock)
    path = f"/api/v1/{NL}/sync/Cashflow/PaymentTerms"
    good = {"$select": "ID", "$filter": "Timestamp gt 1L"}
    with client_for(app, (NL,)) as api:
        for _ in range(10):
            assert api.get(path).status_code == 400  # no $select
        blocked = api.get(path, params=good)
        assert blocked.status_code == 403
        assert blocked.json()["error"]["message"]["value"].startswith("Too many errors on this endpoint")
        assert api.get(f"/api/v1/{NL}/sync/CRM/Accounts", params=good).status_code == 200  # other endpoints work
        assert api.get(f"/api/v1/{BE}/sync/Cashflow/PaymentTerms", params=good).status_code == 403  # not ticked
    clock.advance(3600)
    with client_for(app, (NL,)) as api:
        assert api.get(path, params=good).status_code == 200


def test_errors_older_than_an_hour_do_not_count(clock: SandboxClock) -> None:
    app = make_app(clock)
    path = f"/api/v1/{NL}/sync/Deleted"
    with client_for(app, (NL,)) as api:
        for _ in range(9):
            assert api.get(path).status_code == 400
    clock.advance(3601)
    with client_for(app, (NL,)) as api:
        assert api.get(path).status_code == 400  # the only error within the last hour
        assert api.get(path, params={"$select": "ID"}).status_code == 200
