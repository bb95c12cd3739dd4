"""CredentialAuth: reuse across processes, refresh timing, persist-before-use, 401 handling, re-link errors."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from connector.auth import CredentialAuth, PlainFileStore, SecretStore, load_tokens
from connector.errors import NetworkError, ReauthRequired, ServiceUnavailable, TokenStillValid, TransientError
from tests.connector.auth.conftest import World, WorldFactory
from tests.connector.auth.oauth_app import CLIENT_ID, EXACT_PROFILE

ACCESS_LIFETIME = 600


def me(world: World, auth: CredentialAuth) -> httpx.Response:
    return world.api(auth).get("/api/me")


def test_a_new_process_reuses_the_stored_access_token(exact: World) -> None:
    assert exact.provider.app.count("token") == 1  # the code exchange
    for _ in range(2):  # two "processes": fresh CredentialAuth objects, same store
        assert me(exact, exact.auth()).json() == {"user": "user-1"}
    assert exact.provider.app.count("token") == 1


def test_no_refresh_before_nine_and_a_half_minutes_then_exactly_one(exact: World) -> None:
    auth = exact.auth()
    exact.clock.advance(569)
    assert me(exact, auth).status_code == 200
    assert exact.provider.refreshes == 0
    exact.clock.advance(6)  # 575 s: within 30 s of expiry and older than 570 s (exact.md §1.4)
    assert me(exact, auth).status_code == 200
    assert me(exact, auth).status_code == 200
    assert exact.provider.refreshes == 1


def test_the_minimum_age_wins_over_a_wider_margin(make_world: WorldFactory) -> None:
    world = make_world("exact", profile=replace(EXACT_PROFILE, refresh_margin_seconds=100))
    world.link_by_paste()
    auth = world.auth()
    world.clock.advance(560)  # inside the 100 s margin, but younger than 570 s
    assert me(world, auth).status_code == 200
    assert world.provider.refreshes == 0
    world.clock.advance(12)
    assert me(world, auth).status_code == 200
    assert world.provider.refreshes == 1


def test_the_rotated_tokens_are_persisted_before_the_new_access_token_is_used(exact: World) -> None:
    before = exact.stored()
    checks: list[bool] = []
    exact.provider.on_api = lambda bearer: checks.append(exact.stored().access_value() == bearer)
    exact.clock.advance(575)
    assert me(exact, exact.auth()).status_code == 200
    after = exact.stored()
    assert checks == [True]
    assert after.refresh_value() != before.refresh_value()
    assert after.access_obtained_at > before.access_obtained_at


class TokensWriteFails(PlainFileStore):
    def set(self, key: str, value: str) -> None:
        if key.startswith("tokens:"):
            raise OSError("disk full")
        super().set(key, value)


def test_a_new_access_token_that_could_not_be_stored_is_never_used(exact: World) -> None:
    failing: SecretStore = TokensWriteFails(exact.store.path)  # type: ignore[attr-defined]
    exact.clock.advance(575)
    with pytest.raises(OSError, match="disk full"):
        me(exact, exact.auth(failing))
    assert exact.provider.refreshes == 1
    assert exact.provider.app.count("me") == 0


def test_a_401_refreshes_once_and_retries(moneybird: World) -> None:
    moneybird.provider.app.faults.fail(401, endpoint="me", times=1)
    assert me(moneybird, moneybird.auth()).status_code == 200
    assert moneybird.provider.refreshes == 1
    assert moneybird.provider.app.count("me") == 2


def test_a_second_401_is_retried_after_one_more_refresh(moneybird: World) -> None:
    """One spurious 401 after a refresh never sends the bookkeeper to re-link (issue 11 point 4)."""
    moneybird.provider.app.faults.fail(401, endpoint="me", times=2)
    assert me(moneybird, moneybird.auth()).status_code == 200
    assert moneybird.provider.refreshes == 2
    assert moneybird.provider.app.count("me") == 3


def test_a_third_401_means_reauth_with_the_whole_link_command(moneybird: World) -> None:
    moneybird.provider.app.faults.fail(401, endpoint="me", times=3)
    with pytest.raises(ReauthRequired) as info:
        me(moneybird, moneybird.auth())
    assert re.fullmatch(
        "credential moneybird-test was refused three times, also after refreshing its token; "
        f"re-link it: run 'arconnect link moneybird --name moneybird-test --client-id {CLIENT_ID} "
        r"--host http://sandbox.test --redirect-uri http://127\.0\.0\.1:\d+/callback'",
        str(info.value),
    ), str(info.value)
    assert moneybird.provider.refreshes == 2


def test_a_401_when_another_process_already_refreshed_retries_with_its_token(moneybird: World) -> None:
    first, second = moneybird.auth(), moneybird.auth()
    assert me(moneybird, second).status_code == 200  # second holds the current token in memory
    moneybird.provider.app.faults.fail(401, endpoint="me", times=1)
    assert me(moneybird, first).status_code == 200  # first refreshes; the old access token is revoked
    assert moneybird.provider.refreshes == 1
    assert me(moneybird, second).status_code == 200  # 401, re-reads the store, retries: no second refresh
    assert moneybird.provider.refreshes == 1


def test_a_spurious_401_on_a_young_exact_token_retries_the_same_token(exact: World) -> None:
    """Exact refuses to refresh a token younger than 9.5 minutes ("Access Token not expired"): the
    grant is fine, so the request is tried again with the same token and succeeds, no re-link."""
    exact.provider.app.faults.fail(401, endpoint="me", times=1)
    assert me(exact, exact.auth()).status_code == 200
    assert exact.provider.refreshes == 1  # asked once; Exact refused ("not expired") and issued nothing
    assert exact.provider.app.count("me") == 2


def test_a_young_exact_token_refused_again_is_transient_never_a_relink(exact: World) -> None:
    exact.provider.app.faults.fail(401, endpoint="me", times=2)
    with pytest.raises(TokenStillValid, match=r"nothing to re-link, the next run tries again") as info:
        me(exact, exact.auth())
    assert not isinstance(info.value, ReauthRequired)
    assert isinstance(info.value, TransientError)
    exact.clock.advance(575)  # the refused early refreshes consumed nothing
    assert me(exact, exact.auth()).status_code == 200


def test_a_refresh_token_used_elsewhere_means_relink_in_one_clear_line(exact: World) -> None:
    refresh_token = exact.stored().refresh_value()
    assert refresh_token is not None
    exact.clock.advance(575)
    exact.provider.issuer.refresh(refresh_token, CLIENT_ID)  # some other program rotated it away
    with pytest.raises(ReauthRequired) as info:
        me(exact, exact.auth())
    assert re.fullmatch(
        "credential exact-test needs to be re-linked: run 'arconnect link exact --name exact-test "
        f"--client-id {CLIENT_ID} --host http://sandbox.test "
        r"--redirect-uri http://127\.0\.0\.1:\d+/callback' \(unauthorized_client: Old refresh token used\.\)",
        str(info.value),
    ), str(info.value)


def test_an_expired_refresh_token_means_relink(exact: World) -> None:
    exact.clock.advance(31 * 24 * 3600)
    with pytest.raises(ReauthRequired, match=r"needs to be re-linked: .*invalid_request: The refresh token expired at"):
        me(exact, exact.auth())


def test_an_unlinked_credential_says_how_to_link(make_world: WorldFactory) -> None:
    world = make_world("exact")
    with pytest.raises(ReauthRequired, match=r"^credential exact-test is not linked yet: run 'arconnect link exact"):
        me(world, world.auth())


def test_a_failing_token_endpoint_is_transient_and_keeps_the_stored_tokens(exact: World) -> None:
    before = exact.stored()
    exact.clock.advance(575)
    exact.provider.app.faults.fail(503, endpoint="token", times=1)
    with pytest.raises(ServiceUnavailable, match="token endpoint of credential exact-test failed"):
        me(exact, exact.auth())
    exact.provider.app.faults.drop(endpoint="token", times=1)
    with pytest.raises(NetworkError, match=r"unreachable \(RemoteProtocolError\)"):
        me(exact, exact.auth())
    assert exact.stored() == before
    assert me(exact, exact.auth()).status_code == 200


def test_threads_sharing_a_credential_refresh_once(exact: World) -> None:
    auths = [exact.auth() for _ in range(6)]
    clients = [exact.api(auth) for auth in auths]
    exact.clock.advance(575)
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def call(client: httpx.Client) -> None:
        start.wait()
        statuses.append(client.get("/api/me").status_code)

    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    assert exact.provider.refreshes == 1


def test_refresh_token_expiry_for_relink_warnings(exact: World) -> None:
    auth = exact.auth()
    left = auth.refresh_token_expires_in()
    assert left is not None
    assert timedelta(days=30) - timedelta(seconds=5) < left <= timedelta(days=30)  # the sandbox clock runs
    exact.clock.advance(10 * 24 * 3600)
    left = auth.refresh_token_expires_in()
    assert left is not None
    assert timedelta(days=20) - timedelta(seconds=5) < left <= timedelta(days=20)


def test_ensure_fresh_never_refreshes_a_young_token_even_to_keep_the_refresh_token_alive(exact: World) -> None:
    auth = exact.auth()
    exact.clock.advance(100)
    assert auth.ensure_fresh(refresh_token_within=timedelta(days=31)) == exact.stored()
    assert exact.provider.refreshes == 0
    exact.clock.advance(480)
    assert auth.ensure_fresh().access_value() == exact.stored().access_value()
    assert exact.provider.refreshes == 1


def test_ensure_fresh_keeps_a_lapsing_refresh_token_alive(make_world: WorldFactory) -> None:
    from tests.connector.auth.oauth_app import MONEYBIRD_PROFILE

    world = make_world("moneybird", profile=replace(MONEYBIRD_PROFILE, refresh_token_lifetime_seconds=7 * 86400),
                       name="moneybird-test")
    world.link_by_paste()
    auth = world.auth()
    world.clock.advance(6 * 86400)
    auth.ensure_fresh()
    assert world.provider.refreshes == 0  # access tokens that do not expire are never due
    auth.ensure_fresh(refresh_token_within=timedelta(days=2))
    assert world.provider.refreshes == 1


def test_current_token_and_token_rejected_for_soap_style_packages(moneybird: World) -> None:
    auth = moneybird.auth()
    token = auth.current_token()
    assert token == moneybird.stored().access_value()
    fresh = auth.token_rejected(token)
    assert fresh != token
    assert auth.token_rejected(token) == fresh  # a stale rejection just gets the current token
    assert moneybird.provider.refreshes == 1
    assert load_tokens(moneybird.store, "moneybird-test") == moneybird.stored()
