"""Linking: the consent URL, the loopback redirect, the pasted redirect, and the state check."""

from __future__ import annotations

import threading
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connector.auth import load_tokens
from connector.auth.linking import (
    LoopbackListener,
    authorization_url,
    code_challenge,
    link,
    parse_redirect,
)
from connector.cli.demo import DemoBrowser, press_allow
from connector.config import CredentialConfig
from connector.errors import ConfigError
from tests.connector.auth.conftest import WorldFactory
from tests.connector.auth.oauth_app import BASIC_PKCE_PROFILE, CLIENT_ID, EXACT_PROFILE, MONEYBIRD_PROFILE

CREDENTIAL = CredentialConfig(name="exact-nl", package="exact", host="https://start.exactonline.nl",
                              client_id="b81cc4de", redirect_uri="http://127.0.0.1:8765/callback")


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_authorization_url_carries_state_redirect_and_the_profiles_extra_params() -> None:
    url = authorization_url(CREDENTIAL, EXACT_PROFILE, state="st-1")
    assert url.startswith("https://start.exactonline.nl/oauth/authorize?")
    assert query_of(url) == {
        "response_type": ["code"], "client_id": ["b81cc4de"], "redirect_uri": ["http://127.0.0.1:8765/callback"],
        "state": ["st-1"], "force_login": ["0"],
    }


def test_authorization_url_adds_pkce_s256_and_joins_scopes_when_the_profile_asks() -> None:
    credential = CREDENTIAL.model_copy(update={"scopes": ["sales_invoices", "settings"]})
    url = authorization_url(credential, BASIC_PKCE_PROFILE, state="st-2", code_verifier="v" * 50)
    query = query_of(url)
    assert query["code_challenge"] == [code_challenge("v" * 50)]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["sales_invoices settings"]


def test_authorization_url_adds_a_nonce_for_twinfield_like_profiles() -> None:
    url = authorization_url(CREDENTIAL, replace(MONEYBIRD_PROFILE, nonce=True), state="s")
    assert len(query_of(url)["nonce"][0]) >= 16


def test_authorization_url_allows_an_absolute_identity_provider_url() -> None:
    profile = replace(MONEYBIRD_PROFILE, authorize_path="https://login.twinfield.com/auth/authentication/connect/authorize")
    assert authorization_url(CREDENTIAL, profile, state="s").startswith(
        "https://login.twinfield.com/auth/authentication/connect/authorize?")


def test_plain_http_is_refused_for_a_real_host() -> None:
    credential = CREDENTIAL.model_copy(update={"host": "http://start.exactonline.nl"})
    with pytest.raises(ConfigError, match="use https"):
        authorization_url(credential, EXACT_PROFILE, state="s")


def test_parse_redirect_url_decodes_the_code() -> None:
    # docs/reference/exact.md §1.2: the code holds '!' sent as %21
    assert parse_redirect("http://127.0.0.1:8765/callback?code=stampNL001%21abc&state=s1", "s1") == "stampNL001!abc"


def test_parse_redirect_accepts_a_pasted_query_string_with_whitespace() -> None:
    assert parse_redirect("  ?code=c%21d&state=s1\n", "s1") == "c!d"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8765/callback?code=abc&state=other",
    "http://127.0.0.1:8765/callback?code=abc",
])
def test_parse_redirect_refuses_a_foreign_or_missing_state(url: str) -> None:
    with pytest.raises(ConfigError, match="state mismatch") as info:
        parse_redirect(url, "s1")
    assert "abc" not in str(info.value)


def test_parse_redirect_reports_an_error_redirect_in_one_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_redirect("http://127.0.0.1:8765/callback?error=access_denied&error_description=User%0Asaid+no&state=s1",
                       "s1")
    assert str(info.value) == "the package did not grant access (access_denied: User said no); run 'arconnect link' again"


def test_parse_redirect_without_a_code_says_what_to_paste() -> None:
    with pytest.raises(ConfigError, match="no authorization code"):
        parse_redirect("http://127.0.0.1:8765/callback?state=s1", "s1")


def test_link_by_paste_stores_the_tokens(make_world: WorldFactory) -> None:
    world = make_world("exact")
    tokens = world.link_by_paste()
    assert world.stored() == tokens
    assert tokens.refresh_value() is not None
    assert tokens.access_expires_at is not None
    assert (tokens.access_expires_at - tokens.access_obtained_at).total_seconds() == 600
    assert world.provider.client_auth_seen == ["body"]


def test_link_with_pkce_and_basic_client_auth(make_world: WorldFactory) -> None:
    world = make_world("moneybird", profile=BASIC_PKCE_PROFILE, name="moneybird-test")
    tokens = world.link_by_paste()
    assert tokens.access_expires_at is None  # moneybird.md §2: no expires_in, does not expire
    assert world.provider.client_auth_seen == ["basic"]


def test_a_pasted_redirect_of_another_attempt_is_refused_and_nothing_is_stored(make_world: WorldFactory) -> None:
    world = make_world("exact")

    def paste_foreign(text: str) -> str:
        landing = world.browser_answer(next(line for line in text.splitlines() if line.startswith("http")))
        return landing.replace("state=", "state=forged")

    with pytest.raises(ConfigError, match="state mismatch"):
        link(world.credential, world.profile, world.store, world.client(), open_browser=False, prompt=paste_foreign)
    assert load_tokens(world.store, world.credential.name) is None
    assert world.provider.app.count("token") == 0


def test_link_through_the_loopback_listener_with_a_browser_in_a_thread(make_world: WorldFactory) -> None:
    world = make_world("exact", served=True)
    browser = DemoBrowser()  # what `arconnect demo` passes: plays the person from another thread
    tokens = link(world.credential, world.profile, world.store, world.client(), open_browser=True,
                  prompt=_no_prompt, opener=browser, timeout=10, say=lambda text: None, clock=world.clock.now)
    assert browser.error is None
    assert world.stored() == tokens


def test_link_through_the_loopback_listener_with_a_synchronous_opener(make_world: WorldFactory) -> None:
    world = make_world("exact", served=True)
    landed: list[int] = []

    def opener(url: str) -> None:
        with httpx.Client(timeout=10) as browser:
            landed.append(browser.get(press_allow(browser, url)).status_code)

    link(world.credential, world.profile, world.store, world.client(), open_browser=True, prompt=_no_prompt,
         opener=opener, timeout=10, say=lambda text: None, clock=world.clock.now)
    assert landed == [200]
    assert world.stored().refresh_value() is not None


def _no_prompt(text: str) -> str:
    raise AssertionError("the browser flow must not prompt")


def test_listener_answers_the_browser_and_returns_the_full_redirect_url() -> None:
    from connector.cli.demo import free_port

    uri = f"http://127.0.0.1:{free_port()}/callback"
    with LoopbackListener(uri, timeout=10) as listener, httpx.Client() as browser:
        assert browser.get(uri.replace("/callback", "/favicon.ico")).status_code == 404
        page = browser.get(f"{uri}?code=a%21b&state=s")
        assert page.status_code == 200
        assert "close this window" in page.text
        assert listener.wait() == f"{uri}?code=a%21b&state=s"


def test_listener_gives_up_with_a_clear_error_when_no_browser_comes() -> None:
    from connector.cli.demo import free_port

    with LoopbackListener(f"http://127.0.0.1:{free_port()}/callback", timeout=0.05) as listener, \
            pytest.raises(ConfigError, match=r"no answer from the browser within 0\.05 s"):
        listener.wait()


def test_listener_only_listens_on_loopback() -> None:
    with pytest.raises(ConfigError, match=r"must be http on 127\.0\.0\.1"):
        LoopbackListener("http://0.0.0.0:8765/callback")


def test_listener_reports_a_busy_port() -> None:
    from connector.cli.demo import free_port

    uri = f"http://127.0.0.1:{free_port()}/callback"
    with LoopbackListener(uri), pytest.raises(ConfigError, match="port in use"):
        LoopbackListener(uri).start()


def test_a_failing_opener_still_waits_for_the_redirect(make_world: WorldFactory) -> None:
    world = make_world("exact", served=True)
    said: list[str] = []

    def broken_opener(url: str) -> None:
        threading.Thread(target=lambda: _play(url), daemon=True).start()
        raise OSError("no display")

    link(world.credential, world.profile, world.store, world.client(), open_browser=True, prompt=_no_prompt,
         opener=broken_opener, timeout=10, say=said.append, clock=world.clock.now)
    assert any("could not open a browser (OSError)" in line for line in said)
    assert world.credential.client_id == CLIENT_ID


def _play(url: str) -> None:
    with httpx.Client(timeout=10) as browser:
        browser.get(press_allow(browser, url))
