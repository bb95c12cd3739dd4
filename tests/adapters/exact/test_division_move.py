"""A division that moves to another database (docs/reference/exact.md §4 "Resync trigger").

Exact restarts a division's ``Timestamp`` numbering when it moves the division, and sets
``system/Divisions.DivisionMoveDate``. A client that kept its old cursor would from then on see none
of the division's changes. The adapter reads the move date once per sync and starts every stream
again from ``Timestamp gt 1`` when it changed: a clean full resync that neither loses nor doubles
anything.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.exact.adapter import CHECKED_MOVE_KEY, ExactAdapter, division_markers
from adapters.exact.client import EXACT_HTTP
from adapters.exact.sandbox import DivisionSpec, ExactSandbox
from adapters.exact.sandbox_data import INITIAL_TS_BASE
from connector.http import ApiClient
from connector.ratelimit import RateLimiter
from connector.runtime import StoreStateReader
from connector.sync import StreamReport

from .conftest import CONNECTION, DIVISION, Rig, assert_store_equals_truth, signed_in_client


class Crash(Exception):
    """Stands in for a killed process: raised from the sync's progress callback."""


def change_the_books(rig: Rig) -> dict[str, str]:
    """A day of bookkeeping: part and full payments, a renamed and a deleted account, a new invoice,
    a deleted open term. Returns the ids touched."""
    app = rig.app
    invoices = [t for t in app.open_terms(DIVISION) if Decimal(t["TransactionAmountFC"]) > 0 and t["Status"] == 20]
    partly, fully, deleted = invoices[0], invoices[1], invoices[2]
    app.pay(DIVISION, partly["ID"], abs(Decimal(partly["AmountFC"])) / 2)
    app.pay(DIVISION, fully["ID"], abs(Decimal(fully["AmountFC"])))
    app.delete_term(DIVISION, deleted["ID"])
    customers = [a for a in app.accounts(DIVISION) if a["IsSales"]]
    app.update_account(DIVISION, customers[0]["ID"], Name="Na De Verhuizing B.V.")
    app.delete_account(DIVISION, customers[-1]["ID"])
    today = app.clock.now().date()
    new_term = app.add_invoice(DIVISION, customers[1]["ID"], "250.00", today, today + timedelta(days=14))
    new = next(t["TransactionEntryID"] for t in app.terms(DIVISION) if t["ID"] == new_term)
    return {"partly": partly["TransactionEntryID"], "fully": fully["TransactionEntryID"],
            "deleted": deleted["TransactionEntryID"], "new": new, "renamed": customers[0]["ID"]}


def test_a_sync_reads_the_move_date_once_and_stores_it_with_each_stream(rig: Rig) -> None:
    before = rig.calls()
    rig.sync()
    calls = {k: v - before.get(k, 0) for k, v in rig.calls().items() if v - before.get(k, 0)}
    assert calls == {
        "system/Divisions": 1,  # the fixed call
        "sync/CRM/Accounts": 1,
        "sync/Cashflow/PaymentTerms": 2,  # 1200 terms at 1000 a page
        "sync/Deleted": 1,
    }
    for stream in ("debtors", "open_items"):
        assert json.loads(rig.bookmark(stream) or "{}")["moved"] is None  # never moved
    assert rig.adapters[-1].resynced == []
    assert_store_equals_truth(rig)


@pytest.mark.parametrize("trigger", ["move", "hr_link"])
def test_after_a_move_every_stream_starts_again_from_timestamp_1(rig: Rig, trigger: str) -> None:
    """§4: ``DivisionMoveDate``, "and likewise ``DivisionHRLinkUnlinkDate``"."""
    rig.sync()
    old_cursor = json.loads(rig.bookmark("open_items") or "{}")["ts"]
    assert old_cursor > INITIAL_TS_BASE
    if trigger == "move":
        rig.app.move_division(DIVISION)
    else:
        rig.app.link_hr_division(DIVISION)
    touched = change_the_books(rig)

    report = rig.sync()

    assert rig.adapters[-1].resynced == ["debtors", "open_items"]
    assert report.streams["open_items"].pages == 3  # two pages of terms and one of sync/Deleted: all of it again
    assert_store_equals_truth(rig)
    stored = rig.stored()
    assert touched["deleted"] not in stored["items"]
    assert touched["new"] in stored["open_items"]
    assert touched["fully"] in stored["items"] and touched["fully"] not in stored["open_items"]
    assert rig.store.debtor("exact-101", touched["renamed"]).name == "Na De Verhuizing B.V."  # type: ignore[union-attr]
    moved = rig.adapters[-1].division_move_date()
    assert moved is not None and (moved.startswith("/Date(") if trigger == "move" else moved.startswith(";hr=/Date("))
    for stream in ("debtors", "open_items"):
        mark = json.loads(rig.bookmark(stream) or "{}")
        assert mark["moved"] == moved
        assert mark["ts"] < old_cursor  # the new, restarted numbering


def test_the_sync_after_a_resync_is_incremental_again(rig: Rig) -> None:
    rig.sync()
    rig.app.move_division(DIVISION)
    rig.sync()
    rig.app.pay(DIVISION, rig.app.open_terms(DIVISION)[5]["ID"], "1.00")
    before = rig.calls()
    report = rig.sync()
    assert rig.adapters[-1].resynced == []
    calls = {k: v - before.get(k, 0) for k, v in rig.calls().items() if v - before.get(k, 0)}
    assert calls == {"system/Divisions": 1, "sync/CRM/Accounts": 1, "sync/Cashflow/PaymentTerms": 1, "sync/Deleted": 1}
    assert report.streams["open_items"].stored == 1  # only the invoice whose term was split
    assert_store_equals_truth(rig)


def test_without_watching_the_move_date_the_old_cursor_would_see_nothing(rig: Rig) -> None:
    """Why the resync is needed: after the move, every row sits below the old cursor."""
    rig.sync()
    cursor = json.loads(rig.bookmark("open_items") or "{}")["ts"]
    rig.app.move_division(DIVISION)
    change_the_books(rig)
    newest = max(t["Timestamp"] for t in rig.app.terms(DIVISION))
    assert newest < cursor


def test_a_resync_killed_half_way_resumes_without_loss_or_double_rows(rig: Rig) -> None:
    rig.sync()
    rig.app.move_division(DIVISION)
    change_the_books(rig)

    def crash_after_first_term_page(stream: str, report: StreamReport) -> None:
        if stream == "open_items" and report.pages == 1:
            raise Crash

    with pytest.raises(Crash):
        rig.sync(progress=crash_after_first_term_page)
    assert rig.adapters[-1].resynced == ["debtors", "open_items"]
    # The debtors finished under the new move date; the open items stored one page of the resync.
    half = json.loads(rig.bookmark("open_items") or "{}")
    assert half["moved"] is not None and half["ts"] < INITIAL_TS_BASE

    rig.sync()
    assert rig.adapters[-1].resynced == []  # resumed from the resync's own cursor, not started over
    assert_store_equals_truth(rig)


def test_a_stream_killed_before_it_resynced_still_resyncs_on_the_next_run(rig: Rig) -> None:
    rig.sync()
    rig.app.move_division(DIVISION)
    change_the_books(rig)

    def crash_when_debtors_are_done(stream: str, report: StreamReport) -> None:
        if stream == "debtors":
            raise Crash

    with pytest.raises(Crash):
        rig.sync(progress=crash_when_debtors_are_done)
    rig.sync()
    assert rig.adapters[-1].resynced == ["open_items"]  # the debtors had already stored the new move date
    assert_store_equals_truth(rig)


# --------------------------------------------------------------------------- one read per credential and cycle
#
# Under ``arconnect serve`` the move dates of every division of a credential are read in one paged call per
# scheduling cycle (``division_markers``, 60 divisions a page) and each sync is handed its division's answer
# (issue 15 §3): a quiet incremental sync then costs three calls instead of four.


def handed_adapter(rig: Rig) -> ExactAdapter:
    marker = division_markers(rig.api, str(DIVISION))[str(DIVISION)]
    adapter = ExactAdapter(rig.api, connection_id=CONNECTION, division=str(DIVISION),
                           state=StoreStateReader(rig.store, CONNECTION, {CHECKED_MOVE_KEY: marker}))
    rig.adapters.append(adapter)
    return adapter


def test_a_sync_handed_the_cycles_move_date_asks_nothing_more_and_a_quiet_one_costs_three_calls(rig: Rig) -> None:
    rig.sync()
    before = rig.calls()
    adapter = handed_adapter(rig)
    after_check = rig.calls()
    assert after_check["system/Divisions"] - before["system/Divisions"] == 1  # the cycle's read (one page)

    report = rig.sync(adapter)

    calls = {k: v - after_check.get(k, 0) for k, v in rig.calls().items() if v - after_check.get(k, 0)}
    assert calls == {"sync/CRM/Accounts": 1, "sync/Cashflow/PaymentTerms": 1, "sync/Deleted": 1}
    assert report.stored == 0
    assert_store_equals_truth(rig)


def test_a_move_is_seen_through_the_handed_answer_and_resyncs(rig: Rig) -> None:
    rig.sync()
    rig.app.move_division(DIVISION)
    change_the_books(rig)
    adapter = handed_adapter(rig)
    before = rig.calls()

    rig.sync(adapter)

    assert adapter.resynced == ["debtors", "open_items"]
    assert rig.calls()["system/Divisions"] == before["system/Divisions"]
    assert_store_equals_truth(rig)


def signed_in_api(app: ExactSandbox, divisions: list[int]) -> ApiClient:
    return ApiClient(signed_in_client(app, divisions), EXACT_HTTP, limiter_key="exact-test:many", limiter=RateLimiter())


def test_the_cycles_read_pages_through_every_division_at_60_a_page() -> None:
    specs = tuple(DivisionSpec(code=500 + i, description=f"D {i}", accounts=1, terms=1) for i in range(130))
    app = ExactSandbox(divisions=specs)
    app.move_division(577)
    api = signed_in_api(app, [s.code for s in specs])
    markers = division_markers(api, "500")
    assert sorted(markers) == sorted(str(s.code) for s in specs)
    assert app.calls["system/Divisions"] == 3  # ceil(130 / 60)
    assert [code for code, marker in markers.items() if marker] == ["577"]
    assert markers["577"] is not None and markers["577"].startswith("/Date(")
