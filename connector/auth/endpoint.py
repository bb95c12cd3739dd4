"""Requests to a package's token endpoint: the code exchange and the refresh grant.

Bodies are built by oauthlib's ``WebApplicationClient``; the client secret goes in the body or
as HTTP Basic as the profile says. Answers are mapped onto the error tree: a refused grant is
``ReauthRequired`` (docs/reference/exact.md §1.4: 401 ``unauthorized_client`` "Old refresh token
used.", 400 ``invalid_request`` "The refresh token expired at …"; adsolut.md A2: ``invalid_grant``),
a refused client is ``ConfigError``, 429 and 5xx are transient. Token values never reach a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import httpx
from oauthlib.oauth2 import WebApplicationClient

from connector.auth.profile import OAuthProfile, endpoint_url
from connector.auth.secret_store import SecretStore, client_secret
from connector.auth.tokens import TokenSet, relink_hint, token_set_from_response
from connector.config import CredentialConfig
from connector.errors import (
    ApiError,
    ArconnectError,
    ConfigError,
    NetworkError,
    RateLimited,
    ReauthRequired,
    ServiceUnavailable,
    TokenStillValid,
)

log = logging.getLogger("arconnect.auth")

Clock = Callable[[], datetime]

#: RFC 6749 §5.2 errors that mean the grant (code or refresh token) is gone.
_GRANT_ERRORS = {"invalid_grant", "invalid_request", "unauthorized_client", "invalid_token", "access_denied"}


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` on one line, at most 200 characters, with every given secret value cut out."""
    for value in secrets:
        if value:
            text = text.replace(value, "***")
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."


class TokenEndpoint:
    """The token endpoint of one credential, reached through the caller's httpx client."""

    def __init__(
        self,
        credential: CredentialConfig,
        profile: OAuthProfile,
        store: SecretStore,
        http: httpx.Client,
        clock: Clock,
    ) -> None:
        self.credential = credential
        self.profile = profile
        self.store = store
        self.http = http
        self.clock = clock

    # ---- grants
    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None = None) -> TokenSet:
        secret = client_secret(self.credential, self.store)
        client = WebApplicationClient(self.credential.client_id)
        body = client.prepare_request_body(
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            include_client_id=True,
            **self._secret_in_body(secret),
        )
        payload = self._post(body, secret, grant="authorization_code", known=(code, code_verifier))
        return token_set_from_response(payload, self.profile, self.clock())

    def refresh(self, current: TokenSet) -> TokenSet:
        refresh_token = current.refresh_value()
        if not refresh_token:
            raise ReauthRequired(
                f"credential {self.credential.name} has no refresh token; {self._hint()}"
            )
        secret = client_secret(self.credential, self.store)
        client = WebApplicationClient(self.credential.client_id)
        extra: dict[str, str] = {"client_id": self.credential.client_id} if self.profile.secret_in == "body" else {}
        body = client.prepare_refresh_body(refresh_token=refresh_token, **extra, **self._secret_in_body(secret))
        payload = self._post(body, secret, grant="refresh_token", known=(refresh_token, current.access_value()))
        return token_set_from_response(payload, self.profile, self.clock(), previous=current)

    # ---- plumbing
    def _hint(self) -> str:
        return relink_hint(self.credential.name, self.credential.package, self.credential)

    def _secret_in_body(self, secret: str) -> dict[str, str]:
        return {"client_secret": secret} if self.profile.secret_in == "body" else {}

    def _post(self, body: str, secret: str, *, grant: str, known: tuple[str | None, ...]) -> Any:
        url = endpoint_url(self.credential, self.profile.token_path)
        auth = httpx.BasicAuth(self.credential.client_id, secret) if self.profile.secret_in == "basic" else None
        name = self.credential.name
        try:
            response = self.http.post(
                url,
                content=body.encode("utf-8"),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException:
            raise NetworkError(f"token endpoint of credential {name} timed out") from None
        except httpx.HTTPError as exc:
            raise NetworkError(f"token endpoint of credential {name} unreachable ({type(exc).__name__})") from None
        secrets = (secret, *known)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        status = response.status_code
        log.debug("credential %s: %s grant answered %s", name, grant, status)
        if 200 <= status < 300:
            if payload is None:
                raise ApiError(f"token endpoint of credential {name} answered {status} without JSON", status)
            return payload
        reason = self._reason(payload, response, secrets)
        raise self._error(status, payload, reason, grant)

    @staticmethod
    def _reason(payload: Any, response: httpx.Response, secrets: tuple[str | None, ...]) -> str:
        if isinstance(payload, dict) and payload.get("error"):
            text = str(payload["error"])
            if payload.get("error_description"):
                text += f": {payload['error_description']}"
        else:
            text = f"HTTP {response.status_code}"
        return scrub(text, secrets)

    def _error(self, status: int, payload: Any, reason: str, grant: str) -> ArconnectError:
        name = self.credential.name
        error = str(payload.get("error", "")) if isinstance(payload, dict) else ""
        if status == 429:
            return RateLimited(f"token endpoint of credential {name} is rate limited ({reason})")
        if status >= 500:
            return ServiceUnavailable(f"token endpoint of credential {name} failed ({reason})")
        if error == "invalid_client":
            return ConfigError(
                f"the package refused the client id or secret of credential {name} ({reason}); "
                "check the app's client id and secret"
            )
        if grant == "authorization_code":
            return ConfigError(f"linking credential {name} failed at the token endpoint ({reason}); link again")
        if status in (400, 401) and "not expired" in reason.lower():
            # Exact refuses to refresh an access token younger than 9.5 minutes with 401
            # invalid_request "Access Token not expired" (docs/reference/exact.md §1.4): the grant is
            # fine; the API's 401 that made us ask was spurious.
            return TokenStillValid(
                f"credential {name}: the package refused an access token its token endpoint calls valid "
                f"({reason}); nothing to re-link, the next run tries again")
        if status in (400, 401, 403) and (error in _GRANT_ERRORS or not error):
            return ReauthRequired(f"credential {name} needs to be re-linked: {self._hint()} ({reason})")
        return ApiError(f"token endpoint of credential {name} refused the refresh ({reason})", status)
