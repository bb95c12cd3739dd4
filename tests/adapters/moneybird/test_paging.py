"""Moneybird lists follow ``Link: rel="next"`` (docs/reference/moneybird.md §4 Pagination) and cannot loop
(issue 15 point 1): a next link that repeats stops with one clear error after that one repeat."""

from __future__ import annotations

import httpx
import pytest

from adapters.moneybird.client import MONEYBIRD_HTTP, MoneybirdClient
from connector.errors import PagingError
from connector.http import ApiClient
from connector.ratelimit import RateLimiter

BASE = "https://moneybird.test"
ADMIN = "123456789012345678"


def client(handler: httpx.MockTransport) -> MoneybirdClient:
    http = httpx.Client(transport=handler, base_url=BASE)
    return MoneybirdClient(ApiClient(http, MONEYBIRD_HTTP, limiter_key="mb-paging", limiter=RateLimiter()), ADMIN)


def test_a_list_is_read_page_by_page_until_no_next_link() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        page = int(request.url.params.get("page", "1"))
        headers = {"Link": f'<{BASE}/api/v2/{ADMIN}/contacts.json?page={page + 1}&per_page=2>; rel="next"'} if page < 3 else {}
        return httpx.Response(200, json=[{"id": f"{page}-a"}, {"id": f"{page}-b"}], headers=headers)

    rows = client(httpx.MockTransport(handler)).get_list("contacts", "contacts", {"per_page": "2"})
    assert [r["id"] for r in rows] == ["1-a", "1-b", "2-a", "2-b", "3-a", "3-b"]
    assert len(asked) == 3


def test_a_next_link_that_does_not_advance_stops_after_one_repeat() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        stuck = f'<{BASE}/api/v2/{ADMIN}/contacts.json?page=2&per_page=100>; rel="next"'
        return httpx.Response(200, json=[{"id": "1"}], headers={"Link": stuck})

    with pytest.raises(PagingError, match="Moneybird: contacts sent the same next page again after 2 page"):
        client(httpx.MockTransport(handler)).get_list("contacts", "contacts")
    assert len(asked) == 2  # the first page, then the one repeat


def test_a_list_without_link_headers_is_one_call() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json=[{"id": "u1", "name": "Anna"}])

    assert client(httpx.MockTransport(handler)).get_list("users", "users") == [{"id": "u1", "name": "Anna"}]
    assert len(asked) == 1
