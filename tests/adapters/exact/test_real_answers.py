"""What the real Exact Online API sends, and the adapter surviving it (issue 16 points 1, 2, 5; issue 15 point 1).

* ``Timestamp`` quoted as an OData v2 Int64 string: the bookmark still advances, so an incremental sync
  stays incremental (docs/reference/exact.md §4);
* a sync feed whose rows arrive while its cursor cannot move, and a ``__next`` that repeats: one clear
  :class:`PagingError`, never a silent loop;
* an HTML maintenance page with status 200 (and 503): retried within the budget; when it persists, the run
  fails with one line and nothing is quarantined;
* the whole sync on the ``realistic`` sandbox stores exactly what the tidy one does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.exact.adapter import ExactAdapter
from adapters.exact.client import EXACT_HTTP
from connector.errors import PagingError, ServiceUnavailable
from connector.http import ApiClient
from connector.ratelimit import RateLimiter
from connector.retry import RetryPolicy
from connector.store import Store
from connector.sync import sync_connection
from tests.adapters.exact.conftest import DIVISION, Rig, assert_store_equals_truth

BASE = "http://exact.test"
TIDY_REALISTIC = pytest.mark.parametrize("rig", [False, True], indirect=True, ids=["tidy", "realistic"])


@TIDY_REALISTIC
def test_full_and_incremental_sync_store_what_the_division_holds(rig: Rig) -> None:
    rig.sync()
    assert_store_equals_truth(rig)
    term = rig.app.open_terms(DIVISION)[0]
    rig.app.pay(DIVISION, str(term["ID"]), abs(term["AmountFC"]))
    before = dict(rig.app.rows_served)
    report = rig.sync()
    assert_store_equals_truth(rig)
    assert report.quarantined == 0
    # Incremental: only the changed term (and nothing else) is read again.
    served = {k: v - before.get(k, 0) for k, v in rig.app.rows_served.items()}
    assert served["sync/Cashflow/PaymentTerms"] == 1


@pytest.mark.parametrize("rig", [True], indirect=True, ids=["realistic"])
def test_the_realistic_sandbox_quotes_timestamps_and_the_bookmark_still_advances(rig: Rig) -> None:
    rig.sync()
    first = json.loads(rig.bookmark("open_items") or "{}")["ts"]
    account = rig.app.accounts(DIVISION)[0]
    rig.app.update_account(DIVISION, str(account["ID"]), Name="Hernoemd B.V.")
    rig.sync()
    assert json.loads(rig.bookmark("debtors") or "{}")["ts"] > first
    before = dict(rig.app.rows_served)
    rig.sync()  # nothing changed: no sync feed returns a row
    assert all(v == before.get(k, 0) for k, v in rig.app.rows_served.items() if k.startswith("sync/"))


# ----------------------------------------------------------------------------- served by hand (MockTransport)


def feed(handler: Any) -> ApiClient:
    client = httpx.Client(transport=httpx.MockTransport(handler), base_url=BASE)
    return ApiClient(client, EXACT_HTTP, limiter_key="real-answers", limiter=RateLimiter(),
                     retry=RetryPolicy(attempts=3, sleep=lambda seconds: None))


def division_row() -> dict[str, Any]:
    return {"d": {"results": [{"Code": DIVISION, "DivisionMoveDate": None, "DivisionHRLinkUnlinkDate": None}]}}


def test_quoted_timestamps_move_the_cursor() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "system/Divisions" in request.url.path:
            return httpx.Response(200, json=division_row())
        rows = [{"ID": f"a{n}", "Name": f"Klant {n}", "Status": "C", "IsSales": True, "Timestamp": str(100 + n)}
                for n in range(3)]
        return httpx.Response(200, json={"d": {"results": rows}})

    adapter = ExactAdapter(feed(handler), connection_id="c", division=str(DIVISION))
    pages = list(adapter.debtors(None))
    assert json.loads(pages[-1].bookmark or "{}")["ts"] == 102


def test_rows_without_a_readable_timestamp_stop_the_sync_instead_of_resyncing_forever() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "system/Divisions" in request.url.path:
            return httpx.Response(200, json=division_row())
        rows = [{"ID": "a1", "Name": "Klant", "Status": "C", "IsSales": True, "Timestamp": "0x1f"}]
        return httpx.Response(200, json={"d": {"results": rows}})

    adapter = ExactAdapter(feed(handler), connection_id="c", division=str(DIVISION))
    with pytest.raises(PagingError, match=r"sync/CRM/Accounts returned 1 row\(s\) but its cursor stayed at 1"):
        list(adapter.debtors(None))


@pytest.mark.parametrize("prefetch", [False, True])
def test_a_next_link_that_does_not_advance_stops_after_one_repeat(prefetch: bool) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        # Like system/Divisions before issue 15: the first page again, with the same __next.
        nxt = f"{BASE}/api/v1/1/system/Divisions?$skiptoken=160"
        return httpx.Response(200, json={"d": {"results": [{"Code": 101}], "__next": nxt}})

    from adapters.exact.client import odata_rows

    pages = odata_rows(feed(handler), f"{BASE}/api/v1/1/system/Divisions", endpoint="system/Divisions", prefetch=prefetch)
    with pytest.raises(PagingError, match="system/Divisions sent the same next page again after 2 page"):
        list(pages)
    assert len(asked) == 2  # the first page and the one repeat


def test_a_maintenance_page_with_status_200_is_retried_and_nothing_is_quarantined() -> None:
    pages = iter([
        httpx.Response(200, html="<html><body>Exact Online is in onderhoud</body></html>"),
        httpx.Response(503, html="<html><body>Exact Online is in onderhoud</body></html>"),
    ])

    def handler(request: httpx.Request) -> httpx.Response:
        if "system/Divisions" in request.url.path:
            return httpx.Response(200, json=division_row())
        for maintenance in pages:
            return maintenance
        rows = [{"ID": "a1", "Name": "Klant", "Status": "C", "IsSales": True, "Timestamp": 7}]
        return httpx.Response(200, json={"d": {"results": rows}})

    api = feed(handler)
    got = list(ExactAdapter(api, connection_id="c", division=str(DIVISION)).debtors(None))
    assert [d.source_id for page in got for d in page.records] == ["a1"]
    assert not any(page.quarantined for page in got)
    assert api.stats.retries == 2


def test_a_maintenance_page_that_persists_fails_the_run_with_one_clear_line(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "system/Divisions" in request.url.path:
            return httpx.Response(200, json=division_row())
        return httpx.Response(200, html="<!DOCTYPE html><html><body><h1>Onderhoud</h1></body></html>")

    api = feed(handler)
    store = Store(f"sqlite:///{tmp_path / 'arconnect.db'}")
    store.migrate()
    store.ensure_connection("c", "exact", "Maintenance B.V.")
    try:
        with pytest.raises(ServiceUnavailable) as raised:
            sync_connection(ExactAdapter(api, connection_id="c", division=str(DIVISION)), store, "c")
        message = str(raised.value)
        assert "\n" not in message and "<" not in message
        assert "sync/CRM/Accounts answered 200 with text/html" in message
        assert list(store.debtors("c")) == [] and store.quarantine("c") == []  # nothing mapped, nothing quarantined
        assert store.bookmark("c", "debtors") is None
        assert api.stats.calls == 1 + 3  # the move date, then three tries
    finally:
        store.close()
