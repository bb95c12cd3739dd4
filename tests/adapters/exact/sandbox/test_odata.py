"""Envelopes, paging, $select, $filter, padded codes and /Date()/ values (docs/reference/exact.md §1.5, §2, §3, §6)."""

from __future__ import annotations

import re

import httpx

from adapters.exact.sandbox import DivisionSpec, ExactSandbox
from connector.sandbox import SandboxClock

from .conftest import NL, client_for, custom_app, follow, rows

SELECT_TEXT = "Please add a $select or a $top=1 statement to the query string."
DATE_RE = re.compile(r"^/Date\(\d+\)/$")
GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_me_is_a_list_envelope_without_division_in_the_url(api: httpx.Client) -> None:
    response = api.get("/api/v1/current/Me", params={"$select": "CurrentDivision,FullName,UserID"})
    (me,) = rows(response)
    assert me["CurrentDivision"] == NL
    assert me["FullName"] == "Demo Boekhouder"
    assert GUID_RE.match(me["UserID"])
    assert me["__metadata"]["type"] == "Exact.Web.Api.System.Me"
    assert sorted(me) == ["CurrentDivision", "FullName", "UserID", "__metadata"]


def test_divisions_list_the_ticked_divisions_with_current(api: httpx.Client) -> None:
    divisions = rows(api.get(f"/api/v1/{NL}/system/Divisions", params={"$select": "Code,Description,Current,Hid,Country,Currency,DivisionMoveDate,Status"}))
    assert [(d["Code"], d["Current"], d["Currency"], d["Status"]) for d in divisions] == [
        (101, True, "EUR", 1), (202, False, "EUR", 1)]
    assert [d["Country"] for d in divisions] == ["NL ", "BE "]
    assert divisions[0]["DivisionMoveDate"] is None


def test_rows_carry_metadata_padded_codes_and_epoch_dates(api: httpx.Client) -> None:
    accounts = rows(api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID,Code,Country,Language,Created,Name"}))
    first = accounts[0]
    assert first["__metadata"] == {
        "uri": f"http://sandbox.test/api/v1/{NL}/crm/Accounts(guid'{first['ID']}')",
        "type": "Exact.Web.Api.Models.Account",
    }
    assert first["Code"] == "              1001"  # §2.7: 18 characters, right-aligned
    assert all(len(a["Code"]) == 18 for a in accounts)
    assert {a["Country"] for a in accounts} <= {"NL ", "BE "}
    assert {len(a["Language"]) for a in accounts} == {10}
    assert DATE_RE.match(first["Created"])
    assert int(first["Created"][6:-2]) % 86_400_000 == 0  # date-only values are 00:00Z


def test_single_entity_by_key_is_not_a_list(api: httpx.Client, app: ExactSandbox) -> None:
    account_id = app.accounts(NL)[3]["ID"]
    response = api.get(f"/api/v1/{NL}/crm/Accounts(guid'{account_id}')", params={"$select": "ID,Name,Blocked"})
    assert response.status_code == 200
    d = response.json()["d"]
    assert "results" not in d
    assert d["ID"] == account_id
    missing = api.get(f"/api/v1/{NL}/crm/Accounts(guid'00000000-0000-4000-8000-000000000000')")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"]["value"]


def test_regular_endpoints_page_by_60_and_next_is_absolute(api: httpx.Client, app: ExactSandbox) -> None:
    receivables = [t for t in app.terms(NL) if t["LineType"] == 20]
    pages = follow(api, f"/api/v1/{NL}/cashflow/Receivables", {"$select": "ID,AmountDC,Status"})
    assert [len(p) for p in pages] == [60, 60, len(receivables) - 120]
    assert [r["ID"] for p in pages for r in p] == [t["ID"] for t in receivables]
    first = api.get(f"/api/v1/{NL}/cashflow/Receivables", params={"$select": "ID"}).json()["d"]["__next"]
    assert first.startswith(f"http://sandbox.test/api/v1/{NL}/cashflow/Receivables?")
    assert "$skiptoken=guid'" in first and "$select=ID" in first


def test_receivables_list_shows_only_open_receivable_terms(api: httpx.Client, app: ExactSandbox) -> None:
    pages = follow(api, f"/api/v1/{NL}/read/financial/ReceivablesList")
    listed = [r["Id"] for p in pages for r in p]
    assert [len(p) for p in pages] == [60, len(listed) - 60]
    assert listed == [t["ID"] for t in app.open_terms(NL)]
    row = pages[0][0]
    assert set(row) >= {"HID", "AccountId", "AccountCode", "AccountName", "Amount", "AmountInTransit", "CurrencyCode",
                        "Description", "DueDate", "EntryNumber", "InvoiceDate", "InvoiceNumber", "JournalCode",
                        "JournalDescription", "YourRef"}


def test_bulk_pages_by_1000_and_requires_select(clock: SandboxClock) -> None:
    app = custom_app(clock, DivisionSpec(code=7, description="Bulk B.V.", accounts=50, terms=3_000))
    with client_for(app, (7,)) as api:
        no_select = api.get("/api/v1/7/bulk/Cashflow/Receivables")
        assert no_select.status_code == 400
        assert no_select.json() == {"error": {"code": "", "message": {"lang": "", "value": SELECT_TEXT}}}
        pages = follow(api, "/api/v1/7/bulk/Cashflow/Receivables", {"$select": "ID,AmountDC"})
    receivables = sum(1 for t in app.terms(7) if t["LineType"] == 20)
    assert receivables > 2000
    assert [len(p) for p in pages] == [1000, 1000, receivables - 2000]


def test_select_is_required_on_sync_and_cashflow_receivables(api: httpx.Client) -> None:
    for path in ("sync/Cashflow/PaymentTerms", "sync/CRM/Accounts", "sync/Deleted", "cashflow/Receivables"):
        response = api.get(f"/api/v1/{NL}/{path}")
        assert response.status_code == 400, path
        assert response.json()["error"]["message"]["value"] == SELECT_TEXT
    one = api.get(f"/api/v1/{NL}/cashflow/Receivables", params={"$top": "1"})
    assert len(rows(one)) == 1
    assert "__next" not in one.json()["d"]
    assert "AmountDC" in rows(one)[0]


def test_unknown_field_in_select_is_a_400(api: httpx.Client) -> None:
    response = api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID,ReminderLevel"})
    assert response.status_code == 400
    assert "ReminderLevel" in response.json()["error"]["message"]["value"]


def test_select_limits_the_fields(api: httpx.Client) -> None:
    (row, *_) = rows(api.get(f"/api/v1/{NL}/sync/CRM/Accounts", params={"$select": "ID,Timestamp", "$filter": "Timestamp gt 1L"}))
    assert sorted(row) == ["ID", "Timestamp", "__metadata"]


def test_filter_allow_lists(api: httpx.Client) -> None:
    cases = [
        ("bulk/Cashflow/Receivables", "AmountDC lt 0", 400),  # §2.5: not in the bulk allow-list
        ("bulk/Cashflow/Receivables", "Status eq 20", 200),
        ("bulk/Cashflow/Receivables", "InvoiceDate ge datetime'2025-01-01T00:00:00'", 200),
        ("sync/Cashflow/PaymentTerms", "Status eq 20", 400),  # sync: only Timestamp
        ("sync/Cashflow/PaymentTerms", "Timestamp gt 100000050L and Timestamp lt 100000060L", 200),
        ("crm/Accounts", "CreditLineSales gt 0", 400),  # §6: not filterable
        ("crm/Accounts", "Blocked eq false", 200),
        ("crm/Accounts", "Lines/Amount gt 0", 400),  # navigation filter
        ("crm/Accounts", "Name eq Code", 400),  # field-to-field
    ]
    for path, expression, status in cases:
        response = api.get(f"/api/v1/{NL}/{path}", params={"$select": "ID", "$filter": expression})
        assert response.status_code == status, (path, expression, response.text)


def test_filters_select_the_right_rows(api: httpx.Client, app: ExactSandbox) -> None:
    padded = rows(api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID,Code", "$filter": "Code eq '              1005'"}))
    trimmed = rows(api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID,Code", "$filter": "trim(Code) eq '1005'"}))
    assert [r["Code"] for r in padded] == ["              1005"]
    assert trimmed == padded
    account = app.accounts(NL)[4]["ID"]
    by_guid = rows(api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID", "$filter": f"ID eq guid'{account.upper()}'"}))
    assert [r["ID"] for r in by_guid] == [account]
    window = rows(api.get(f"/api/v1/{NL}/sync/Cashflow/PaymentTerms",
                          params={"$select": "Timestamp", "$filter": "Timestamp gt 100000050L and Timestamp lt 100000060L"}))
    assert [r["Timestamp"] for r in window] == list(range(100000051, 100000060))
    either = rows(api.get(f"/api/v1/{NL}/bulk/Cashflow/Receivables",
                          params={"$select": "Status", "$filter": "Status eq 30 or Status eq 40"}))
    assert {r["Status"] for r in either} == {30, 40}
    open_ones = rows(api.get(f"/api/v1/{NL}/cashflow/Receivables",
                             params={"$select": "ID", "$filter": "IsFullyPaid eq false", "$top": "200"}))
    assert len(open_ones) == 60


def test_inlinecount_and_top(api: httpx.Client, app: ExactSandbox) -> None:
    response = api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID", "$inlinecount": "allpages", "$top": "5"})
    d = response.json()["d"]
    assert d["__count"] == "40"
    assert len(d["results"]) == 5
    assert "__next" not in d


def test_accept_header(api: httpx.Client, tokens: object) -> None:
    auth = {"Authorization": api.headers["Authorization"]}
    atom = api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID"}, headers={**auth, "Accept": "*/*"})
    assert atom.status_code == 200
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert atom.text.startswith('<?xml version="1.0" encoding="utf-8"?><feed')
    xml = api.get(f"/api/v1/{NL}/crm/Accounts", params={"$select": "ID"}, headers={**auth, "Accept": "application/xml"})
    assert xml.status_code == 406


def test_user_has_rights(api: httpx.Client) -> None:
    response = api.get(f"/api/v1/{NL}/users/UserHasRights", params={"endpoint": "'crm/Accounts'", "action": "'PUT'"})
    assert response.json() == {"d": {"UserHasRights": True}}


def test_payment_terms_have_receivables_payables_and_foreign_currency(api: httpx.Client) -> None:
    fields = "ID,LineType,Status,IsFullyPaid,AmountDC,AmountFC,RateFC,Currency,TransactionAmountDC,TransactionType,TransactionEntryID,EntryID"
    terms = rows(api.get(f"/api/v1/{NL}/sync/Cashflow/PaymentTerms", params={"$select": fields, "$filter": "Timestamp gt 1"}))
    assert {t["LineType"] for t in terms} == {20, 22}
    assert {t["Status"] for t in terms} == {20, 30, 40, 50}
    assert {t["Currency"] for t in terms} == {"EUR", "USD", "GBP"}
    for term in terms:
        assert round(term["AmountFC"] * term["RateFC"], 2) == term["AmountDC"]
        if term["LineType"] == 20 and term["TransactionType"] == 20:
            # §3.2 sign convention chosen by the sandbox: negative term, positive transaction.
            assert term["AmountDC"] < 0 < term["TransactionAmountDC"]
        if term["TransactionType"] in (21, 40):
            assert term["AmountDC"] > 0 > term["TransactionAmountDC"]
    split = [t for t in terms if sum(1 for o in terms if o["TransactionEntryID"] == t["TransactionEntryID"]) == 2]
    assert split, "some invoices are partly paid (split terms)"
    assert len({t["EntryID"] for t in split}) == len(split)


def test_hrm_divisions_lists_the_reachable_divisions_like_ossobv_asks(api: httpx.Client) -> None:
    """§1.5: ``hrm/Divisions`` (one licence, divisions the user may reach and ticked); ossobv selects
    ``Code,Description``."""
    divisions = rows(api.get(f"/api/v1/{NL}/hrm/Divisions", params={"$select": "Code,Description"}))
    assert [(d["Code"], d["Description"]) for d in divisions] == [(101, "Demo Groothandel B.V."), (202, "Demo Services BV")]
    assert all(sorted(d) == ["Code", "Description", "__metadata"] for d in divisions)
    assert divisions[0]["__metadata"]["uri"].endswith(f"/api/v1/{NL}/hrm/Divisions(101)")
    refused = api.get(f"/api/v1/{NL}/hrm/Divisions", params={"$select": "Code,DivisionMoveDate"})
    assert refused.status_code == 400  # not a field of this endpoint's shape
