"""TokenSet: hidden in reprs, stored as JSON, built tolerantly from each package's token answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from connector.auth import TokenSet
from connector.auth.tokens import token_set_from_response
from connector.errors import ApiError
from tests.connector.auth.oauth_app import EXACT_PROFILE, MONEYBIRD_PROFILE

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


def sample() -> TokenSet:
    return TokenSet(access_token=SecretStr("AAEAA-access-secret"), access_obtained_at=NOW,
                    access_expires_at=NOW + timedelta(seconds=600), refresh_token=SecretStr("Gcp7!refresh-secret"),
                    refresh_obtained_at=NOW, refresh_expires_at=NOW + timedelta(days=30))


def test_repr_str_and_default_dumps_never_show_the_tokens() -> None:
    tokens = sample()
    for text in (repr(tokens), str(tokens), tokens.model_dump_json(), str(tokens.model_dump())):
        assert "access-secret" not in text
        assert "refresh-secret" not in text


def test_storage_json_round_trips() -> None:
    tokens = sample()
    assert TokenSet.from_storage(tokens.to_storage()) == tokens
    assert TokenSet.from_storage(tokens.to_storage()).refresh_value() == "Gcp7!refresh-secret"


@pytest.mark.parametrize(("payload", "lifetime"), [
    ({"access_token": "a", "token_type": "Bearer", "expires_in": 600, "refresh_token": "r"}, 600),
    ({"access_token": "a", "token_type": "bearer", "expires_in": "600", "refresh_token": "r"}, 600),  # exact.md §1.3
    ({"access_token": "a", "refresh_token": "r"}, 600),  # no expires_in: the profile's default
])
def test_exact_answers_give_a_ten_minute_token(payload: dict[str, Any], lifetime: int) -> None:
    tokens = token_set_from_response(payload, EXACT_PROFILE, NOW)
    assert tokens.access_expires_at == NOW + timedelta(seconds=lifetime)
    assert tokens.token_type == "Bearer"
    assert tokens.refresh_expires_at == NOW + timedelta(days=30)


def test_a_moneybird_answer_without_expires_in_does_not_expire() -> None:
    payload = {"access_token": "a", "token_type": "bearer", "refresh_token": "r", "scope": "sales_invoices settings",
               "created_at": 1700000000}
    tokens = token_set_from_response(payload, MONEYBIRD_PROFILE, NOW)
    assert tokens.access_expires_at is None
    assert tokens.refresh_expires_at is None
    assert tokens.scope == "sales_invoices settings"


def test_a_refresh_answer_without_refresh_token_keeps_the_old_one() -> None:
    old = sample()
    later = NOW + timedelta(hours=1)
    tokens = token_set_from_response({"access_token": "new"}, MONEYBIRD_PROFILE, later, previous=old)
    assert tokens.refresh_value() == "Gcp7!refresh-secret"
    assert tokens.refresh_obtained_at == NOW
    assert tokens.access_obtained_at == later


def test_a_missing_refresh_token_is_dropped_when_the_profile_does_not_keep_it() -> None:
    profile = replace(MONEYBIRD_PROFILE, keep_refresh_token_if_omitted=False)
    assert token_set_from_response({"access_token": "n"}, profile, NOW, previous=sample()).refresh_token is None


def test_refresh_token_expires_in_from_the_answer_wins_over_the_profile() -> None:
    tokens = token_set_from_response({"access_token": "a", "refresh_token": "r", "refresh_token_expires_in": "3600"},
                                     EXACT_PROFILE, NOW)
    assert tokens.refresh_expires_at == NOW + timedelta(hours=1)


@pytest.mark.parametrize(("payload", "message"), [
    ({"token_type": "bearer"}, "without an access token"),
    ({"access_token": "a", "token_type": "mac"}, "other than Bearer"),
    ({"access_token": "a", "expires_in": "soon"}, "non-numeric expires_in"),
    ([], "without a JSON object"),
])
def test_unusable_answers_are_api_errors(payload: Any, message: str) -> None:
    with pytest.raises(ApiError, match=message):
        token_set_from_response(payload, EXACT_PROFILE, NOW)


def test_a_string_expires_in_is_refused_when_the_profile_says_it_is_numeric() -> None:
    with pytest.raises(ApiError, match="non-numeric expires_in"):
        token_set_from_response({"access_token": "a", "expires_in": "600"},
                                replace(EXACT_PROFILE, expires_in_may_be_string=False), NOW)
