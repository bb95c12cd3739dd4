"""Incremental sync by Timestamp, sync/Deleted and division moves (docs/reference/exact.md §4, §5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from adapters.exact.sandbox import DivisionSpec, ExactSandbox
from connector.sandbox import SandboxClock

from .conftest import NL, client_for, custom_app, follow, rows

TERMS = "/api/v1/{d}/sync/Cashflow/PaymentTerms"
SELECT = "ID,Timestamp,Status,IsFullyPaid,AmountDC,AmountFC,EntryID,TransactionEntryID,EndDate,LastPaymentDate,LineType"


def feed(api: httpx.Client, path: str, since: int, select: str = SELECT) -> list[dict[str, Any]]:
    return [r for page in follow(api, path, {"$select": select, "$filter": f"Timestamp gt {since}L"}) for r in page]


def test_first_run_from_timestamp_gt_1_reads_everything_in_timestamp_order(api: httpx.Client, app: ExactSandbox) -> None:
    rows_ = [r for p in follow(api, TERMS.format(d=NL), {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"}) for r in p]
    assert [r["ID"] for r in rows_] == [t["ID"] for t in app.terms(NL)]
    stamps = [r["Timestamp"] for r in rows_]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_sync_pages_by_1000_and_next_continues_after_the_last_timestamp(clock: SandboxClock) -> None:
    app = custom_app(clock, DivisionSpec(code=9, description="Sync B.V.", accounts=30, terms=2_500))
    with client_for(app, (9,)) as api:
        first = api.get(TERMS.format(d=9), params={"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"})
        d = first.json()["d"]
        assert len(d["results"]) == 1000
        assert f"$skiptoken={d['results'][-1]['Timestamp']}L" in d["__next"]
        pages = follow(api, TERMS.format(d=9), {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"})
    assert [len(p) for p in pages] == [1000, 1000, 500]


def test_incremental_read_returns_only_changed_rows(api: httpx.Client, app: ExactSandbox) -> None:
    terms_before = feed(api, TERMS.format(d=NL), 1)
    high = max(r["Timestamp"] for r in terms_before)
    accounts_before = feed(api, f"/api/v1/{NL}/sync/CRM/Accounts", 1, "ID,Timestamp,Name")
    account_high = max(r["Timestamp"] for r in accounts_before)
    assert feed(api, TERMS.format(d=NL), high) == []

    target = app.open_terms(NL)[0]
    remainder = app.pay(NL, target["ID"], Decimal("10.00"))
    app.update_account(NL, accounts_before[2]["ID"], Name="Hernoemd B.V.")

    changed = feed(api, TERMS.format(d=NL), high)
    assert [r["ID"] for r in changed] == [target["ID"], remainder]
    assert all(r["Timestamp"] > high for r in changed)
    assert all(r["Timestamp"] > account_high for r in changed)
    accounts = feed(api, f"/api/v1/{NL}/sync/CRM/Accounts", max(high, account_high), "ID,Timestamp,Name")
    assert [(a["ID"], a["Name"]) for a in accounts] == [(accounts_before[2]["ID"], "Hernoemd B.V.")]


def test_partial_payment_splits_the_term(api: httpx.Client, app: ExactSandbox) -> None:
    target = next(t for t in app.open_terms(NL) if t["TransactionType"] == 20 and t["Currency"] == "EUR"
                  and t["AmountDC"] < Decimal("-50"))
    open_amount = target["AmountDC"]
    remainder_id = app.pay(NL, target["ID"], Decimal("20.00"))
    assert remainder_id is not None
    changed = {r["ID"]: r for r in feed(api, TERMS.format(d=NL), 100_000_000 + 40 + 150)}
    paid, rest = changed[target["ID"]], changed[remainder_id]
    assert (paid["Status"], paid["IsFullyPaid"], paid["AmountDC"]) == (50, True, -20.0)
    assert paid["EndDate"] == "/Date(1741737600000)/"  # 2025-03-12
    assert (rest["Status"], rest["IsFullyPaid"]) == (20, False)
    assert Decimal(str(rest["AmountDC"])) == open_amount + Decimal("20.00")
    assert rest["TransactionEntryID"] == paid["TransactionEntryID"]
    assert rest["EntryID"] != paid["EntryID"]
    assert rest["LastPaymentDate"] == "/Date(1741737600000)/"
    open_ids = [t["ID"] for t in app.open_terms(NL)]
    assert remainder_id in open_ids and target["ID"] not in open_ids


def test_full_payment_closes_the_term_and_leaves_the_receivables_list(api: httpx.Client, app: ExactSandbox) -> None:
    target = app.open_terms(NL)[1]
    assert app.pay(NL, target["ID"], abs(target["AmountFC"])) is None
    row = api.get(f"/api/v1/{NL}/cashflow/Receivables(guid'{target['ID']}')",
                  params={"$select": "Status,IsFullyPaid,EndDate"}).json()["d"]
    assert (row["Status"], row["IsFullyPaid"], row["EndDate"]) == (50, True, "/Date(1741737600000)/")
    listed = [r["Id"] for p in follow(api, f"/api/v1/{NL}/read/financial/ReceivablesList") for r in p]
    assert target["ID"] not in listed


def test_add_invoice_appears_in_sync_and_receivables(api: httpx.Client, app: ExactSandbox) -> None:
    account = app.accounts(NL)[0]["ID"]
    term_id = app.add_invoice(NL, account, Decimal("121.00"), date(2025, 3, 2), date(2025, 4, 1), currency="USD")
    (row,) = feed(api, TERMS.format(d=NL), 100_000_000 + 40 + 150, "ID,Account,AmountFC,AmountDC,RateFC,Currency,DueDate,TransactionAmountFC")
    assert row["ID"] == term_id and row["Account"] == account
    assert (row["AmountFC"], row["AmountDC"], row["RateFC"], row["Currency"]) == (-121.0, -111.32, 0.92, "USD")
    assert row["TransactionAmountFC"] == 121.0
    assert row["DueDate"] == "/Date(1743465600000)/"


def test_deletions_come_from_sync_deleted(api: httpx.Client, app: ExactSandbox) -> None:
    term = app.open_terms(NL)[0]["ID"]
    account = app.accounts(NL)[5]["ID"]
    app.delete_term(NL, term)
    app.delete_account(NL, account)
    deleted = feed(api, f"/api/v1/{NL}/sync/Deleted", 1, "EntityKey,EntityType,Timestamp,DeletedDate,Division,ID")
    assert [(d["EntityKey"], d["EntityType"]) for d in deleted] == [(term, 10), (account, 2)]
    assert deleted[0]["Division"] == NL
    only_accounts = rows(api.get(f"/api/v1/{NL}/sync/Deleted",
                                 params={"$select": "EntityKey", "$filter": "Timestamp gt 1L and EntityType eq 2"}))
    assert [d["EntityKey"] for d in only_accounts] == [account]
    assert term not in [r["ID"] for r in feed(api, TERMS.format(d=NL), 1, "ID")]
    assert api.get(f"/api/v1/{NL}/crm/Accounts(guid'{account}')").status_code == 404


def test_moving_a_division_resets_timestamps_and_sets_the_move_date(api: httpx.Client, app: ExactSandbox) -> None:
    before = feed(api, TERMS.format(d=NL), 1, "ID,Timestamp")
    high = max(r["Timestamp"] for r in before)
    app.move_division(NL)
    assert feed(api, TERMS.format(d=NL), high, "ID,Timestamp") == []  # a cursor from before the move sees nothing
    after = feed(api, TERMS.format(d=NL), 1, "ID,Timestamp")
    assert sorted(r["ID"] for r in after) == sorted(r["ID"] for r in before)
    assert max(r["Timestamp"] for r in after) < high
    (division,) = [d for d in rows(api.get(f"/api/v1/{NL}/system/Divisions", params={"$select": "Code,DivisionMoveDate"}))
                   if d["Code"] == NL]
    assert division["DivisionMoveDate"] is not None and division["DivisionMoveDate"].startswith("/Date(")


def test_a_million_terms_cost_nothing_until_read(clock: SandboxClock) -> None:
    app = custom_app(clock, DivisionSpec(code=5, description="Groot B.V.", accounts=20_000, terms=1_000_000))
    state = app.division(5)
    assert state.terms.generated == 0
    middle = 100_000_000 + 20_000 + 500_000
    with client_for(app, (5,)) as api:
        page = api.get(TERMS.format(d=5), params={"$select": "ID,Timestamp", "$filter": f"Timestamp gt {middle}L"})
    results = page.json()["d"]["results"]
    assert len(results) == 1000
    assert results[0]["Timestamp"] == middle + 1
    assert "__next" in page.json()["d"]
    assert state.terms.generated <= 1001  # the page plus one look-ahead row


def test_writes_on_a_million_terms_live_in_a_small_overlay(clock: SandboxClock) -> None:
    """Issue 3 part 2: data generated lazily by index, writes kept in an overlay."""
    app = custom_app(clock, DivisionSpec(code=5, description="Groot B.V.", accounts=20_000, terms=1_000_000))
    state = app.division(5)
    last = state.terms.get(state.term_ids.guid(999_999))  # the very last base row: an open invoice term
    assert last is not None and (last["Status"], last["LineType"], last["AmountFC"]) == (20, 20, Decimal("-334.23"))
    newest = state.max_timestamp
    remainder = app.pay(5, last["ID"], "100.00")
    assert len(state.terms.overlay) == 2  # the paid part and the open remainder (§5: the term splits)
    assert state.terms.generated < 100
    with client_for(app, (5,)) as api:
        changed = feed(api, TERMS.format(d=5), newest, "ID,Timestamp")
    assert remainder in [r["ID"] for r in changed]
    assert [r["Timestamp"] for r in changed] == sorted(r["Timestamp"] for r in changed)
    assert all(r["Timestamp"] > newest for r in changed)
    assert state.terms.generated < 100  # reading the changes did not touch the base rows


def test_an_hr_link_resets_timestamps_and_sets_its_own_date(api: httpx.Client, app: ExactSandbox) -> None:
    """§4: ``DivisionHRLinkUnlinkDate`` is a resync trigger "likewise" (simulated as resetting Timestamps)."""
    high = max(r["Timestamp"] for r in feed(api, TERMS.format(d=NL), 1, "ID,Timestamp"))
    app.link_hr_division(NL)
    assert feed(api, TERMS.format(d=NL), high, "ID,Timestamp") == []
    (division,) = [d for d in rows(api.get(f"/api/v1/{NL}/system/Divisions",
                                           params={"$select": "Code,DivisionMoveDate,DivisionHRLinkUnlinkDate"}))
                   if d["Code"] == NL]
    assert division["DivisionMoveDate"] is None
    assert division["DivisionHRLinkUnlinkDate"].startswith("/Date(")
