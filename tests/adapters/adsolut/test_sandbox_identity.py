"""The sandbox's Wolters Kluwer identity endpoints, as the Adsolut reference (A1, A2) describes them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from adapters.adsolut.sandbox import AdsolutSandbox
from connector.sandbox import SandboxClock
from tests.adapters.adsolut.conftest import ALL_SCOPES, CLIENT_ID, DOSSIER, REDIRECT, SECRET, code_from, tokens_for


def refresh(http: httpx.Client, refresh_token: str, *, basic: bool = True) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if basic:
        return http.post("/auth/core/connect/token", auth=(CLIENT_ID, SECRET), data=data)
    return http.post("/auth/core/connect/token", data={**data, "client_id": CLIENT_ID, "client_secret": SECRET})


def test_the_authorize_page_shows_a_consent_form_and_echoes_state(sandbox: AdsolutSandbox, http: httpx.Client) -> None:
    page = http.get("/auth/core/connect/authorize", params={
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": ALL_SCOPES, "state": "abc"})
    assert page.status_code == 200 and "<form" in page.text
    answer = http.post("/auth/core/connect/authorize", data={
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "scope": ALL_SCOPES,
        "state": "abc", "approve": "1"})
    assert answer.status_code == 302
    query = parse_qs(urlparse(answer.headers["location"]).query)
    assert query["state"] == ["abc"] and query["code"]


def test_a_scope_the_client_is_not_provisioned_for_redirects_with_invalid_scope(sandbox: AdsolutSandbox) -> None:
    sandbox.register_client("narrow", "s", REDIRECT, scopes=("openid", "WK.BE.Accounting.Read"))
    landing = sandbox.approve("narrow", REDIRECT, "x", "openid WK.BE.Accounting.Write")
    assert parse_qs(urlparse(landing).query)["error"] == ["invalid_scope"]


def test_the_token_endpoint_takes_basic_or_body_client_authentication(sandbox: AdsolutSandbox, http: httpx.Client) -> None:
    code = code_from(sandbox.approve(CLIENT_ID, REDIRECT, None, ALL_SCOPES))
    body = http.post("/auth/core/connect/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID, "client_secret": SECRET})
    assert body.status_code == 200
    tokens = tokens_for(sandbox, http)  # HTTP Basic
    assert tokens["expires_in"] == 3600 and tokens["token_type"] == "Bearer"
    wrong = http.post("/auth/core/connect/token", auth=(CLIENT_ID, "nope"), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_client"}


def test_a_refresh_token_comes_only_with_offline_access(sandbox: AdsolutSandbox, http: httpx.Client) -> None:
    assert "refresh_token" not in tokens_for(sandbox, http, scope="openid WK.BE.Accounting.Read")
    assert "refresh_token" in tokens_for(sandbox, http)


def test_refresh_tokens_rotate_and_a_reused_one_is_invalid_grant(sandbox: AdsolutSandbox, http: httpx.Client) -> None:
    first = tokens_for(sandbox, http)["refresh_token"]
    rotated = refresh(http, first, basic=False)
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != first
    again = refresh(http, first)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}
    assert refresh(http, rotated.json()["refresh_token"]).status_code == 200


def test_the_refresh_window_slides_30_days_from_each_rotation(
    sandbox: AdsolutSandbox, http: httpx.Client, clock: SandboxClock
) -> None:
    token = tokens_for(sandbox, http)["refresh_token"]
    clock.advance(29 * 86400)
    token = refresh(http, token).json()["refresh_token"]
    clock.advance(29 * 86400)  # 58 days after consent, 29 after the last rotation
    token = refresh(http, token).json()["refresh_token"]
    clock.advance(31 * 86400)
    lapsed = refresh(http, token)
    assert lapsed.status_code == 400 and lapsed.json() == {"error": "invalid_grant"}


def test_access_tokens_live_sixty_minutes(sandbox: AdsolutSandbox, http: httpx.Client, clock: SandboxClock) -> None:
    headers = {"Authorization": f"Bearer {tokens_for(sandbox, http)['access_token']}"}
    clock.advance(3599)
    assert http.get("/adm/v1/administrations", headers=headers).status_code == 200
    clock.advance(2)
    assert http.get("/adm/v1/administrations", headers=headers).status_code == 401


def test_a_missing_scope_is_403_with_an_empty_body(sandbox: AdsolutSandbox, http: httpx.Client) -> None:
    token = tokens_for(sandbox, http, scope="openid WK.BE.Administrations WK.BE.Accounting.Read")["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert http.post(f"/adm/v1/administrations/{DOSSIER}/integrations", headers=headers).status_code == 204
    refused = http.put(f"/acc/v1/adm/{DOSSIER}/customers/x", headers=headers, json={})
    assert refused.status_code == 403 and refused.content == b""
    only_read = tokens_for(sandbox, http, scope="WK.BE.Accounting.Read")["access_token"]
    listing = http.get("/adm/v1/administrations", headers={"Authorization": f"Bearer {only_read}"})
    assert listing.status_code == 403 and listing.content == b""
