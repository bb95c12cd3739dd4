"""With every logger at DEBUG (httpx and httpcore too), no token, code or client secret is ever
written to a log record or an exception message, through link, refresh, 401s and refusals."""

from __future__ import annotations

import logging
import traceback
from urllib.parse import quote

import pytest

import connector.http  # noqa: F401  (every arconnect process imports it: it redacts httpx's URL logs)
from connector.auth import set_client_secret
from connector.auth.linking import link
from connector.cli.demo import DemoBrowser
from connector.errors import ArconnectError
from tests.connector.auth.conftest import WorldFactory
from tests.connector.auth.oauth_app import CLIENT_ID, CLIENT_SECRET


def test_no_secret_reaches_a_log_record_or_an_error(make_world: WorldFactory, caplog: pytest.LogCaptureFixture) -> None:
    for name in (None, "httpx", "httpcore", "arconnect"):
        caplog.set_level(logging.DEBUG, logger=name)
    world = make_world("exact", served=True)
    errors: list[BaseException] = []

    browser = DemoBrowser()
    link(world.credential, world.profile, world.store, world.client(), open_browser=True, prompt=input,
         opener=browser, timeout=10, say=lambda text: None, clock=world.clock.now)
    assert browser.error is None
    auth = world.auth()
    api = world.api(auth)
    assert api.get("/api/me").status_code == 200
    world.clock.advance(575)
    assert api.get("/api/me").status_code == 200  # refresh
    world.provider.app.faults.fail(401, endpoint="me", times=2)
    world.clock.advance(575)
    with pytest.raises(ArconnectError) as second_401:
        api.get("/api/me")  # refresh on 401, refused again
    errors.append(second_401.value)
    world.clock.advance(575)
    rotated_away = world.stored().refresh_value()
    assert rotated_away is not None
    world.provider.issuer.refresh(rotated_away, CLIENT_ID)
    with pytest.raises(ArconnectError) as old_refresh:
        world.api(world.auth()).get("/api/me")
    errors.append(old_refresh.value)
    set_client_secret(world.store, world.credential.name, "wrong-" + CLIENT_SECRET)
    with pytest.raises(ArconnectError) as bad_client:
        link(world.credential, world.profile, world.store, world.client(), open_browser=True, prompt=input,
             opener=DemoBrowser(), timeout=10, say=lambda text: None)
    errors.append(bad_client.value)

    # each value as is and URL-encoded (Exact-like codes hold '!', logged as %21 in a URL)
    secrets = {form for value in (CLIENT_SECRET, *world.provider.issued) for form in (value, quote(value, safe=""))}
    assert len(world.provider.issued) >= 6  # two codes, and access and refresh tokens of three grants
    logged = [record.getMessage() for record in caplog.records]
    logged += [record.exc_text or "" for record in caplog.records]
    logged += ["".join(traceback.format_exception(error)) for error in errors]
    logged += [repr(error) for error in errors]
    assert any("HTTP Request" in line for line in logged)  # httpx did log, redacted
    assert any("access token refreshed" in line for line in logged)
    for secret in secrets:
        for line in logged:
            assert secret not in line
