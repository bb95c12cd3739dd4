"""The Moneybird read path against the in-process sandbox: id+version diff, deletions, paging,
closed items, quarantine, resuming, and pacing under the rate limit."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from connector.model import ItemStatus
from connector.sync import sync_connection
from tests.adapters.moneybird.conftest import CONNECTION, NL, Rig, build_rig

SYNC = "sales_invoices/synchronization"
CONTACT_SYNC = "contacts/synchronization"


def stored_open(rig: Rig) -> dict[str, Decimal]:
    return {i.source_id: i.open.amount for i in rig.store.open_items(CONNECTION)}


def truth(rig: Rig) -> dict[str, Decimal]:
    return {i: Decimal(rig.sandbox.invoice(NL, i)["total_unpaid"]) for i in rig.sandbox.open_invoices(NL)}


def test_a_full_sync_costs_two_id_lists_and_one_post_per_hundred_ids(rig: Rig) -> None:
    report = rig.sync()
    unpaid = len(rig.sandbox.open_invoices(NL))
    assert unpaid > 100  # several POSTs are needed
    assert rig.calls(SYNC) == 1 + math.ceil(unpaid / 100)
    assert rig.calls(CONTACT_SYNC) == 1 + math.ceil(60 / 100)
    assert sum(rig.sandbox.calls.values()) == rig.calls(SYNC) + rig.calls(CONTACT_SYNC)
    assert report.streams["open_items"].pages == math.ceil(unpaid / 100)
    assert stored_open(rig) == truth(rig)
    assert len(rig.store.debtors(CONNECTION)) == 60


def test_every_post_asks_for_at_most_100_ids_given_as_strings(rig: Rig) -> None:
    rig.sync()
    bodies = rig.recorder.posts(f"{SYNC}.json")
    assert bodies and all(1 <= len(b["ids"]) <= 100 and all(isinstance(i, str) for i in b["ids"]) for b in bodies)
    assert sum(len(b["ids"]) for b in bodies) == len(rig.sandbox.open_invoices(NL))


def test_the_id_list_asks_for_the_unpaid_states_with_an_explicit_period(rig: Rig) -> None:
    rig.sync()
    (url,) = [u for u in rig.recorder.urls if u.path.endswith(f"{SYNC}.json") and "filter" in u.params]
    assert url.params["filter"] == "state:open|late|reminded|pending_payment,period:200001..202712"
    assert set(stored_open(rig)) == set(rig.sandbox.open_invoices(NL))


def test_a_second_sync_without_changes_only_reads_the_two_id_lists(rig: Rig) -> None:
    rig.sync()
    rig.sandbox.reset_counts()
    report = rig.sync()
    assert dict(rig.sandbox.calls) == {SYNC: 1, CONTACT_SYNC: 1}
    assert report.stored == 0


def test_payments_and_a_new_invoice_cost_one_post_and_paid_items_leave_the_open_set(rig: Rig) -> None:
    rig.sync()
    fully, partly = rig.sandbox.invoice_ids(NL, states=("late",))[:2]
    rig.sandbox.pay(NL, fully, rig.sandbox.invoice(NL, fully)["total_unpaid"])
    half = (Decimal(rig.sandbox.invoice(NL, partly)["total_unpaid"]) / 2).quantize(Decimal("0.01"))
    rig.sandbox.pay(NL, partly, half)
    new = rig.sandbox.add_invoice(NL, amount="121.00")
    rig.sandbox.reset_counts()
    report = rig.sync()
    assert rig.calls(SYNC) == 2  # the list, and one POST for the paid, the partly paid and the new one
    assert report.streams["open_items"].stored == 3
    assert stored_open(rig) == truth(rig)
    assert fully not in stored_open(rig) and new in stored_open(rig)
    closed = {i.source_id: i for i in rig.store.open_items(CONNECTION, include_closed=True)}
    assert closed[fully].status == ItemStatus.PAID
    assert closed[fully].closed_on == rig.sandbox.today()
    paid_here = [p for p in rig.store.payments(CONNECTION) if p.item_source_ids == (fully,)]
    assert paid_here and paid_here[-1].paid_on == rig.sandbox.today()


def test_a_renamed_contact_is_fetched_alone(rig: Rig) -> None:
    rig.sync()
    debtor = rig.store.debtors(CONNECTION)[3]
    rig.sandbox.update_contact(NL, debtor.source_id, company_name="Hernoemd B.V.")
    rig.sandbox.reset_counts()
    report = rig.sync()
    assert rig.calls(CONTACT_SYNC) == 2
    assert report.streams["debtors"].stored == 1
    assert rig.store.debtor(CONNECTION, debtor.source_id).name == "Hernoemd B.V."  # type: ignore[union-attr]


def test_a_deleted_invoice_and_a_deleted_contact_are_deleted(rig: Rig) -> None:
    rig.sync()
    gone = rig.sandbox.open_invoices(NL)[5]
    rig.sandbox.delete_invoice(NL, gone)
    contact = rig.store.debtors(CONNECTION)[-1].source_id
    admin = rig.sandbox.admin(NL)
    admin.deleted_contacts.add(admin.index_of(1, contact) or 0)
    report = rig.sync()
    assert report.streams["open_items"].deleted == 1 and report.streams["debtors"].deleted == 1
    assert gone not in {i.source_id for i in rig.store.open_items(CONNECTION, include_closed=True)}
    assert contact not in {d.source_id for d in rig.store.debtors(CONNECTION)}
    assert stored_open(rig) == truth(rig)


def test_a_written_off_invoice_is_kept_as_written_off_with_its_unpaid_amount(rig: Rig) -> None:
    rig.sync()
    ident = rig.sandbox.invoice_ids(NL, states=("late",))[0]
    unpaid = Decimal(rig.sandbox.invoice(NL, ident)["total_unpaid"])
    rig.api.request("PATCH", f"/api/v2/{NL}/sales_invoices/{ident}/mark_as_uncollectible.json", json={})
    rig.sync()
    item = {i.source_id: i for i in rig.store.open_items(CONNECTION, include_closed=True)}[ident]
    assert (item.status, item.open.amount, item.closed_on) == (ItemStatus.WRITTEN_OFF, unpaid, rig.sandbox.today())
    assert ident not in stored_open(rig)


def test_an_invoice_turning_late_overnight_is_fetched_again(rig: Rig) -> None:
    rig.sync()
    due_tomorrow = [
        i for i in rig.sandbox.invoice_ids(NL, states=("open",))
        if rig.sandbox.invoice(NL, i)["due_date"] == rig.sandbox.today().isoformat()
    ]
    rig.sandbox.reset_counts()
    rig.clock.advance(timedelta(days=1).total_seconds())
    rig.sync()
    assert rig.calls(SYNC) == 1 + math.ceil(len(due_tomorrow) / 100)
    assert stored_open(rig) == truth(rig)


def test_a_malformed_invoice_is_quarantined_and_fetched_again_next_time(rig: Rig) -> None:
    rig.sandbox.faults.malformed(endpoint=SYNC)
    report = rig.sync()
    assert report.quarantined == 1
    (row,) = rig.store.quarantine(CONNECTION)
    assert "total_price_incl_tax" in row.reason or "total_unpaid" in row.reason
    assert len(truth(rig)) - len(stored_open(rig)) <= 1
    rig.sandbox.reset_counts()
    again = rig.sync()
    assert again.quarantined == 0 and rig.store.quarantine(CONNECTION) == []
    assert rig.calls(SYNC) == 2
    assert stored_open(rig) == truth(rig)


def test_a_sync_killed_after_its_first_page_resumes_without_fetching_that_page_again(rig: Rig) -> None:
    adapter = rig.adapter()
    pages = adapter.open_items(None)
    first = next(pages)
    rig.store.save_page(CONNECTION, "open_items", first)
    del pages  # the process dies here
    unpaid = len(rig.sandbox.open_invoices(NL))
    rig.sandbox.reset_counts()
    sync_connection(rig.adapter(), rig.store, CONNECTION, streams=["open_items"])
    assert rig.calls(SYNC) == 1 + math.ceil((unpaid - len(first.records)) / 100)
    assert stored_open(rig) == truth(rig)


def test_an_invoice_deleted_while_a_sync_was_killed_is_still_detected(rig: Rig) -> None:
    rig.sync()
    new = rig.sandbox.add_invoice(NL, amount="50.00")
    for number in range(150):
        rig.sandbox.add_invoice(NL, amount=f"{100 + number}.00")
    pages = rig.adapter().open_items("resume")
    rig.store.save_page(CONNECTION, "open_items", next(pages))
    del pages
    rig.sandbox.delete_invoice(NL, new)
    sync_connection(rig.adapter(), rig.store, CONNECTION, streams=["open_items"])
    assert new not in {i.source_id for i in rig.store.open_items(CONNECTION, include_closed=True)}
    assert stored_open(rig) == truth(rig)


def test_pacing_under_the_limit_takes_several_windows_and_gets_no_429(tmp_path: Path) -> None:
    for rig in build_rig(tmp_path, contacts=300, invoices=900, limit=4):
        report = rig.sync()
        served = sum(rig.sandbox.calls.values())
        assert served > 8  # more than two windows' worth
        assert rig.sandbox.status_counts[429] == 0
        assert rig.api.stats.rate_limited == 0
        assert rig.limiter.waited_seconds >= 300 * ((served - 1) // 4) - 5
        assert stored_open(rig) == truth(rig) and report.quarantined == 0


def test_administrations_are_listed_with_string_ids(rig: Rig) -> None:
    (admin,) = rig.adapter().administrations()
    assert (admin.source_id, admin.name, admin.country, admin.currency) == (NL, "Parkietje B.V.", "NL", "EUR")


def test_after_a_bookmark_reset_everything_is_fetched_again_and_deletions_still_show(rig: Rig) -> None:
    rig.sync()
    gone = rig.sandbox.open_invoices(NL)[0]
    rig.sandbox.delete_invoice(NL, gone)
    rig.store.reset_bookmarks(CONNECTION)
    rig.sandbox.reset_counts()
    rig.sync()
    unpaid = len(rig.sandbox.open_invoices(NL))
    assert rig.calls(SYNC) == 1 + math.ceil((unpaid + 1) / 100)  # every open id, and the one that left
    assert gone not in {i.source_id for i in rig.store.open_items(CONNECTION, include_closed=True)}
    assert stored_open(rig) == truth(rig)
