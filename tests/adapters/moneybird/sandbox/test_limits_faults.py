"""Rate limit (reference §9), injected faults, lazy generation and loopback serving."""

from __future__ import annotations

import time

import httpx

from adapters.moneybird.sandbox import AdministrationSpec, MoneybirdSandbox, serve_moneybird
from connector.sandbox import SandboxClock, transport
from tests.adapters.moneybird.sandbox.conftest import (
    API,
    BASE,
    CLIENT_ID,
    REDIRECT,
    SECRET,
    START,
    code_from,
    token_for,
)


def _limited(clock: SandboxClock, limit: int) -> tuple[MoneybirdSandbox, httpx.Client]:
    app = MoneybirdSandbox.small(clock=clock, limit=limit, window_seconds=300)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    http = httpx.Client(transport=transport(app, BASE), base_url=BASE)
    http.headers["Authorization"] = f"Bearer {token_for(app, http)}"
    return app, http


def test_rate_limit_headers_on_every_response(api: httpx.Client) -> None:
    headers = api.get(f"{API}/workflows.json").headers
    reset = int(START.timestamp()) + 300
    assert headers["RateLimit-Limit"] == "150"
    assert headers["RateLimit-Reset"] == str(reset)
    assert headers["RateLimit-RequestsRemaining"] == "149"
    assert headers["RateLimit-Remaining"] == "300"  # seconds until the reset, as observed live


def test_429_after_the_limit_with_absolute_epoch_retry_after(clock: SandboxClock) -> None:
    _app, http = _limited(clock, 3)
    try:
        statuses = [http.get(f"{API}/workflows.json").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = http.get(f"{API}/workflows.json")
        assert refused.json() == "Retry later"
        assert refused.headers["Retry-After"] == str(int(START.timestamp()) + 300)
        assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
        clock.advance(300)
        assert http.get(f"{API}/workflows.json").status_code == 200
    finally:
        http.close()


def test_injected_429_looks_like_moneybirds(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    sandbox.faults.fail(429, endpoint="sales_invoices/synchronization")
    response = api.get(f"{API}/sales_invoices/synchronization.json")
    assert response.status_code == 429
    assert response.json() == "Retry later"
    assert int(response.headers["Retry-After"]) > 1_000_000_000
    assert api.get(f"{API}/sales_invoices/synchronization.json").status_code == 200


def test_injected_5xx_is_an_html_page(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    sandbox.faults.fail(503, endpoint="sales_invoices", times=2)
    first = api.get(f"{API}/sales_invoices.json")
    assert first.status_code == 503
    assert first.headers["content-type"].startswith("text/html")
    assert api.get(f"{API}/sales_invoices.json").status_code == 503
    assert api.get(f"{API}/sales_invoices.json").status_code == 200


def test_malformed_fault_spoils_one_record_once(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    ids = [r["id"] for r in api.get(f"{API}/sales_invoices/synchronization.json").json()[:5]]
    sandbox.faults.malformed(endpoint="sales_invoices/synchronization")
    rows = api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": ids}).json()
    assert [r["total_unpaid"] for r in rows].count("n/a") == 1
    again = api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": ids}).json()
    assert "n/a" not in [r["total_unpaid"] for r in again]


def test_dropped_connection(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    sandbox.faults.drop(endpoint="administrations")
    try:
        api.get("/api/v2/administrations.json")
    except httpx.RemoteProtocolError:
        pass
    else:
        raise AssertionError("the connection should have dropped")


def test_100k_invoices_construct_lazily(clock: SandboxClock) -> None:
    started = time.perf_counter()
    app = MoneybirdSandbox(clock=clock, administrations=(
        AdministrationSpec(id="123456789012345678", name="Groot B.V.", contacts=20_000, invoices=100_000),))
    admin = app.admin("123456789012345678")
    assert admin.invoices == {} and admin.contacts == {}
    last = admin.make_id(2, 99_999)
    assert app.invoice("123456789012345678", last)["id"] == last
    assert admin.invoices == {}  # reading does not materialise
    assert time.perf_counter() - started < 5  # a generous bound: construction must not generate rows


def test_same_seed_same_data(clock: SandboxClock) -> None:
    one, two = MoneybirdSandbox.small(seed=7, clock=clock), MoneybirdSandbox.small(seed=7, clock=clock)
    ident = one.admin("123456789012345678").make_id(2, 42)
    assert one.invoice("123456789012345678", ident) == two.invoice("123456789012345678", ident)


def test_served_on_loopback() -> None:
    server = serve_moneybird(0, client_id="demo", client_secret="demo-secret", redirect_uri=REDIRECT)
    try:
        with httpx.Client(base_url=server.url) as http:
            app = server.app
            assert isinstance(app, MoneybirdSandbox)
            code = code_from(app.approve("demo", REDIRECT, "x"))
            token = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                    "redirect_uri": REDIRECT, "client_id": "demo",
                                                    "client_secret": "demo-secret"}).json()["access_token"]
            response = http.get("/api/v2/administrations.json", headers={"Authorization": f"Bearer {token}"})
            assert [a["name"] for a in response.json()] == ["Parkietje B.V.", "Kanarie BV"]
    finally:
        server.stop()
