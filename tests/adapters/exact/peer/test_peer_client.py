"""Peer check (issue 3, item 3): the unmodified public client ``exactonline`` 0.4.0 (ossobv, written
against the real Exact Online API) signs in to our Exact sandbox and reads accounts and receivables.

What the client does (exactonline 0.4.0):

* OAuth: ``create_auth_request_url()`` → ``/api/oauth2/auth?client_id&redirect_uri&response_type=code``
  (no ``state``); ``request_token(code)`` and ``refresh_token()`` POST form bodies with the secret in the
  body to ``/api/oauth2/token`` (§1.2, §1.3).
* ``Autorefresh``: refreshes when its *own* clock says fewer than 30 s are left, and once after a 401 (§1.4).
* ``Unwrap``: expects ``{"d": {"results": [...], "__next": ...}}`` and nothing else, follows ``__next``
  verbatim (§2.2, §2.3).
* ``set_division(n)``: ``GET v1/n/crm/Accounts?$select=ID&$filter=Name+eq+'DOES_NOT_EXIST'``.
* ``relations``: ``crm/Accounts?$select=ID,Code,Name`` (+ ``Code eq '%18s'``) (§2.5, §6).
* ``receivables``: ``read/financial/ReceivablesList`` without ``$select`` (+ ``AccountId eq guid'…'``,
  ``DueDate lt datetime'…'``, combined as ``(a) and b``) (§3.1).
* ``get_divisions()``: ``current/Me?$select=CurrentDivision`` then ``hrm/Divisions?$select=Code,Description``
  (§1.5).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from time import time
from typing import Any

import pytest
from exactonline.api import ExactApi  # type: ignore[import-untyped]
from exactonline.http import BadProtocol, HTTPError  # type: ignore[import-untyped]
from exactonline.storage.ini import IniStorage  # type: ignore[import-untyped]

from adapters.exact.sandbox import ExactSandbox
from connector.sandbox import serve

from .conftest import (
    DIVISION,
    PEER_DIVISION,
    REDIRECT,
    TLSSandbox,
    browser_for,
    code_from,
    consent,
    write_ini,
)

PAGE = 60  # §2.3: regular endpoints and (probably) ReceivablesList


def from_odata_date(value: str) -> datetime:
    match = re.fullmatch(r"/Date\((-?\d+)\)/", value)
    assert match, value
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)


def by_id(rows: list[dict[str, Any]], key: str = "ID") -> dict[str, dict[str, Any]]:
    return {str(row[key]): row for row in rows}


# --------------------------------------------------------------------------- transport and OAuth


def test_client_refuses_the_plain_http_sandbox(app: ExactSandbox, tmp_path: Path) -> None:
    """connector.sandbox.serve() is plain HTTP; the client hard-requires HTTPS (rawapi ``opt_secure``)."""
    server = serve(app)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        client = ExactApi(storage=IniStorage(str(write_ini(tmp_path / "http.ini", server.url))))
        with pytest.raises(BadProtocol, match="Protocol http in URL"):
            client.request_token("code!irrelevant")
        assert app.count("oauth2/token") == 0  # refused before anything was sent
    finally:
        server.stop()


def test_consent_page_and_the_clients_own_code_exchange(sandbox: TLSSandbox, tmp_path: Path) -> None:
    client = ExactApi(storage=IniStorage(str(write_ini(tmp_path / "exactonline.ini", sandbox.url))))
    auth_url = client.create_auth_request_url()
    assert auth_url.startswith(f"{sandbox.url}/api/oauth2/auth?client_id=")
    with browser_for(sandbox) as browser:
        location = consent(browser, auth_url)
    assert location.startswith(REDIRECT + "?code=code%21")  # §1.2: the code holds '!', sent as %21
    code = code_from(location)
    before = time()
    client.request_token(code)
    storage = client.storage
    assert storage.get_code() == code
    assert storage.get_access_token() and storage.get_refresh_token()
    assert before + 599 <= storage.get_access_expiry() <= time() + 601  # expires_in "600" (§1.3)
    # A second exchange of the same code fails (§1.2: single use), as the client sees it: an HTTPError 400.
    with pytest.raises(HTTPError) as refused:
        client.request_token(code)
    assert refused.value.code == 400


def test_set_division_checks_the_division_with_the_server(sandbox: TLSSandbox, api: ExactApi) -> None:
    assert api.storage.get_division() == DIVISION
    with pytest.raises(HTTPError) as forbidden:
        api.set_division(999)  # not ticked on the consent screen
    assert forbidden.value.code == 403
    assert forbidden.value.hdrs["Reason"] == "NoDivisionAccess"  # §2.8
    assert api.storage.get_division() == DIVISION


# --------------------------------------------------------------------------- accounts


def test_relations_all_returns_every_account_across_pages(sandbox: TLSSandbox, api: ExactApi) -> None:
    truth = sandbox.app.accounts(DIVISION)
    assert len(truth) == PEER_DIVISION.accounts > PAGE
    calls = sandbox.app.count("crm/Accounts")
    relations = api.relations.all()
    # The client does not filter on Status: every account, customer or not.
    assert len(relations) == len(truth) == 130
    assert sandbox.app.count("crm/Accounts") - calls == math.ceil(len(truth) / PAGE) == 3  # followed __next twice
    assert by_id(relations).keys() == by_id(truth).keys()
    assert len(by_id(relations)) == len(relations)  # no row twice across page boundaries
    expected = by_id(truth)
    for row in relations:
        assert set(row) == {"__metadata", "ID", "Code", "Name"}  # $select=ID,Code,Name
        assert row["Code"] == expected[row["ID"]]["Code"] and len(row["Code"]) == 18  # padded (§2.7)
        assert row["Name"] == expected[row["ID"]]["Name"]
        assert row["__metadata"]["uri"].startswith(f"{sandbox.url}/api/v1/{DIVISION}/crm/Accounts(guid'")
    assert (relations[0]["Code"].strip(), relations[0]["Name"]) == ("1001", "Stijn Bakker")


def test_relations_get_by_code_uses_the_padded_code_filter(sandbox: TLSSandbox, api: ExactApi) -> None:
    wanted = sandbox.app.accounts(DIVISION)[77]
    found = api.relations.get(relation_code=wanted["Code"].strip())  # Code eq '%18s' (§2.5)
    assert (found["ID"], found["Code"], found["Name"]) == (wanted["ID"], wanted["Code"], wanted["Name"])


def test_relations_with_a_wider_select(sandbox: TLSSandbox, api: ExactApi) -> None:
    rows = api.relations.filter(select="ID,Code,Name,Status,Blocked,CreditLineSales")
    truth = by_id(sandbox.app.accounts(DIVISION))
    assert len(rows) == len(truth)
    for row in rows:
        account = truth[row["ID"]]
        assert row["Status"] == account["Status"]
        assert row["Blocked"] is account["Blocked"]
        assert Decimal(str(row["CreditLineSales"])) == account["CreditLineSales"]


# --------------------------------------------------------------------------- receivables


def test_receivables_all_match_the_open_terms(sandbox: TLSSandbox, api: ExactApi) -> None:
    open_terms = by_id(sandbox.app.open_terms(DIVISION))
    assert len(open_terms) > 2 * PAGE
    calls = sandbox.app.count("read/financial/ReceivablesList")
    receivables = api.receivables.all()
    assert sandbox.app.count("read/financial/ReceivablesList") - calls == math.ceil(len(open_terms) / PAGE) == 3
    assert len(receivables) == len(open_terms) == 168
    assert by_id(receivables, "Id").keys() == open_terms.keys()
    assert len({row["HID"] for row in receivables}) == len(receivables)
    for row in receivables:
        term = open_terms[row["Id"]]
        # §3.1: Amount is the open amount of the term in its own currency (positive for an invoice).
        assert Decimal(str(row["Amount"])) == -term["AmountFC"]
        assert row["CurrencyCode"] == term["Currency"]
        assert (row["AccountId"], row["AccountCode"], row["AccountName"]) == (
            term["Account"], term["AccountCode"], term["AccountName"])
        assert row["InvoiceNumber"] == term["InvoiceNumber"]
        # §2.6: the peer reads the epoch as UTC; a date-only value is the same day either way.
        assert from_odata_date(row["DueDate"]).date() == term["DueDate"].date()
    first = receivables[0]
    assert (first["AccountCode"].strip(), first["AccountName"], first["Amount"], first["InvoiceNumber"]) == (
        "1025", "Koen Dubois", 42.81, 20000004)
    assert sum(Decimal(str(r["Amount"])) for r in receivables) == -sum(t["AmountFC"] for t in open_terms.values())


def test_receivables_filtered_by_relation_and_due_date(sandbox: TLSSandbox, api: ExactApi) -> None:
    open_terms = sandbox.app.open_terms(DIVISION)
    account = max({t["Account"] for t in open_terms}, key=lambda a: sum(t["Account"] == a for t in open_terms))
    mine = api.receivables.filter(relation_id=account)  # AccountId eq guid'…'
    assert sorted(r["Id"] for r in mine) == sorted(t["ID"] for t in open_terms if t["Account"] == account)
    assert len(mine) >= 2

    cutoff = date(2025, 1, 1)
    due = api.receivables.filter(duedate__lt=cutoff)  # DueDate lt datetime'2025-01-01'
    # §2.6: a literal without offset is Amsterdam time, the zone of the dates themselves.
    expected = sorted(t["ID"] for t in open_terms if t["DueDate"].date() < cutoff)
    assert 0 < len(expected) < len(open_terms)
    assert sorted(r["Id"] for r in due) == expected

    both = api.receivables.filter(relation_id=account, duedate__gte=cutoff)  # (AccountId eq …) and DueDate ge …
    assert sorted(r["Id"] for r in both) == sorted(
        t["ID"] for t in open_terms if t["Account"] == account and t["DueDate"].date() >= cutoff)


# --------------------------------------------------------------------------- tokens (§1.4)


def test_refresh_after_the_access_token_expired(sandbox: TLSSandbox, api: ExactApi) -> None:
    """The sandbox clock passes 10 minutes; the client's own clock does not: 401, refresh once, retry."""
    storage = api.storage
    old_access, old_refresh = storage.get_access_token(), storage.get_refresh_token()
    refreshes, unauthorized = sandbox.app.count("oauth2/token"), sandbox.app.status_counts[401]
    sandbox.app.clock.advance(601)
    relations = api.relations.all()
    assert len(relations) == PEER_DIVISION.accounts
    assert sandbox.app.count("oauth2/token") - refreshes == 1
    assert sandbox.app.status_counts[401] - unauthorized == 1
    assert storage.get_access_token() != old_access
    assert storage.get_refresh_token() != old_refresh  # rotated (§1.4)
    assert len(api.receivables.all()) == len(sandbox.app.open_terms(DIVISION))  # the new token works


def test_proactive_refresh_and_the_early_refresh_rule(sandbox: TLSSandbox, api: ExactApi) -> None:
    """The client refreshes when *it* thinks < 30 s are left. Before 9.5 minutes the sandbox says 401
    "Access Token not expired" — the rule the client's Autorefresh docstring quotes; after, it works."""
    storage = api.storage
    refresh_token = storage.get_refresh_token()
    storage.set_access_expiry(int(time()) + 10)  # the client's clock now says: about to expire
    sandbox.app.clock.advance(300)
    with pytest.raises(HTTPError) as early:
        api.relations.all()
    assert early.value.code == 401
    assert b"Access Token not expired" in early.value.response
    assert storage.get_refresh_token() == refresh_token  # the rejected refresh did not burn the token

    sandbox.app.clock.advance(580 - 300)  # 9 min 40 s after issue: inside the refresh window, token still valid
    unauthorized = sandbox.app.status_counts[401]
    assert len(api.relations.all()) == PEER_DIVISION.accounts
    assert sandbox.app.status_counts[401] == unauthorized  # refreshed up front, no 401 this time
    assert storage.get_refresh_token() != refresh_token
    assert storage.get_access_expiry() >= int(time()) + 599


# --------------------------------------------------------------------------- divisions (§1.5)


def test_get_divisions_lists_the_granted_division(sandbox: TLSSandbox, api: ExactApi) -> None:
    """§1.5: ``current/Me?$select=CurrentDivision``, then ``{current}/hrm/Divisions?$select=Code,Description``."""
    me_calls, hrm_calls = sandbox.app.count("current/Me"), sandbox.app.count("hrm/Divisions")
    choices, current = api.get_divisions()
    assert current == DIVISION
    assert choices == {DIVISION: PEER_DIVISION.description}
    assert (sandbox.app.count("current/Me") - me_calls, sandbox.app.count("hrm/Divisions") - hrm_calls) == (1, 1)
