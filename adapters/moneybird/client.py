"""Moneybird transport details: host, OAuth profile, rate-limit headers, error bodies, JSON calls.

Every fact cites docs/reference/moneybird.md (section numbers in comments) or the official spec
(docs/reference/moneybird/openapi.json, "SPEC").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connector.auth import OAuthProfile
from connector.errors import MappingError, RateLimited
from connector.http import ApiClient, NextLinkGuard, PackageHttp
from connector.ratelimit import Window
from connector.retry import RetryPolicy

#: §1: one host for every customer; paths are ``/api/v2/{administration_id}/{resource}.json``.
HOSTS: dict[str, str] = {"nl": "https://moneybird.com", "be": "https://moneybird.com"}

#: §2 Scopes: the minimal AR set is ``sales_invoices`` (invoices, contacts, notes, reminders,
#: custom fields, workflows) plus ``settings`` (``GET /users`` to assign a to-do).
SCOPES: tuple[str, ...] = ("sales_invoices", "settings")

#: §2 OAuth2: authorization code at ``/oauth/authorize``, token and refresh at ``/oauth/token``
#: with the secret in the form body, no PKCE documented. The token response carries no
#: ``expires_in`` (DOTNET fixture); the docs say one *may* come. So: honour ``expires_in`` when
#: present, otherwise treat the token as non-expiring and refresh on a 401 (what the official CLI
#: does). A refresh may omit ``refresh_token``: keep the old one (MCP CHANGELOG).
OAUTH = OAuthProfile(
    authorize_path="/oauth/authorize",
    token_path="/oauth/token",
    pkce=False,
    secret_in="body",
    scope_separator=" ",
    default_access_lifetime_seconds=None,
    keep_refresh_token_if_omitted=True,
)

#: §9: 150 requests per 5 minutes, fixed, per token ("API token limiet").
LIMIT = 150
WINDOW_SECONDS = 300
#: §5: a synchronization POST returns at most 100 records, "even if more ids are provided".
SYNC_BATCH = 100


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _epoch(value: int, now: datetime) -> datetime:
    """§9: ``RateLimit-Reset`` and ``Retry-After`` are absolute epoch seconds. A small value can
    only be a delay in seconds (RFC reading); a 13-digit one is milliseconds."""
    if value > 10**12:
        return datetime.fromtimestamp(value / 1000, UTC)
    if value > 10**9:
        return datetime.fromtimestamp(value, UTC)
    return now + timedelta(seconds=value)


def parse_rate_headers(headers: httpx.Headers, now: datetime) -> list[Window]:
    """§9 "Headers and 429": the one 5-minute window, read from Moneybird's own headers.

    The remaining *count* comes from ``RateLimit-RequestsRemaining`` (observed live by MCP,
    2026-08-07). ``RateLimit-Remaining`` is documented as a count by the spec but observed as the
    seconds until the reset; it is used as a count only when it cannot be the seconds reading:
    not above ``RateLimit-Limit`` and not (within 2 s) equal to the time left until
    ``RateLimit-Reset``. Otherwise no window is reported and the limiter keeps counting locally
    from the last reading it trusted.
    """
    reset_raw = _int(headers.get("ratelimit-reset"))
    if reset_raw is None:
        return []
    reset_at = _epoch(reset_raw, now)
    limit = _int(headers.get("ratelimit-limit"))
    remaining = _int(headers.get("ratelimit-requestsremaining"))
    if remaining is None:
        ambiguous = _int(headers.get("ratelimit-remaining"))
        if ambiguous is None:
            return []
        seconds_left = (reset_at - now).total_seconds()
        if (limit is not None and ambiguous > limit) or abs(ambiguous - seconds_left) <= 2:
            return []
        remaining = ambiguous
    return [Window("5min", limit, max(0, remaining), reset_at)]


def error_text(response: httpx.Response) -> str:
    """§9 Error bodies: ``{"error":"msg","symbolic":{…}}``, 422 ``{"error":{"field":["msg"]}}``,
    429 the JSON string ``"Retry later"``, and HTML pages from the front servers (PICQER #101)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, str) and body.strip():
        return body.strip()[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str) and error:
            return error[:200]
        if isinstance(error, dict) and error:
            parts = []
            for field, messages in error.items():
                text = ", ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
                parts.append(f"{field} {text}")
            return "; ".join(parts)[:200]
    if "html" in response.headers.get("content-type", ""):
        return response.reason_phrase or f"HTTP {response.status_code}"
    text = response.text.strip().replace("\n", " ")
    return text[:200] if text else response.reason_phrase


MONEYBIRD_HTTP = PackageHttp(
    name="Moneybird",
    parse_rate_headers=parse_rate_headers,
    error_text=error_text,
    default_429_wait_seconds=60.0,
)

JSON_HEADERS = {"Accept": "application/json"}


def _next_link(response: httpx.Response) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 ``Link`` header, or None."""
    for link in response.links.values():
        if link.get("rel") == "next" and link.get("url"):
            return str(link["url"])
    return None


class MoneybirdClient:
    """JSON calls on one administration: ``/api/v2/{administration_id}/{path}.json``."""

    def __init__(self, api: ApiClient, administration_id: str) -> None:
        self.api = api
        self.administration_id = administration_id
        # §9 Idempotency: API writes take no idempotency key, and clients retry 5xx only for
        # idempotent methods (SNAKE). Writes that create something (notes, send_reminders) go
        # through a client that never retries a 5xx or a timeout: the first try may have landed.
        # A 429 was not processed, so that one is retried (after the limiter's wait).
        self.once = ApiClient(api.client, api.package, limiter_key=api.limiter_key, limiter=api.limiter,
                              retry=RetryPolicy(attempts=1), clock=api.clock)
        self.once.stats = api.stats

    def url(self, path: str) -> str:
        return f"/api/v2/{self.administration_id}/{path}.json"

    def _json(self, response: httpx.Response, endpoint: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise MappingError(f"Moneybird: {endpoint} answered something that is not JSON") from None

    def get(self, path: str, endpoint: str, params: dict[str, str] | None = None) -> Any:
        response = self.api.get(self.url(path), endpoint=endpoint, params=params, headers=JSON_HEADERS)
        return self._json(response, endpoint)

    def send(
        self, method: str, path: str, endpoint: str, body: dict[str, Any] | None = None, *, creates: bool = False
    ) -> Any:
        """A JSON write; ``creates``: it makes something new each time (never retried on 5xx)."""
        # §1: request bodies are JSON wrapped in the entity name; ids travel as strings.
        content = json.dumps(body if body is not None else {}).encode()
        headers = {**JSON_HEADERS, "Content-Type": "application/json"}
        if not creates:
            return self._json(self.api.request(method, self.url(path), endpoint=endpoint, content=content,
                                               headers=headers), endpoint)
        policy = self.api.retry
        for attempt in range(1, policy.attempts + 1):
            try:
                response = self.once.request(method, self.url(path), endpoint=endpoint, content=content, headers=headers)
                return self._json(response, endpoint)
            except RateLimited as exc:
                if attempt == policy.attempts:
                    raise
                self.api.stats.retries += 1
                policy.sleep(policy.delay_for(attempt, exc))
        raise AssertionError("unreachable")  # pragma: no cover

    def get_list(self, path: str, endpoint: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """A JSON list, every page of it: §4 Pagination, list endpoints answer a ``Link`` header with
        ``rel="next"`` while more pages follow (PICQER follows it); lists that do not page send none.

        A next link that repeats one already followed stops with :class:`~connector.errors.PagingError`
        after that one repeat (issue 15 point 1), never a loop at the rate limit."""
        guard = NextLinkGuard("Moneybird", endpoint)
        url: str | None = self.url(path)
        guard.start(url)
        query: dict[str, str] | None = params
        result: list[dict[str, Any]] = []
        while url is not None:
            response = self.api.get(url, endpoint=endpoint, params=query, headers=JSON_HEADERS)
            rows = self._json(response, endpoint)
            if not isinstance(rows, list):
                raise MappingError(f"Moneybird: {endpoint} answered something that is not a list")
            result.extend(row for row in rows if isinstance(row, dict))
            followed = guard.follow(_next_link(response))
            url, query = (None if followed is None else str(followed)), None  # the link carries the query
        return result

    def versions(self, resource: str, params: dict[str, str] | None = None) -> dict[str, int]:
        """§5: ``GET /{resource}/synchronization`` → ``[{id, version}]`` (no paging), as id → version."""
        endpoint = f"{resource}/synchronization"
        result: dict[str, int] = {}
        for row in self.get_list(endpoint, endpoint, params):
            ident, version = row.get("id"), row.get("version")
            if ident is None or isinstance(version, bool) or not isinstance(version, int):
                continue
            result[str(ident)] = version
        return result

    def fetch(self, resource: str, ids: Sequence[str]) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
        """§5: ``POST /{resource}/synchronization`` with at most 100 ids per call; yields
        (the ids asked, the records returned) per call. Ids go as strings (§1: bigints lose
        precision through float). It cannot loop: the batches are cut from the id list read
        once, so it makes exactly ceil(len(ids) / 100) calls whatever the answers hold (issue 15)."""
        endpoint = f"{resource}/synchronization"
        for start in range(0, len(ids), SYNC_BATCH):
            asked = list(ids[start:start + SYNC_BATCH])
            rows = self.send("POST", endpoint, endpoint, {"ids": asked})
            if not isinstance(rows, list):
                raise MappingError(f"Moneybird: {endpoint} answered something that is not a list")
            yield asked, [row for row in rows if isinstance(row, dict)]
