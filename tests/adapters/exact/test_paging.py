"""Paging a verbose OData v2 list (docs/reference/exact.md §2.2, §2.3): ``__next`` followed verbatim, in order,
one request at a time; with ``prefetch`` the next page is asked for while the caller works on this one."""

from __future__ import annotations

import threading

import httpx
import pytest

from adapters.exact.client import EXACT_HTTP, odata_rows
from connector.errors import ApiError
from connector.http import ApiClient
from connector.ratelimit import RateLimiter

BASE = "http://exact.test"


class Pages:
    """Serves three pages; remembers the order of requests and how many were in flight at once."""

    def __init__(self, fail_page: int | None = None) -> None:
        self.requested: list[int] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail_page = fail_page
        self.asked: dict[int, threading.Event] = {n: threading.Event() for n in (1, 2, 3)}
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.requested.append(number)
        self.asked[number].set()
        try:
            if number == self.fail_page:
                return httpx.Response(400, json={"error": {"code": "", "message": {"lang": "", "value": "Bad page"}}})
            d: dict[str, object] = {"results": [{"ID": f"{number}-{i}"} for i in range(2)]}
            if number < 3:
                d["__next"] = f"{BASE}/api/v1/1/sync/Deleted?page={number + 1}"
            return httpx.Response(200, json={"d": d})
        finally:
            with self._lock:
                self.in_flight -= 1


def api_for(pages: Pages) -> ApiClient:
    client = httpx.Client(transport=httpx.MockTransport(pages), base_url=BASE)
    return ApiClient(client, EXACT_HTTP, limiter_key="paging-test", limiter=RateLimiter())


@pytest.mark.parametrize("prefetch", [False, True])
def test_pages_come_in_order_and_the_last_one_says_so(prefetch: bool) -> None:
    pages = Pages()
    got = list(odata_rows(api_for(pages), "/api/v1/1/sync/Deleted?page=1", endpoint="sync/Deleted", prefetch=prefetch))
    assert [[r["ID"] for r in rows] for rows, _ in got] == [["1-0", "1-1"], ["2-0", "2-1"], ["3-0", "3-1"]]
    assert [last for _, last in got] == [False, False, True]
    assert pages.requested == [1, 2, 3]
    assert pages.most_in_flight == 1  # §2.3: never two requests at once


def test_prefetch_asks_for_the_next_page_while_the_caller_holds_this_one() -> None:
    pages = Pages()
    feed = odata_rows(api_for(pages), "/api/v1/1/sync/Deleted?page=1", endpoint="sync/Deleted", prefetch=True)
    first, _ = next(feed)
    assert [r["ID"] for r in first] == ["1-0", "1-1"]
    assert pages.asked[2].wait(5)  # requested before the caller asked for it
    assert not pages.asked[3].is_set()  # but only one page ahead
    feed.close()
    assert pages.requested == [1, 2]


def test_without_prefetch_nothing_is_asked_before_it_is_needed() -> None:
    pages = Pages()
    feed = odata_rows(api_for(pages), "/api/v1/1/sync/Deleted?page=1", endpoint="sync/Deleted")
    next(feed)
    assert pages.requested == [1]
    feed.close()


def test_a_failing_page_raises_after_the_pages_before_it_were_handed_over() -> None:
    pages = Pages(fail_page=2)
    feed = odata_rows(api_for(pages), "/api/v1/1/sync/Deleted?page=1", endpoint="sync/Deleted", prefetch=True)
    rows, last = next(feed)
    assert [r["ID"] for r in rows] == ["1-0", "1-1"] and not last
    with pytest.raises(ApiError, match="Bad page"):
        next(feed)
    assert pages.requested == [1, 2]  # a 4xx is never retried (§2.8)
