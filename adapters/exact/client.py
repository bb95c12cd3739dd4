"""Exact Online transport details: hosts, OAuth profile, OData v2 envelopes, rate headers, errors.

Every fact here cites docs/reference/exact.md (section numbers in comments).
"""

from __future__ import annotations

from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from connector.auth import OAuthProfile
from connector.http import ApiClient, NextLinkGuard, PackageHttp
from connector.ratelimit import Window

#: §1.1: one host per country; a token is only valid on its own host.
HOSTS: dict[str, str] = {
    "nl": "https://start.exactonline.nl",
    "be": "https://start.exactonline.be",
    "de": "https://start.exactonline.de",
    "uk": "https://start.exactonline.co.uk",
    "fr": "https://start.exactonline.fr",
    "es": "https://start.exactonline.es",
    "us": "https://start.exactonline.com",
}

#: §1.2–§1.4: authorization code grant, secret in the form body, 10-minute access tokens sent
#: with ``expires_in`` as a string, no refresh before 9.5 minutes, refresh 30 s before expiry,
#: single-use rotating refresh tokens valid 30 days. Exact documents no PKCE support.
OAUTH = OAuthProfile(
    authorize_path="/api/oauth2/auth",
    token_path="/api/oauth2/token",
    pkce=False,
    secret_in="body",
    extra_authorize_params={"force_login": "0"},
    min_refresh_age_seconds=570,
    refresh_margin_seconds=30,
    default_access_lifetime_seconds=600,
    refresh_token_lifetime_seconds=30 * 24 * 3600,
)


def _parse_epoch_ms(value: str | None) -> datetime | None:
    if value is None or not value.strip().lstrip("-").isdigit():
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def parse_rate_headers(headers: httpx.Headers, now: datetime) -> list[Window]:
    """§8: daily ``X-RateLimit-*`` and minutely ``X-RateLimit-Minutely-*``; resets in epoch ms.

    On a minutely 429 only the minutely headers are sent and vice versa, so each window is read
    only when its own headers are present.
    """
    windows: list[Window] = []
    for name, prefix in (("daily", "x-ratelimit-"), ("minutely", "x-ratelimit-minutely-")):
        remaining = headers.get(prefix + "remaining")
        reset = _parse_epoch_ms(headers.get(prefix + "reset"))
        if remaining is None or reset is None or not remaining.strip().lstrip("-").isdigit():
            continue
        limit = headers.get(prefix + "limit")
        windows.append(
            Window(name, int(limit) if limit and limit.isdigit() else None, int(remaining), reset)
        )
    return windows


def error_text(response: httpx.Response) -> str:
    """§2.8: REST errors are ``{"error":{"code":"","message":{"lang":"","value":"…"}}}``;
    token errors ``{"error":"…","error_description":"…"}``; a 403 may carry a ``Reason`` header."""
    reason = response.headers.get("reason")
    text = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            text = str(message.get("value", "")) if isinstance(message, dict) else str(message or "")
        elif isinstance(error, str):
            text = str(body.get("error_description") or error)
    if not text:
        text = response.text.strip()[:200] or response.reason_phrase
    return f"{text} (Reason: {reason})" if reason else text


EXACT_HTTP = PackageHttp(name="Exact Online", parse_rate_headers=parse_rate_headers, error_text=error_text)

#: §2.1: JSON must be asked for; the default is Atom XML.
JSON_HEADERS = {"Accept": "application/json"}


def _page(response: httpx.Response) -> tuple[list[dict[str, Any]], str | None]:
    """§2.2: ``{"d": {"results": [...], "__next": "..."}}`` → (rows, the next URL or None).

    Anything else raises ``ValueError``, which :meth:`ApiClient.fetch` turns into a transient fault
    (a maintenance page served with 200 is retried, never mapped; issue 16 point 2).
    """
    d = response.json()["d"]
    rows = d["results"] if isinstance(d, dict) and "results" in d else d
    if not isinstance(rows, list):
        raise ValueError("not an OData list")
    next_url = d.get("__next") if isinstance(d, dict) else None
    return rows, str(next_url) if next_url else None


def odata_rows(
    api: ApiClient, url: str, *, endpoint: str, prefetch: bool = False
) -> Generator[tuple[list[dict[str, Any]], bool], None, None]:
    """Pages of a verbose OData v2 list: yields (rows, is_last_page).

    §2.2/§2.3: follow ``__next`` verbatim until it is absent; page sequentially ("messages are queued
    in a random order if you initiate parallel requests"). A ``__next`` that repeats a link already
    followed stops the listing with :class:`~connector.errors.PagingError` (issue 15: a list that
    ignored ``$skiptoken`` was followed forever at 60 calls a minute).

    With ``prefetch`` the request for the next page is sent while the caller still works on this one
    (one thread, so still one request in flight at a time and in order): the server's time and ours
    overlap, which is what lets a long sync use the whole minutely budget. Only for feeds that are read
    to the end (sync): a caller that stops early has caused one more call. At most two pages are in
    hand. Errors surface in the caller's thread, at the page they belong to.
    """
    guard = NextLinkGuard("Exact Online", endpoint)
    guard.start(url)

    def fetch(page_url: str) -> tuple[list[dict[str, Any]], str | None]:
        return api.fetch("GET", page_url, _page, endpoint=endpoint, headers=JSON_HEADERS)

    def follow(next_url: str | None) -> str | None:
        followed = guard.follow(next_url)
        return None if followed is None else str(followed)

    if not prefetch:
        next_url: str | None = url
        while next_url:
            rows, next_url = fetch(next_url)
            next_url = follow(next_url)
            yield rows, not next_url
        return

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="exact-prefetch") as pool:
        pending: Future[tuple[list[dict[str, Any]], str | None]] | None = pool.submit(fetch, url)
        try:
            while pending is not None:
                rows, next_url = pending.result()
                next_url = follow(next_url)
                pending = pool.submit(fetch, next_url) if next_url else None
                yield rows, not next_url
        finally:
            if pending is not None:
                pending.cancel()  # not started yet: never sent; running: the pool waits for it to end
