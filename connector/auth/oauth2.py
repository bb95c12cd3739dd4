"""``CredentialAuth``: an ``httpx.Auth`` that keeps one credential's access token valid.

Per request (docs/architecture.md §9, docs/reference/exact.md §1.4 "Consequence for arconnect"):

1. Use the token set in memory, else load it from the secret store, so a new process reuses a
   valid access token instead of refreshing.
2. When the access token is expired or within the profile's margin (and at least the profile's
   minimum age old), refresh **single-flight**: take the credential's cross-process lock,
   re-read the stored token set (another process may have refreshed: then use that), otherwise
   send the refresh grant, **persist the new set before using it**, release the lock.
3. On a 401 from the API: refresh once through the same path (if the stored token changed
   meanwhile, just retry with it) and retry the request once; a second 401 is ReauthRequired.

**Early refresh after a 401.** Exact rejects a refresh within 9.5 minutes of the last one (401
"Access Token not expired", exact.md §1.4) and counts every token call against a 200-a-day quota.
When the API refuses a token younger than the minimum age we still try one refresh: the token
endpoint is the authority. If the access token was really dead (revoked, or replaced by a refresh
we did not see) the refresh fixes it; if Exact answers "Access Token not expired" the refusal is
about something a refresh cannot repair, and the caller gets ReauthRequired naming the package's
reason. A refused refresh does not consume the refresh token, so nothing is lost by asking.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from datetime import UTC, datetime, timedelta

import httpx

from connector.auth.endpoint import Clock, TokenEndpoint
from connector.auth.locks import DEFAULT_LOCK_TIMEOUT, CredentialLocks, default_locks
from connector.auth.profile import OAuthProfile
from connector.auth.secret_store import SecretStore
from connector.auth.tokens import TokenSet, load_tokens, relink_hint, save_tokens
from connector.config import CredentialConfig
from connector.errors import ReauthRequired, TokenStillValid

log = logging.getLogger("arconnect.auth")


def utc_now() -> datetime:
    return datetime.now(UTC)


class CredentialAuth(httpx.Auth):
    """Bearer auth for one credential, with single-flight refresh shared by every process."""

    requires_request_body = True  # the request may be sent twice (retry after a 401)

    def __init__(
        self,
        credential: CredentialConfig,
        profile: OAuthProfile,
        store: SecretStore,
        http: httpx.Client,
        clock: Clock = utc_now,
        *,
        locks: CredentialLocks | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.credential = credential
        self.profile = profile
        self.store = store
        self.clock = clock
        self.locks: CredentialLocks = locks or default_locks()
        self.lock_timeout = lock_timeout
        self.endpoint = TokenEndpoint(credential, profile, store, http, clock)
        self._tokens: TokenSet | None = None

    def __repr__(self) -> str:
        return f"CredentialAuth({self.credential.name!r})"

    # ---- httpx.Auth
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent = self.tokens()
        request.headers["Authorization"] = f"Bearer {sent.access_value()}"
        response = yield request
        # A 401 is retried twice, each time after asking the token endpoint for a fresh token, before
        # the grant counts as lost: one spurious 401 must never send a bookkeeper to re-link. When
        # the token endpoint says the token is still valid (TokenStillValid), the same token is tried
        # again once; a second refusal then is a transient fault, never a re-link.
        for attempt in (1, 2):
            if response.status_code != 401:
                return
            log.info("credential %s: the API refused the access token (401, try %d); refreshing",
                     self.credential.name, attempt)
            try:
                sent = self._refresh(seen=sent, after_401=True)
            except TokenStillValid:
                if attempt == 2:
                    raise
            request.headers["Authorization"] = f"Bearer {sent.access_value()}"
            response = yield request
        if response.status_code == 401:
            raise ReauthRequired(
                f"credential {self.credential.name} was refused three times, also after refreshing its token; "
                f"re-link it: {self._hint()}"
            )

    def _hint(self) -> str:
        return relink_hint(self.credential.name, self.credential.package, self.credential)

    # ---- what adapters and the scheduler call
    def tokens(self) -> TokenSet:
        """The current token set, refreshed first when it is due."""
        current = self._tokens or self._load()
        if self._due(current):
            current = self._refresh(seen=current, after_401=False)
        return current

    def current_token(self) -> str:
        """A valid access token (for packages that carry it elsewhere, e.g. Twinfield's SOAP header)."""
        return self.tokens().access_value()

    def token_rejected(self, access_token: str) -> str:
        """The package refused ``access_token`` (its own 401 shape): refresh once, single-flight.

        Returns the access token to retry with; a caller that is refused again raises ReauthRequired.
        """
        current = self._tokens or self._load()
        if current.access_value() != access_token:
            return current.access_value()
        return self._refresh(seen=current, after_401=True).access_value()

    def ensure_fresh(self, *, refresh_token_within: timedelta | None = None) -> TokenSet:
        """Refresh when due, or when the refresh token lapses within ``refresh_token_within``.

        The scheduler calls this to keep an unused refresh token alive (Exact: 30 days unused,
        exact.md §1.4) without ever refreshing before the profile's minimum age.
        """
        current = self._tokens or self._load()
        lapses = self.refresh_token_expires_in(current)
        keep_alive = (
            refresh_token_within is not None
            and lapses is not None
            and lapses <= refresh_token_within
            and self._age(current) >= timedelta(seconds=self.profile.min_refresh_age_seconds)
        )
        if keep_alive or self._due(current):
            return self._refresh(seen=current, after_401=False, force=keep_alive)
        return current

    def refresh_token_expires_in(self, tokens: TokenSet | None = None) -> timedelta | None:
        """Time left before the refresh token lapses (negative when it has), None when unknown."""
        current = tokens or self._tokens or self._load()
        if current.refresh_expires_at is None:
            return None
        return current.refresh_expires_at - self.clock()

    # ---- internals
    def _load(self) -> TokenSet:
        stored = load_tokens(self.store, self.credential.name, self.credential.package)
        if stored is None:
            raise ReauthRequired(
                f"credential {self.credential.name} is not linked yet: "
                f"{self._hint()}"
            )
        self._tokens = stored
        return stored

    def _age(self, tokens: TokenSet) -> timedelta:
        return self.clock() - tokens.access_obtained_at

    def _due(self, tokens: TokenSet) -> bool:
        """Expired, or within the margin and old enough to be refreshed (exact.md §1.4)."""
        if tokens.access_expires_at is None:
            return False
        now = self.clock()
        if now >= tokens.access_expires_at:
            return True
        within_margin = now >= tokens.access_expires_at - timedelta(seconds=self.profile.refresh_margin_seconds)
        old_enough = self._age(tokens) >= timedelta(seconds=self.profile.min_refresh_age_seconds)
        return within_margin and old_enough

    def _refresh(self, *, seen: TokenSet, after_401: bool, force: bool = False) -> TokenSet:
        """Single-flight refresh under the credential's lock; ``seen`` is the set the caller used."""
        name = self.credential.name
        with self.locks.hold(name, self.lock_timeout):
            stored = load_tokens(self.store, name, self.credential.package)
            if stored is None:
                raise ReauthRequired(f"credential {name} is not linked: {self._hint()}")
            self._tokens = stored
            if not stored.same_access(seen):
                # Another process or thread refreshed while we waited: use its tokens.
                if not self._due(stored):
                    log.debug("credential %s: using the tokens another process refreshed", name)
                    return stored
            elif not (after_401 or force or self._due(stored)):
                return stored
            fresh = self.endpoint.refresh(stored)
            save_tokens(self.store, name, fresh)  # persist the rotated refresh token before any use
            self._tokens = fresh
            log.info("credential %s: access token refreshed", name)
            return fresh
