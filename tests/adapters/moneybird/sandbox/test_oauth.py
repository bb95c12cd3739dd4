"""OAuth2 authorization code flow as docs/reference/moneybird.md §2 describes it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from adapters.moneybird.sandbox import MoneybirdSandbox
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


def _exchange(http: httpx.Client, code: str, **overrides: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID, "client_secret": SECRET, **overrides}
    return http.post("/oauth/token", data=form)


def test_authorize_shows_a_consent_page_whose_post_redirects_with_code_and_state(http: httpx.Client) -> None:
    page = http.get("/oauth/authorize", params={"client_id": CLIENT_ID, "redirect_uri": REDIRECT,
                                                "response_type": "code", "scope": "sales_invoices settings",
                                                "state": "abc"})
    assert page.status_code == 200
    assert "<form" in page.text
    posted = http.post("/oauth/authorize", data={"client_id": CLIENT_ID, "redirect_uri": REDIRECT,
                                                 "response_type": "code", "scope": "sales_invoices settings",
                                                 "state": "abc", "approve": "1"})
    assert posted.status_code == 302
    location = posted.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlparse(location).query)
    assert query["state"] == ["abc"]
    assert query["code"][0]


def test_redirect_uri_must_match_exactly(http: httpx.Client) -> None:
    page = http.get("/oauth/authorize", params={"client_id": CLIENT_ID, "redirect_uri": REDIRECT + "/",
                                                "response_type": "code"})
    assert page.status_code == 400


def test_token_response_has_moneybirds_shape_without_expires_in(sandbox: MoneybirdSandbox, http: httpx.Client) -> None:
    response = _exchange(http, code_from(sandbox.approve(CLIENT_ID, REDIRECT, "s", scope="sales_invoices+settings")))
    body = response.json()
    assert response.status_code == 200
    assert sorted(body) == ["access_token", "created_at", "refresh_token", "scope", "token_type"]
    assert body["token_type"] == "bearer"
    assert body["scope"] == "sales_invoices settings"
    assert body["created_at"] == int(START.timestamp())


def test_a_code_works_once(sandbox: MoneybirdSandbox, http: httpx.Client) -> None:
    code = code_from(sandbox.approve(CLIENT_ID, REDIRECT, "s"))
    assert _exchange(http, code).status_code == 200
    again = _exchange(http, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_wrong_secret_is_invalid_client(sandbox: MoneybirdSandbox, http: httpx.Client) -> None:
    response = _exchange(http, code_from(sandbox.approve(CLIENT_ID, REDIRECT, "s")), client_secret="nope")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_refresh_rotates_and_the_old_refresh_token_dies(sandbox: MoneybirdSandbox, http: httpx.Client) -> None:
    first = _exchange(http, code_from(sandbox.approve(CLIENT_ID, REDIRECT, "s"))).json()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            "client_id": CLIENT_ID, "client_secret": SECRET}
    second = http.post("/oauth/token", data=form)
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert http.post("/oauth/token", data=form).status_code == 400
    old = http.get(f"{API}/sales_invoices.json", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert old.status_code == 401


def test_expiring_tokens_when_configured_carry_expires_in(clock: SandboxClock) -> None:
    app = MoneybirdSandbox.small(clock=clock, access_lifetime=3600)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    with httpx.Client(transport=transport(app, BASE), base_url=BASE) as http:
        body = _exchange(http, code_from(app.approve(CLIENT_ID, REDIRECT, "s"))).json()
        assert body["expires_in"] == 3600
        auth = {"Authorization": f"Bearer {body['access_token']}"}
        assert http.get("/api/v2/administrations.json", headers=auth).status_code == 200
        clock.advance(3600)
        assert http.get("/api/v2/administrations.json", headers=auth).status_code == 401


def test_refresh_may_omit_the_refresh_token_when_not_rotating(clock: SandboxClock) -> None:
    app = MoneybirdSandbox.small(clock=clock, rotate_refresh=False)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    with httpx.Client(transport=transport(app, BASE), base_url=BASE) as http:
        first = _exchange(http, code_from(app.approve(CLIENT_ID, REDIRECT, "s"))).json()
        form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                "client_id": CLIENT_ID, "client_secret": SECRET}
        second = http.post("/oauth/token", data=form).json()
        assert "refresh_token" not in second
        assert http.post("/oauth/token", data=form).status_code == 200


def test_api_without_token_is_401_and_missing_scope_is_401_no_access(sandbox: MoneybirdSandbox,
                                                                     http: httpx.Client) -> None:
    assert http.get(f"{API}/sales_invoices.json").status_code == 401
    token = token_for(sandbox, http, scope="settings")
    response = http.get(f"{API}/sales_invoices.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == {"error": "No access to sales_invoices"}
    assert http.get(f"{API}/users.json", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_unknown_scope_redirects_with_invalid_scope(sandbox: MoneybirdSandbox) -> None:
    query = parse_qs(urlparse(sandbox.approve(CLIENT_ID, REDIRECT, "s", scope="admin")).query)
    assert query == {"error": ["invalid_scope"], "state": ["s"]}
