"""Token upkeep: an unused Exact refresh token (30 days, docs/reference/exact.md §1.4) is refreshed before
it lapses, and a credential whose grant is gone is announced once a day."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from connector import config as cfg
from connector.auth import load_tokens, open_secret_store
from connector.serve.jobs import keep_alive, keepalive
from tests.connector.serve.conftest import Linked

DAY = 24 * 3600


def later(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def test_a_refresh_token_with_six_days_left_is_refreshed_and_lives_thirty_days_again(linked_factory: Callable[..., Linked]) -> None:
    linked: Linked = linked_factory(1)
    credential = cfg.load_config().credential("exact-serve")
    secrets = open_secret_store()
    before = load_tokens(secrets, "exact-serve")
    assert before is not None
    linked.app.clock.advance(24 * DAY)  # 24 days unused: six days left
    kept = keep_alive(credential, secrets, clock=lambda: later(24))
    after = load_tokens(secrets, "exact-serve")
    assert kept.refreshed
    assert after is not None and after.refresh_value() != before.refresh_value()
    assert kept.lapses_in is not None and timedelta(days=29, hours=23) < kept.lapses_in <= timedelta(days=30)
    # the old refresh token is dead (single use) and the new one works at the sandbox
    assert linked.app.issuer.user_of_refresh(before.refresh_value() or "") is None
    assert linked.app.issuer.user_of_refresh(after.refresh_value() or "") is not None


def test_a_refresh_token_with_weeks_left_is_left_alone(linked_factory: Callable[..., Linked]) -> None:
    linked_factory(1)
    credential = cfg.load_config().credential("exact-serve")
    secrets = open_secret_store()
    before = load_tokens(secrets, "exact-serve")
    kept = keep_alive(credential, secrets, clock=lambda: later(1))
    assert not kept.refreshed
    assert load_tokens(secrets, "exact-serve") == before


def test_a_lapsed_grant_is_announced_once_a_day_with_the_relink_command(
    linked_factory: Callable[..., Linked], caplog: pytest.LogCaptureFixture
) -> None:
    linked: Linked = linked_factory(1)
    linked.app.clock.advance(31 * DAY)  # unused for 31 days: Exact refuses the refresh token
    with caplog.at_level(logging.ERROR, logger="arconnect.serve"):
        outcomes = [keepalive("exact-serve", clock=lambda: later(31)) for _ in range(3)]
    assert [o.outcome for o in outcomes] == ["failed"] * 3
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith("credential:exact-serve: needs re-linking now")
    assert "arconnect link exact --name exact-serve" in errors[0]


def test_a_refresh_token_about_to_lapse_while_the_token_endpoint_is_down_is_announced_days_ahead(
    linked_factory: Callable[..., Linked], caplog: pytest.LogCaptureFixture
) -> None:
    linked: Linked = linked_factory(1)
    linked.app.clock.advance(27 * DAY)  # 27 days unused: three days left on Exact's 30-day refresh token
    linked.app.faults.fail(503, endpoint="oauth2/token", times=1000)
    with caplog.at_level(logging.ERROR, logger="arconnect.serve"):
        outcomes = [keepalive("exact-serve", clock=lambda: later(27)) for _ in range(2)]
    assert [o.outcome for o in outcomes] == ["failed"] * 2
    warnings = [r.getMessage() for r in caplog.records if "will need re-linking" in r.getMessage()]
    assert len(warnings) == 1  # once a day, however often the job runs
    assert warnings[0].startswith("credential:exact-serve: will need re-linking within 3 day(s)")
    assert "arconnect link exact --name exact-serve" in warnings[0]
    linked.app.faults.clear()  # the endpoint is back: the next keep-alive refreshes and the warning ends
    assert keepalive("exact-serve", clock=lambda: later(27)).outcome == "ok"
