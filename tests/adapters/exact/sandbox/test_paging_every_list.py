"""Every list the sandbox serves pages by ``$skiptoken`` (docs/reference/exact.md §2.2, §2.3; issue 15 point 1).

Each list is filled with more rows than one page holds and read by following ``__next`` verbatim: every
row arrives exactly once, the pages have the documented size, and the listing ends. ``system/Divisions``
used to ignore ``$skiptoken`` and send its first page again, with the same ``__next``, forever.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from adapters.exact.sandbox import DivisionSpec, ExactSandbox
from connector.sandbox import SandboxClock
from tests.adapters.exact.sandbox.conftest import client_for, custom_app, rows

MAIN = 101
#: 150 divisions: three pages of 60 (the firm of issue 15).
DIVISIONS = 150
#: More than one page of 1000 on every sync and bulk feed.
SPEC = DivisionSpec(code=MAIN, description="Paging B.V.", accounts=1_100, terms=2_300, country="NL")


def follow(api: httpx.Client, url: str, params: dict[str, str] | None = None) -> list[list[dict[str, Any]]]:
    """Every page of a list, following ``__next`` verbatim (§2.3); a ``__next`` seen before fails the test
    (instead of looping, as following ``system/Divisions`` did before its ``$skiptoken`` worked)."""
    pages: list[list[dict[str, Any]]] = []
    seen: set[str] = set()
    response = api.get(url, params=params)
    while True:
        pages.append(rows(response))
        nxt = response.json()["d"].get("__next")
        if not nxt:
            return pages
        assert nxt not in seen, f"__next repeats after {len(pages)} pages: {nxt}"
        seen.add(nxt)
        response = api.get(nxt)


@pytest.fixture(scope="module")
def app() -> ExactSandbox:
    clock = SandboxClock()
    specs = [SPEC] + [DivisionSpec(code=MAIN + n, description=f"Klant {n} B.V.", accounts=1, terms=1)
                      for n in range(1, DIVISIONS)]
    sandbox = custom_app(clock, *specs, minutely_limit=100_000, daily_limit=1_000_000)
    account = str(sandbox.accounts(MAIN)[0]["ID"])
    # sync/Deleted needs more than 1000 deletions.
    for term in sandbox.terms(MAIN)[:1_010]:
        sandbox.delete_term(MAIN, str(term["ID"]))
    with client_for(sandbox, tuple(s.code for s in specs)) as api:
        for path, body in WRITES.items():
            for n in range(61):
                response = api.post(f"/api/v1/{MAIN}/{path}", json=body(account, n, api))
                assert response.status_code == 201, response.text
    return sandbox


def _document(account: str, n: int, api: httpx.Client) -> dict[str, object]:
    return {"Account": account, "Subject": f"Brief {n}", "Type": 55}


def _attachment(account: str, n: int, api: httpx.Client) -> dict[str, object]:
    document = api.get(f"/api/v1/{MAIN}/documents/Documents", params={"$select": "ID", "$top": "1"})
    return {"Document": document.json()["d"]["results"][0]["ID"], "FileName": f"brief-{n}.txt",
            "Attachment": base64.b64encode(b"brief").decode()}


WRITES: dict[str, Callable[[str, int, httpx.Client], dict[str, object]]] = {
    "activities/CommunicationNotes": lambda account, n, api: {"Account": account, "Subject": f"Herinnering {n}"},
    "activities/Tasks": lambda account, n, api: {"Account": account, "Description": f"Bellen {n}"},
    "documents/Documents": _document,
    "documents/DocumentAttachments": _attachment,
}

#: (path, query, key field, page size) of every list endpoint the sandbox serves.
LISTS = [
    ("system/Divisions", {"$select": "Code,Description"}, "Code", 60),
    ("system/AllDivisions", {"$select": "Code,Description"}, "Code", 60),
    ("hrm/Divisions", {"$select": "Code,Description,HID"}, "Code", 60),
    ("crm/Accounts", {"$select": "ID,Name"}, "ID", 60),
    ("sync/CRM/Accounts", {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1L"}, "ID", 1000),
    ("sync/Cashflow/PaymentTerms", {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1L"}, "ID", 1000),
    ("sync/Deleted", {"$select": "EntityKey,Timestamp", "$filter": "Timestamp gt 1L"}, "EntityKey", 1000),
    ("read/financial/ReceivablesList", {"$select": "HID,Id"}, "HID", 60),
    ("bulk/Cashflow/Receivables", {"$select": "ID"}, "ID", 1000),
    ("cashflow/Receivables", {"$select": "ID"}, "ID", 60),
    ("activities/CommunicationNotes", {"$select": "ID"}, "ID", 60),
    ("activities/Tasks", {"$select": "ID"}, "ID", 60),
    ("documents/Documents", {"$select": "ID"}, "ID", 60),
    ("documents/DocumentAttachments", {"$select": "ID"}, "ID", 60),
]


@pytest.fixture(scope="module")
def api(app: ExactSandbox) -> Iterator[httpx.Client]:
    with client_for(app, tuple(app.divisions)) as client:
        yield client


@pytest.mark.parametrize(("path", "query", "key", "size"), LISTS, ids=[entry[0] for entry in LISTS])
def test_every_row_of_a_list_longer_than_a_page_arrives_exactly_once(
    api: httpx.Client, path: str, query: dict[str, str], key: str, size: int
) -> None:
    pages = follow(api, f"/api/v1/{MAIN}/{path}", query)
    assert len(pages) >= 2
    assert all(len(page) == size for page in pages[:-1])
    assert 0 < len(pages[-1]) <= size
    seen = Counter(str(row[key]) for page in pages for row in page)
    assert seen and max(seen.values()) == 1
    whole = rows_without_paging(api, path, query, key)
    assert set(seen) == whole


def rows_without_paging(api: httpx.Client, path: str, query: dict[str, str], key: str) -> set[str]:
    """The same list read with ``$skip`` where the endpoint takes it, else from the sandbox's $inlinecount."""
    response = api.get(f"/api/v1/{MAIN}/{path}", params={**query, "$inlinecount": "allpages"})
    count = int(response.json()["d"]["__count"])
    seen: set[str] = set()
    for page in follow(api, f"/api/v1/{MAIN}/{path}", query):
        seen.update(str(row[key]) for row in page)
    assert len(seen) == count
    return seen


def test_the_division_lists_hold_the_divisions_ticked_on_the_consent_screen(app: ExactSandbox) -> None:
    ticked = tuple(range(MAIN, MAIN + DIVISIONS - 1))  # all but the last one
    with client_for(app, ticked) as api:
        for path in ("system/Divisions", "system/AllDivisions", "hrm/Divisions"):
            listed = [row["Code"] for page in follow(api, f"/api/v1/{MAIN}/{path}", {"$select": "Code"}) for row in page]
            # §1.5: one licence, and "whatever the list says" only the ticked divisions
            assert listed == list(ticked), path


def test_hrm_divisions_spells_the_customer_number_hid(api: httpx.Client) -> None:
    first = api.get(f"/api/v1/{MAIN}/hrm/Divisions", params={"$select": "Code,HID"}).json()["d"]["results"][0]
    assert first["HID"] == MAIN and "Hid" not in first
    refused = api.get(f"/api/v1/{MAIN}/hrm/Divisions", params={"$select": "Code,Hid"})
    assert refused.status_code == 400
    system = api.get(f"/api/v1/{MAIN}/system/Divisions", params={"$select": "Code,Hid"}).json()["d"]["results"][0]
    assert system["Hid"] == MAIN
