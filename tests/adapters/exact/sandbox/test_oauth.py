"""OAuth2 as in docs/reference/exact.md §1.2–§1.4."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx

from adapters.exact.sandbox import ExactSandbox
from connector.sandbox import SandboxClock

from .conftest import BE, CLIENT_ID, NL, REDIRECT, SECRET, authorize, bearer, code_from, exchange, refresh


def test_consent_page_lists_divisions_and_posting_it_redirects_with_code_and_state(http: httpx.Client) -> None:
    page = http.get("/api/oauth2/auth", params={"client_id": CLIENT_ID, "redirect_uri": REDIRECT,
                                                 "response_type": "code", "state": "abc", "force_login": "1"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'name="division" value="101"' in page.text and 'name="division" value="202"' in page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    form = [*hidden.items(), ("division", "202"), ("approve", "1")]
    answer = http.post("/api/oauth2/auth", data=dict(form) | {"division": "202"})
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlparse(location).query)
    assert query["state"] == ["abc"]
    assert "!" in query["code"][0]  # §1.2: the code holds '!' (sent as %21)
    assert "%21" in location


def test_unknown_client_or_other_redirect_uri_gives_an_error_page_without_redirect(http: httpx.Client) -> None:
    for client_id, redirect in (("someone-else", REDIRECT), (CLIENT_ID, REDIRECT + "/"), (CLIENT_ID, "http://evil/cb")):
        page = http.get("/api/oauth2/auth", params={"client_id": client_id, "redirect_uri": redirect,
                                                     "response_type": "code", "state": "s"})
        assert page.status_code == 400
        assert "location" not in page.headers


def test_code_exchange_answers_exactly_the_documented_fields(app: ExactSandbox, http: httpx.Client) -> None:
    response = exchange(http, code_from(app.approve(CLIENT_ID, REDIRECT, "s", [NL])))
    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["access_token", "expires_in", "refresh_token", "token_type"]
    assert body["expires_in"] == "600"  # a string (§1.3)
    assert body["token_type"] == "bearer"


def test_code_is_single_use(app: ExactSandbox, http: httpx.Client) -> None:
    code = code_from(app.approve(CLIENT_ID, REDIRECT, "s", [NL]))
    assert exchange(http, code).status_code == 200
    assert exchange(http, code).status_code == 400


def test_code_lives_three_minutes(app: ExactSandbox, http: httpx.Client, clock: SandboxClock) -> None:
    late = code_from(app.approve(CLIENT_ID, REDIRECT, "s", [NL]))
    in_time = code_from(app.approve(CLIENT_ID, REDIRECT, "s", [NL]))
    clock.advance(170)
    assert exchange(http, in_time).status_code == 200
    clock.advance(15)
    assert exchange(http, late).status_code == 400


def test_code_must_be_url_decoded(app: ExactSandbox, http: httpx.Client) -> None:
    code = code_from(app.approve(CLIENT_ID, REDIRECT, "s", [NL]))
    assert exchange(http, code.replace("!", "%21")).status_code == 400


def test_wrong_secret_is_a_bare_invalid_request(app: ExactSandbox, http: httpx.Client) -> None:
    response = exchange(http, code_from(app.approve(CLIENT_ID, REDIRECT, "s", [NL])), secret="wrong")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}


def test_access_token_lasts_ten_minutes(app: ExactSandbox, http: httpx.Client, clock: SandboxClock) -> None:
    tokens = authorize(app, http)
    assert http.get("/api/v1/current/Me", headers=bearer(tokens)).status_code == 200
    clock.advance(599)
    assert http.get("/api/v1/current/Me", headers=bearer(tokens)).status_code == 200
    clock.advance(2)
    expired = http.get("/api/v1/current/Me", headers=bearer(tokens))
    assert expired.status_code == 401
    assert set(expired.json()["error"]) == {"code", "message"}


def test_no_refresh_before_nine_and_a_half_minutes(app: ExactSandbox, http: httpx.Client, clock: SandboxClock) -> None:
    tokens = authorize(app, http)
    clock.advance(560)
    early = refresh(http, tokens.refresh_token)
    assert early.status_code == 401
    assert early.json() == {"error": "invalid_request", "error_description": "Access Token not expired"}
    clock.advance(15)
    assert refresh(http, tokens.refresh_token).status_code == 200  # the early try did not use it up


def test_refresh_tokens_rotate_and_are_single_use(app: ExactSandbox, http: httpx.Client, clock: SandboxClock) -> None:
    tokens = authorize(app, http)
    clock.advance(575)
    first = refresh(http, tokens.refresh_token)
    assert first.status_code == 200
    assert first.json()["refresh_token"] != tokens.refresh_token
    assert first.json()["expires_in"] == "600"
    reused = refresh(http, tokens.refresh_token)
    assert reused.status_code == 401
    assert reused.json() == {"error": "unauthorized_client", "error_description": "Old refresh token used."}
    clock.advance(575)
    assert refresh(http, first.json()["refresh_token"]).status_code == 200


def test_refresh_token_expires_after_thirty_days(app: ExactSandbox, http: httpx.Client, clock: SandboxClock) -> None:
    tokens = authorize(app, http)  # issued 2025-03-12 10:15:05 UTC
    clock.advance(30 * 24 * 3600 + 60)
    response = refresh(http, tokens.refresh_token)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"].startswith("The refresh token expired at 4/11/2025 10:15:0")
    assert " and it is now 4/11/2025 10:16:0" in body["error_description"]


def test_the_201st_token_call_of_a_utc_day_is_refused(http: httpx.Client, clock: SandboxClock) -> None:
    # §1.4: at most 200 token-endpoint calls per key per user per day; failed calls count too.
    for _ in range(200):
        assert exchange(http, "code!unknown").status_code == 400
    refused = exchange(http, "code!unknown")
    assert refused.status_code == 429
    assert refused.json()["error"] == "invalid_request"
    clock.advance(14 * 3600)  # 00:15 UTC the next day
    assert exchange(http, "code!unknown").status_code == 400


def test_token_only_reaches_the_ticked_divisions(app: ExactSandbox, http: httpx.Client) -> None:
    tokens = authorize(app, http, divisions=(NL,))
    allowed = http.get(f"/api/v1/{NL}/system/Divisions", headers=bearer(tokens))
    assert [row["Code"] for row in allowed.json()["d"]["results"]] == [NL]
    refused = http.get(f"/api/v1/{BE}/crm/Accounts", headers=bearer(tokens))
    assert refused.status_code == 403
    assert refused.headers["Reason"] == "NoDivisionAccess"
    unknown = http.get("/api/v1/999/crm/Accounts", headers=bearer(tokens))
    assert unknown.status_code == 403
    assert unknown.headers["Reason"] == "NoDivisionAccess"


def test_rest_calls_need_a_bearer_token(http: httpx.Client) -> None:
    response = http.get(f"/api/v1/{NL}/crm/Accounts", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["error"]["message"]["lang"] == ""
    assert "x-ratelimit-limit" not in response.headers


def basic(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: id and secret form-urlencoded, joined by a colon, in base64."""
    from base64 import b64encode
    from urllib.parse import quote_plus

    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": f"Basic {b64encode(pair).decode()}"}


def test_a_client_that_authenticates_with_http_basic_can_link_and_refresh(
    app: ExactSandbox, http: httpx.Client, clock: SandboxClock
) -> None:
    # RFC 6749 §2.3.1 (issue 16 point 6): how requests-oauthlib sends the secret.
    code = code_from(app.approve(CLIENT_ID, REDIRECT, "st", [NL]))
    linked = http.post("/api/oauth2/token", headers=basic(CLIENT_ID, SECRET),
                       data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert linked.status_code == 200, linked.text
    clock.advance(600)
    refreshed = http.post("/api/oauth2/token", headers=basic(CLIENT_ID, SECRET),
                          data={"grant_type": "refresh_token", "refresh_token": linked.json()["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert http.get(f"/api/v1/{NL}/system/Divisions?$select=Code",
                    headers=bearer_of(refreshed.json()["access_token"])).status_code == 200


def bearer_of(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}


def test_basic_and_the_form_body_at_once_is_the_error_the_rfc_names(app: ExactSandbox, http: httpx.Client) -> None:
    code = code_from(app.approve(CLIENT_ID, REDIRECT, "st", [NL]))
    both = http.post("/api/oauth2/token", headers=basic(CLIENT_ID, SECRET),
                     data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                           "client_id": CLIENT_ID, "client_secret": SECRET})
    # RFC 6749 §2.3.1 "MUST NOT use more than one authentication method"; §5.2 invalid_request.
    assert both.status_code == 400
    assert both.json()["error"] == "invalid_request"


def test_a_wrong_basic_secret_is_401_invalid_client_with_a_challenge(app: ExactSandbox, http: httpx.Client) -> None:
    code = code_from(app.approve(CLIENT_ID, REDIRECT, "st", [NL]))
    wrong = http.post("/api/oauth2/token", headers=basic(CLIENT_ID, "not-the-secret"),
                      data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    # RFC 6749 §5.2: authenticated through the Authorization header → 401 and WWW-Authenticate.
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].lower().startswith("basic")
