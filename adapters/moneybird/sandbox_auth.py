"""OAuth2 and rate limiting of the Moneybird sandbox (docs/reference/moneybird.md §2, §9).

Decisions where the reference leaves a choice:

* §2 token response: ``{"access_token","token_type":"bearer","refresh_token","scope","created_at"}`` and
  **no** ``expires_in`` by default (the DOTNET fixture; MCP and Nango say tokens do not expire). A
  sandbox built with ``access_lifetime=N`` adds ``"expires_in": N`` and lets tokens expire, so an
  adapter can be tested against both readings. ``rotate_refresh=False`` keeps the refresh token and
  leaves ``refresh_token`` out of the refresh response (MCP CHANGELOG: "may omit").
* Token errors use the Doorkeeper (Rails OAuth provider) shape ``{"error","error_description"}``:
  ``invalid_client`` 401, ``invalid_grant`` / ``invalid_request`` / ``unsupported_grant_type`` 400
  [UNVERIFIED: Moneybird's server is not documented; Doorkeeper's defaults are assumed].
* Scopes: the six of §2; joined by spaces or ``+``; default ``sales_invoices``; an unknown scope
  redirects with ``error=invalid_scope``. ``state`` is echoed back [UNVERIFIED in the docs].
* §9 rate limit: a fixed window of ``window_seconds`` per access token, started by its first request.
  Every API response carries ``RateLimit-Limit``, ``RateLimit-Reset`` (absolute epoch seconds),
  ``RateLimit-Remaining`` (**seconds** until the reset, as MCP observed live, not the spec's "requests
  left") and ``RateLimit-RequestsRemaining`` (requests left). A 429 answers the JSON string
  ``"Retry later"`` with ``Retry-After`` = the reset as absolute epoch seconds.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from connector.sandbox import Response, SandboxClock, TokenIssuer, TokenRules

SCOPES = ("sales_invoices", "documents", "estimates", "bank", "time_entries", "settings")

INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI "
    "used in the authorization request, or was issued to another client."
)
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method."
)


def token_error(status: int, error: str, description: str) -> Response:
    return Response.json({"error": error, "error_description": description}, status=status)


class MoneybirdIssuer(TokenIssuer):
    """The shared issuer plus the grant's scope (API endpoints check it, reference §2 Scopes)."""

    def scopes_for(self, access_token: str | None) -> frozenset[str] | None:
        if self.user_for(access_token) is None or access_token is None:
            return None
        with self._lock:
            grant = self._by_access.get(access_token)
            return None if grant is None else frozenset(grant.scope.split())


def make_issuer(clock: SandboxClock, access_lifetime: int | None, rotate_refresh: bool) -> MoneybirdIssuer:
    rules = TokenRules(
        access_lifetime=access_lifetime,
        refresh_single_use=rotate_refresh,
        rotate_refresh=rotate_refresh,
        code_lifetime=600,  # Doorkeeper's default authorization-code lifetime [UNVERIFIED]
    )
    return MoneybirdIssuer(rules, clock)


def parse_scope(raw: str | None) -> list[str] | None:
    """Space- or ``+``-separated scopes; None when one is unknown. Empty: ``sales_invoices``."""
    parts = [p for p in (raw or "").replace("+", " ").split() if p]
    if not parts:
        return ["sales_invoices"]
    if any(p not in SCOPES for p in parts):
        return None
    return list(dict.fromkeys(parts))


@dataclass
class _Window:
    start: float
    count: int


class RateLimiter:
    """§9: ``limit`` requests per ``window`` seconds per access token (fixed window)."""

    def __init__(self, clock: SandboxClock, limit: int, window: int) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def _current(self, key: str) -> _Window:
        now = self.clock.timestamp()
        win = self._windows.get(key)
        if win is None or now >= win.start + self.window:
            win = _Window(float(math.floor(now)), 0)  # windows start on a whole second
            self._windows[key] = win
        return win

    def hit(self, key: str) -> bool:
        """Count one request; False when the window is used up (the request is refused)."""
        with self._lock:
            win = self._current(key)
            if win.count >= self.limit:
                return False
            win.count += 1
            return True

    def headers(self, key: str) -> dict[str, str]:
        with self._lock:
            win = self._current(key)
            reset = math.ceil(win.start + self.window)
            seconds_left = max(0, math.ceil(reset - self.clock.timestamp()))
            return {
                "RateLimit-Limit": str(self.limit),
                "RateLimit-Remaining": str(seconds_left),
                "RateLimit-RequestsRemaining": str(max(0, self.limit - win.count)),
                "RateLimit-Reset": str(reset),
            }

    def too_many(self, key: str) -> Response:
        headers = self.headers(key)
        headers["Retry-After"] = headers["RateLimit-Reset"]
        return Response.json("Retry later", status=429, headers=headers)
