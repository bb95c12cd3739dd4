"""A credential's tokens (:class:`TokenSet`), how a token response becomes one, and where it is kept.

One token set per credential, stored as JSON under ``tokens:<credential>`` in the secret store so
every process on the machine shares it (docs/architecture.md §9). Its ``repr``/``str`` and pydantic's own
dumps show ``**********`` for both tokens; only :meth:`TokenSet.to_storage` reveals them, for the
store.
"""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, SecretStr, ValidationError

from connector.auth.profile import OAuthProfile
from connector.auth.secret_store import SecretStore
from connector.config import CredentialConfig
from connector.errors import ApiError, ReauthRequired


class TokenSet(BaseModel):
    """Access and refresh token of one credential, with what we know of their lifetimes."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    access_token: SecretStr
    token_type: str = "Bearer"
    #: None: the package gave no lifetime and the profile has no default (refresh on 401 only).
    access_expires_at: AwareDatetime | None = None
    access_obtained_at: AwareDatetime
    refresh_token: SecretStr | None = None
    refresh_obtained_at: AwareDatetime | None = None
    #: None: unknown (the package does not say, or the refresh token lives for years).
    refresh_expires_at: AwareDatetime | None = None
    scope: str | None = None

    def access_value(self) -> str:
        return self.access_token.get_secret_value()

    def refresh_value(self) -> str | None:
        return None if self.refresh_token is None else self.refresh_token.get_secret_value()

    def same_access(self, other: TokenSet | None) -> bool:
        return other is not None and other.access_value() == self.access_value()

    def to_storage(self) -> str:
        """The JSON kept in the secret store (the only place the token values are written)."""
        data = self.model_dump(mode="json")
        data["access_token"] = self.access_value()
        data["refresh_token"] = self.refresh_value()
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_storage(cls, text: str) -> TokenSet:
        return cls.model_validate_json(text)


def tokens_key(credential_name: str) -> str:
    return f"tokens:{credential_name}"


def load_tokens(store: SecretStore, credential_name: str, package: str = "") -> TokenSet | None:
    """The stored token set, None when the credential was never linked."""
    raw = store.get(tokens_key(credential_name))
    if raw is None:
        return None
    try:
        return TokenSet.from_storage(raw)
    except (ValidationError, ValueError):
        raise ReauthRequired(
            f"the stored tokens of credential {credential_name} are unreadable; {relink_hint(credential_name, package)}"
        ) from None


def save_tokens(store: SecretStore, credential_name: str, tokens: TokenSet) -> None:
    store.set(tokens_key(credential_name), tokens.to_storage())


def delete_tokens(store: SecretStore, credential_name: str) -> None:
    store.delete(tokens_key(credential_name))


def relink_hint(credential_name: str, package: str, credential: CredentialConfig | None = None) -> str:
    """The exact command that links the credential again, with every option it was linked with."""
    if not package:
        return "run 'arconnect link <package>'"
    parts = ["arconnect", "link", package, "--name", credential_name]
    if credential is not None:
        parts += ["--client-id", credential.client_id, "--host", credential.host]
        if credential.redirect_uri != CredentialConfig.model_fields["redirect_uri"].default:
            parts += ["--redirect-uri", credential.redirect_uri]
    return "run '" + " ".join(shlex.quote(part) for part in parts) + "'"


# --------------------------------------------------------------------------- token responses


def _seconds(value: Any, *, allow_string: bool, what: str) -> int | None:
    """A lifetime in seconds from a JSON number or (Exact, docs/reference/exact.md §1.3) a digit string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ApiError(f"token endpoint sent a non-numeric {what}")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and allow_string and value.strip().isdigit():
        return int(value.strip())
    raise ApiError(f"token endpoint sent a non-numeric {what}")


def token_set_from_response(
    payload: Any,
    profile: OAuthProfile,
    now: datetime,
    previous: TokenSet | None = None,
) -> TokenSet:
    """Build a TokenSet from a successful token-endpoint JSON body, tolerantly.

    * ``expires_in`` may be a string ("600", docs/reference/exact.md §1.3) or missing: then the
      profile's default lifetime applies, and None means "does not expire" (Moneybird,
      docs/reference/moneybird.md §2).
    * ``token_type`` is compared case-insensitively ("bearer", exact.md §1.3) and defaults to Bearer.
    * a refresh response without ``refresh_token`` keeps the previous one when the profile says
      so (moneybird.md §2); ``refresh_token_expires_in`` is honoured when a package sends it.
    """
    if not isinstance(payload, dict):
        raise ApiError("token endpoint answered without a JSON object")
    access = payload.get("access_token")
    if not isinstance(access, str) or not access:
        raise ApiError("token endpoint answered without an access token")
    token_type = payload.get("token_type") or "Bearer"
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise ApiError("token endpoint issued a token type other than Bearer")
    lifetime = _seconds(payload.get("expires_in"), allow_string=profile.expires_in_may_be_string, what="expires_in")
    if lifetime is None:
        lifetime = profile.default_access_lifetime_seconds
    refresh = payload.get("refresh_token")
    refresh_obtained_at: datetime | None
    refresh_expires_at: datetime | None
    if isinstance(refresh, str) and refresh:
        refresh_obtained_at = now
        refresh_lifetime = _seconds(
            payload.get("refresh_token_expires_in"), allow_string=True, what="refresh_token_expires_in"
        )
        if refresh_lifetime is None:
            refresh_lifetime = profile.refresh_token_lifetime_seconds
        refresh_expires_at = None if refresh_lifetime is None else now + timedelta(seconds=refresh_lifetime)
    elif previous is not None and profile.keep_refresh_token_if_omitted:
        refresh = previous.refresh_value()
        refresh_obtained_at = previous.refresh_obtained_at
        refresh_expires_at = previous.refresh_expires_at
    else:
        refresh, refresh_obtained_at, refresh_expires_at = None, None, None
    scope = payload.get("scope")
    if isinstance(scope, list):
        scope = profile.scope_separator.join(str(s) for s in scope)
    elif scope is None and previous is not None:
        scope = previous.scope
    return TokenSet(
        access_token=SecretStr(access),
        token_type="Bearer",
        access_expires_at=None if lifetime is None else now + timedelta(seconds=lifetime),
        access_obtained_at=now,
        refresh_token=None if refresh is None else SecretStr(refresh),
        refresh_obtained_at=refresh_obtained_at,
        refresh_expires_at=refresh_expires_at,
        scope=None if scope is None else str(scope),
    )
