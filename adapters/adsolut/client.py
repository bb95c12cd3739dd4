"""Adsolut transport details: hosts, OAuth profile, error bodies, the paged Accounting envelope.

Facts cite the Adsolut reference notes (sections A1–A9), which quote the public clients
servicedesk (C#), ANIMOOH (JS), adsolut-wp (PHP) and omniboost oauth-proxy (Go).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from connector.auth import OAuthProfile
from connector.errors import MappingError
from connector.http import ApiClient, PackageHttp

#: A2: the identity provider is the Wolters Kluwer one; a token belongs to its IdP ("tokens of one
#: IdP are not valid on the other"), so the credential's host is the IdP. A1: UAT uses
#: ``login-stg.wolterskluwer.eu``.
HOSTS: dict[str, str] = {
    "be": "https://login.wolterskluwer.eu",
    "be-uat": "https://login-stg.wolterskluwer.eu",
}
#: A1: one API host for every sub-API. The UAT API host comes from a 2023 client and is
#: contradicted by a 2026 one (reference A1: "conflicting"). Any other credential host (a
#: sandbox on 127.0.0.1) serves identity and API on the same host.
API_HOSTS: dict[str, str] = {
    "https://login.wolterskluwer.eu": "https://api.adsolut.com",
    "https://login-stg.wolterskluwer.eu": "https://uat-api.wktaae.be",
}

#: A2: the scopes this connector needs: dossiers and activation, read and write Accounting, and
#: ``offline_access`` for a refresh token.
SCOPES: tuple[str, ...] = (
    "openid", "offline_access", "WK.BE.Administrations", "WK.BE.Accounting.Read", "WK.BE.Accounting.Write",
)

#: A2: authorization code on the IdentityServer-style paths, no PKCE documented, client
#: authentication with HTTP Basic per the docs (the body also works), 60-minute access tokens,
#: refresh tokens that rotate on every refresh with a sliding 30-day window.
OAUTH = OAuthProfile(
    authorize_path="/auth/core/connect/authorize",
    token_path="/auth/core/connect/token",
    pkce=False,
    secret_in="basic",
    scope_separator=" ",
    default_access_lifetime_seconds=3600,
    refresh_token_lifetime_seconds=30 * 24 * 3600,
    keep_refresh_token_if_omitted=True,
)

#: A4: ``Limit`` max 100.
PAGE_LIMIT = 100


def api_base(credential_host: str) -> str:
    """The API host that goes with the credential's identity host (see :data:`API_HOSTS`)."""
    host = credential_host.rstrip("/")
    return API_HOSTS.get(host, host)


def error_text(response: httpx.Response) -> str:
    """A6/A7: ``{"validationResults":[…]}`` on refused writes, sometimes ``{"error": "…"}``, and a 403
    with an **empty body** when the grant lacks a scope."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        results = body.get("validationResults")
        if isinstance(results, list) and results:
            parts = []
            for result in results[:5]:
                if isinstance(result, dict):
                    code = str(result.get("code") or "").strip()
                    message = str(result.get("message") or result.get("errorMessage") or "").strip()
                    parts.append(": ".join(p for p in (code, message) if p))
            if any(parts):
                return "; ".join(p for p in parts if p)[:300]
        error = body.get("error") or body.get("message")
        if isinstance(error, str) and error.strip():
            return error.strip()[:300]
    if response.status_code == 403 and not response.content:
        return "refused without a reason: the grant probably lacks a WK.BE scope (re-link with the scopes of this version)"
    text = response.text.strip().replace("\n", " ")
    return text[:200] if text else (response.reason_phrase or f"HTTP {response.status_code}")


#: A7: no quota is published and no rate headers are documented: pacing relies on ``Retry-After``
#: of a 429 (``connector.http``); without one, ASSUMED: wait a minute.
ADSOLUT_HTTP = PackageHttp(name="Adsolut", error_text=error_text, default_429_wait_seconds=60.0)

JSON_HEADERS = {"Accept": "application/json"}


def rows_of(payload: Any) -> list[Any]:
    """A3/A7: a list arrives as a bare array, ``{items: […]}`` or ``{data: […]}``."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in ("items", "data", "Items", "Data"):
            rows = payload.get(key)
            if isinstance(rows, list):
                return rows
    raise MappingError("Adsolut: a list answer is neither an array nor an {items}/{data} envelope")


@dataclass(frozen=True)
class ListPage:
    rows: list[Any]
    page: int
    total_pages: int | None
    total_items: int | None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class AdsolutClient:
    """JSON calls on the Adsolut API host (absolute URLs: the credential's host is the IdP)."""

    def __init__(self, api: ApiClient, base: str) -> None:
        self.api = api
        self.base = base.rstrip("/")

    def _json(self, response: httpx.Response, endpoint: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise MappingError(f"Adsolut: {endpoint} answered something that is not JSON") from None

    def get(self, path: str, endpoint: str, params: Mapping[str, str] | None = None) -> Any:
        response = self.api.get(self.base + path, endpoint=endpoint, params=dict(params or {}), headers=JSON_HEADERS)
        return self._json(response, endpoint)

    def send(self, method: str, path: str, endpoint: str, body: Any = None) -> Any:
        """A write that may be repeated safely (PUT full replace, activation): retried as reads are."""
        kwargs: dict[str, Any] = {"headers": JSON_HEADERS}
        if body is not None:
            kwargs["content"] = json.dumps(body).encode("utf-8")
            kwargs["headers"] = {**JSON_HEADERS, "Content-Type": "application/json"}
        return self._json(self.api.request(method, self.base + path, endpoint=endpoint, **kwargs), endpoint)

    def page(self, path: str, endpoint: str, params: Mapping[str, str], page: int, limit: int = PAGE_LIMIT) -> ListPage:
        """A4/A7: one page of ``Page`` (1-based) and ``Limit``, envelope ``{items, currentPage,
        totalPages, totalItems}``; a bare array or ``{data}`` is taken too (then the totals are unknown)."""
        payload = self.get(path, endpoint, {**params, "Page": str(page), "Limit": str(limit)})
        rows = rows_of(payload)
        meta = payload if isinstance(payload, dict) else {}
        return ListPage(rows=rows, page=page, total_pages=_int(meta.get("totalPages")),
                        total_items=_int(meta.get("totalItems")))

    def pages(self, path: str, endpoint: str, params: Mapping[str, str], limit: int = PAGE_LIMIT) -> Iterator[ListPage]:
        """Every page, in order, until ``totalPages`` (or, without totals, a short page)."""
        number = 1
        while True:
            current = self.page(path, endpoint, params, number, limit)
            yield current
            if current.total_pages is not None:
                if number >= current.total_pages:
                    return
            elif len(current.rows) < limit:
                return
            number += 1
