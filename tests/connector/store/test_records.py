"""Synced records: save_page, bookmarks, deletions, quarantine, reads, scoping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from connector.model import (
    Debtor,
    DebtorKind,
    ItemKind,
    ItemStatus,
    Money,
    OpenItem,
    Payment,
    Quarantined,
)
from connector.store import SaveResult, Store
from connector.store import tables as t
from tests.connector.store.builders import debtor, eur, item, page, paid, payment

CET = timezone(timedelta(hours=2))


def full_debtor(connection_id: str) -> Debtor:
    return Debtor(
        connection_id=connection_id,
        source_id="5f1c0c1e-0000-4000-8000-000000000001",
        code="  1001",
        name="Bakkerij De Vries & Zn. — Ghent",
        kind=DebtorKind.BUSINESS,
        country="BE",
        language="nl",
        emails=("boekhouding@devries.be", "info@devries.be"),
        phone="+32 9 123 45 67",
        vat_number="BE0123456789",
        coc_number="0123.456.789",
        payment_terms_days=30,
        credit_limit=Money(amount=Decimal("12500.1234"), currency="EUR"),
        blocked=True,
        reminders_enabled_in_source=False,
        tags=("horeca", "risk:high"),
        custom_fields={"account_manager": "Els", "segment": "B2B"},
        source_modified=datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=CET),
    )


def full_item(connection_id: str) -> OpenItem:
    return OpenItem(
        connection_id=connection_id,
        source_id="INV-2025-0001",
        debtor_source_id="5f1c0c1e-0000-4000-8000-000000000001",
        document_number="2025/0001",
        kind=ItemKind.CREDIT_NOTE,
        invoice_date=date(2025, 1, 31),
        due_date=date(2025, 3, 2),
        original=Money(amount=Decimal("-1234.5678"), currency="USD"),
        open=Money(amount=Decimal("-0.0001"), currency="USD"),
        original_base=Money(amount=Decimal("-1139.9999"), currency="EUR"),
        open_base=Money(amount=Decimal("-0.0001"), currency="EUR"),
        status=ItemStatus.DISPUTED,
        closed_on=None,
        payment_reference="+++090/9337/55493+++",
        description="Credit for returned goods ‘Zuurdesem’",
        in_direct_debit=True,
        source_dunning_level=2,
        source_dunning_date=date(2025, 3, 10),
        source_modified=datetime(2025, 3, 11, 23, 59, 59, tzinfo=UTC),
    )


def full_payment(connection_id: str) -> Payment:
    return Payment(
        connection_id=connection_id,
        source_id="PAY-1",
        debtor_source_id=None,
        item_source_ids=("INV-2025-0001", "INV-2025-0002"),
        paid_on=date(2025, 2, 28),
        amount=Money(amount=Decimal("99999999999999.9999"), currency="GBP"),
    )


def test_every_field_round_trips_exactly(store: Store) -> None:
    d, i, p = full_debtor("c1"), full_item("c1"), full_payment("c1")
    store.save_page("c1", "debtors", page([d]))
    store.save_page("c1", "open_items", page([i], payments=[p]))
    assert store.debtors("c1") == [d]
    assert store.debtor("c1", d.source_id) == d
    assert list(store.open_items("c1")) == [i]
    assert store.payments("c1") == [p]
    [stored] = store.open_items("c1")
    assert stored.original.amount.as_tuple() == Decimal("-1234.5678").as_tuple()
    assert stored.source_modified is not None and stored.source_modified.utcoffset() == timedelta(0)
    assert store.debtors("c1")[0].source_modified.utcoffset() == timedelta(hours=2)  # type: ignore[union-attr]


def test_amount_columns_hold_the_decimal_and_its_currency(store: Store) -> None:
    store.save_page("c1", "open_items", page([full_item("c1")]))
    store.save_page("c1", "debtors", page([full_debtor("c1")]))
    o, d = t.open_items.c, t.debtors.c
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(o.currency, o.original_amount, o.base_currency, o.original_base_amount, o.open_amount)).one()
        limit = conn.execute(sa.select(d.credit_limit_currency, d.credit_limit_amount)).one()
    assert tuple(row) == ("USD", Decimal("-1234.5678"), "EUR", Decimal("-1139.9999"), Decimal("-0.0001"))
    assert all(isinstance(row[n], Decimal) for n in (1, 3, 4))
    assert tuple(limit) == ("EUR", Decimal("12500.1234"))


def test_saving_a_record_again_updates_it_and_keeps_when_it_was_first_seen(db_url: str) -> None:
    times = iter([datetime(2025, 1, 1, 8, tzinfo=UTC), datetime(2025, 1, 2, 8, tzinfo=UTC)])
    with Store(db_url, clock=lambda: next(times)) as store:
        store.migrate()
        store.save_page("c1", "open_items", page([item("c1", "I1", "100.0000")]))
        result = store.save_page("c1", "open_items", page([item("c1", "I1", "40.5000", payment_reference="RF18")]))
        assert result == SaveResult(stored=1, quarantined=0, deleted=0)
        [stored] = store.open_items("c1")
        assert stored.open == eur("40.5000") and stored.payment_reference == "RF18"
        o = t.open_items.c
        with store.engine.connect() as conn:
            seen = conn.execute(sa.select(o.first_seen_at, o.updated_at, o.open_amount)).one()
        assert seen == (datetime(2025, 1, 1, 8, tzinfo=UTC), datetime(2025, 1, 2, 8, tzinfo=UTC), Decimal("40.5000"))


def test_a_paid_item_stays_with_its_closing_date_but_leaves_the_open_list(store: Store) -> None:
    open_one, to_pay = item("c1", "I1"), item("c1", "I2")
    store.save_page("c1", "open_items", page([open_one, to_pay]))
    store.save_page("c1", "open_items", page([paid(to_pay, date(2025, 2, 20))]))
    assert [i.source_id for i in store.open_items("c1")] == ["I1"]
    closed = {i.source_id: i for i in store.open_items("c1", include_closed=True)}
    assert closed["I2"].status == ItemStatus.PAID and closed["I2"].closed_on == date(2025, 2, 20)
    assert store.counts("c1") == {
        "debtors": 0, "open_items": 2, "open": 1, "payments": 0, "quarantine": 0, "journal": 0, "deleted": 0,
    }


def test_a_disputed_item_is_still_to_collect(store: Store) -> None:
    store.save_page("c1", "open_items", page([item("c1", "I1", status=ItemStatus.DISPUTED), item("c1", "I2", status=ItemStatus.WRITTEN_OFF)]))
    assert [i.source_id for i in store.open_items("c1")] == ["I1"]


def test_deleted_records_drop_out_of_every_read_and_come_back_when_stored_again(store: Store) -> None:
    store.save_page("c1", "open_items", page([item("c1", "I1"), item("c1", "I2")]))
    store.save_page("c1", "debtors", page([debtor("c1", "D1"), debtor("c1", "D2")]))
    store.save_page("c1", "payments", page([payment("c1", "P1", "I1")]))

    assert store.save_page("c1", "open_items", deletions(["I2", "unknown"])).deleted == 1
    assert store.save_page("c1", "open_items", deletions(["I2"])).deleted == 0  # already deleted
    store.save_page("c1", "debtors", deletions(["D2"]))
    store.save_page("c1", "payments", deletions(["P1"]))

    assert [i.source_id for i in store.open_items("c1", include_closed=True)] == ["I1"]
    assert [d.source_id for d in store.debtors("c1")] == ["D1"]
    assert store.debtor("c1", "D2") is None
    assert store.payments("c1") == []
    assert store.counts("c1")["deleted"] == 3

    store.save_page("c1", "open_items", page([item("c1", "I2", "12.3400")]))
    assert {i.source_id: i.open for i in store.open_items("c1")} == {"I1": eur("100.0000"), "I2": eur("12.3400")}
    assert store.counts("c1")["deleted"] == 2


def deletions(ids: list[str]) -> Any:
    return page([], deleted=ids)


def test_a_record_that_keeps_failing_is_counted_not_duplicated(store: Store) -> None:
    bad = Quarantined(stream="open_items", source_id="I9", reason="no due date", raw={"ID": "I9", "Amount": Decimal("1.5")})
    anonymous = Quarantined(stream="open_items", source_id=None, reason="no id", raw={"Amount": 3})
    first = store.save_page("c1", "open_items", page([item("c1", "I1")], quarantined=[bad, anonymous]))
    store.save_page("c1", "open_items", page([], quarantined=[bad.model_copy(update={"reason": "no due date (again)"}), anonymous]))
    assert first.quarantined == 2
    rows = {row.source_id: row for row in store.quarantine("c1")}
    assert set(rows) == {"I9", None}
    assert rows["I9"].times_seen == 2 and rows["I9"].reason == "no due date (again)"
    assert rows["I9"].raw == {"ID": "I9", "Amount": "1.5"}
    assert rows[None].times_seen == 2
    assert rows["I9"].first_seen_at <= rows["I9"].last_seen_at
    assert rows["I9"].first_seen_at.tzinfo is not None


def test_a_record_that_maps_again_leaves_quarantine(store: Store) -> None:
    bad = Quarantined(stream="open_items", source_id="I9", reason="no due date", raw={"ID": "I9"})
    other = Quarantined(stream="open_items", source_id="I8", reason="bad amount", raw={"ID": "I8"})
    store.save_page("c1", "open_items", page([], quarantined=[bad, other]))
    store.save_page("c1", "open_items", page([item("c1", "I9")]))
    assert [row.source_id for row in store.quarantine("c1")] == ["I8"]


def test_a_record_no_database_can_store_alike_goes_to_quarantine_and_the_page_goes_on(store: Store) -> None:
    good = item("c1", "I1", document_number="2025/1")
    store.save_page("c1", "open_items", page([good]))
    nul = item("c1", "I1", document_number="2025/\x001")
    huge = item("c1", "I2", "100000000000000.0000")
    surrogate = item("c1", "I4", description="caf\udce9")
    result = store.save_page("c1", "open_items", page([nul, huge, item("c1", "I3"), surrogate], payments=[payment("c1", "P1", amount="1E+15")], bookmark="b2"))
    assert (result.stored, result.quarantined, result.payments) == (1, 4, 0)
    assert [i.document_number for i in store.open_items("c1")] == ["2025/1", None]  # I1 keeps its last good version
    assert store.bookmark("c1", "open_items") == "b2"
    rows = {(row.stream, row.source_id): row for row in store.quarantine("c1")}
    assert set(rows) == {("open_items", "I1"), ("open_items", "I2"), ("open_items", "I4"), ("payments", "P1")}
    assert rows["open_items", "I4"].raw["description"] == "caf\ufffd"
    assert "NUL" in rows["open_items", "I1"].reason and rows["open_items", "I1"].raw["document_number"] == "2025/\ufffd1"
    assert "out of range" in rows["open_items", "I2"].reason
    with pytest.raises(ValueError, match="bookmark"):
        store.save_page("c1", "open_items", page([item("c1", "I5")], bookmark="ts\x00"))
    assert store.bookmark("c1", "open_items") == "b2"


def test_payments_and_adapter_state_travel_with_the_page(store: Store) -> None:
    store.save_page("c1", "open_items", page([item("c1", "I1")], payments=[payment("c1", "P1", "I1")], state={"term:1": {"a": [1, 2]}, "entry:x": ["t1"]}))
    result = store.save_page("c1", "open_items", page([], payments=[payment("c1", "P2", "I1")], state={"entry:x": None}))
    assert result.payments == 1
    assert [p.source_id for p in store.payments("c1")] == ["P1", "P2"]
    assert store.get_state("c1", ["term:1", "entry:x", "missing"]) == {"term:1": {"a": [1, 2]}}
    assert store.get_state("c2", ["term:1"]) == {}


def test_bookmarks_are_set_with_their_page_and_can_be_reset(store: Store) -> None:
    assert store.bookmark("c1", "open_items") is None
    store.save_page("c1", "open_items", page([item("c1", "I1")], bookmark="ts:1"))
    store.save_page("c1", "open_items", page([item("c1", "I2")]))  # a page without a bookmark keeps the old one
    store.save_page("c1", "debtors", page([], bookmark="ts:7"))
    assert store.bookmark("c1", "open_items") == "ts:1"
    assert store.bookmark("c1", "debtors") == "ts:7"
    store.reset_bookmarks("c1")
    assert store.bookmark("c1", "open_items") is None and store.bookmark("c1", "debtors") is None
    assert store.counts("c1")["open_items"] == 2


def test_a_page_and_its_bookmark_commit_together_or_not_at_all(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = Quarantined(stream="open_items", source_id="I3", reason="broken", raw={})
    store.save_page("c1", "open_items", page([item("c1", "I1", "100.0000")], bookmark="b1"))

    original = Store._set_bookmark

    def bookmark_then_crash(self: Store, *args: Any) -> None:
        original(self, *args)
        raise RuntimeError("killed after the bookmark was written")

    monkeypatch.setattr(Store, "_set_bookmark", bookmark_then_crash)
    second = page(
        [item("c1", "I1", "1.0000"), item("c1", "I2")],
        bookmark="b2",
        deleted=["I1"],
        quarantined=[bad],
        payments=[payment("c1", "P1", "I1")],
        state={"k": 1},
    )
    with pytest.raises(RuntimeError, match="killed"):
        store.save_page("c1", "open_items", second)
    monkeypatch.undo()

    assert store.bookmark("c1", "open_items") == "b1"
    assert list(store.open_items("c1")) == [item("c1", "I1", "100.0000")]
    assert store.quarantine("c1") == [] and store.payments("c1") == [] and store.get_state("c1", ["k"]) == {}
    # and the store still works after the failure
    assert store.save_page("c1", "open_items", second).stored == 2
    assert store.bookmark("c1", "open_items") == "b2"


def test_a_page_with_a_record_of_another_connection_is_refused_whole(store: Store) -> None:
    with pytest.raises(ValueError, match="a record of connection"):
        store.save_page("c1", "open_items", page([item("c1", "I1"), item("c2", "I2")], bookmark="b"))
    assert store.counts("c1")["open_items"] == 0 and store.counts("c2")["open_items"] == 0
    assert store.bookmark("c1", "open_items") is None


def test_two_connections_with_the_same_source_ids_never_see_each_others_rows(store: Store) -> None:
    for cid, amount in (("c1", "1.0000"), ("c2", "2.0000")):
        store.save_page(cid, "debtors", page([debtor(cid, "D1", name=f"name {cid}")], bookmark=f"d-{cid}"))
        store.save_page(
            cid,
            "open_items",
            page(
                [item(cid, "I1", amount)],
                bookmark=f"i-{cid}",
                quarantined=[Quarantined(stream="open_items", source_id="Q", reason=cid, raw={})],
                payments=[payment(cid, "P1", "I1", amount=amount)],
                state={"s": cid},
            ),
        )
    store.save_page("c2", "open_items", page([], deleted=["I1"]))
    store.save_page("c2", "debtors", page([], deleted=["D1"]))

    assert [i.open for i in store.open_items("c1")] == [eur("1.0000")]
    assert list(store.open_items("c2", include_closed=True)) == []
    assert [d.name for d in store.debtors("c1")] == ["name c1"]
    assert [p.amount for p in store.payments("c2")] == [eur("2.0000")]
    assert [q.reason for q in store.quarantine("c1")] == ["c1"]
    assert store.bookmark("c1", "open_items") == "i-c1" and store.bookmark("c2", "open_items") == "i-c2"
    assert store.get_state("c1", ["s"]) == {"s": "c1"}


def test_remove_connection_deletes_every_row_of_it_and_nothing_else(store: Store) -> None:
    from connector.store.desk import Desk
    from tests.connector.store.builders import action

    for cid in ("c1", "c2"):
        store.ensure_connection(cid, "exact", f"Administration {cid}")
        store.save_page(cid, "debtors", page([debtor(cid, "D1")], bookmark="b"))
        store.save_page(
            cid,
            "open_items",
            page([item(cid, "I1")], quarantined=[Quarantined(stream="open_items", source_id="Q", reason="r", raw={})], payments=[payment(cid, "P1")], state={"s": 1}),
        )
        store.journal_begin(action(cid, f"key-{cid}"))
        store.record_block(cid, "D1", "over limit", date(2025, 3, 1))
        store.add_dispute(cid, "I1", date(2025, 3, 1), "wrong price")
        store.add_payment_plan(cid, "D1", ["I1"], date(2025, 3, 1), date(2025, 6, 1))
        store.run_finished(store.run_started(cid, "sync"), "ok", {})
        Desk(store).take_snapshot(cid, date(2030, 1, 1), datetime.now(UTC))

    store.remove_connection("c1")

    with store.engine.connect() as conn:
        for table in t.CONNECTION_TABLES:
            by_connection: dict[str, int] = dict(conn.execute(sa.select(table.c.connection_id, sa.func.count()).group_by(table.c.connection_id)).all())
            # Issue 11.2: what arconnect did (journal, its blocks, its runs) is archived, not deleted.
            assert by_connection == ({"c1": 1, "c2": 1} if table in t.JOURNAL_TABLES else {"c2": 1}), table.name
        assert conn.execute(sa.select(t.connections.c.id)).scalars().all() == ["c2"]
    assert store.archived_journals() == {"c1": 1}
    assert store.journal_entry("key-c1") is not None

    assert store.purge_journal("c1") == 1
    with store.engine.connect() as conn:
        for table in t.CONNECTION_TABLES:
            by_connection = dict(conn.execute(sa.select(table.c.connection_id, sa.func.count()).group_by(table.c.connection_id)).all())
            assert by_connection == {"c2": 1}, table.name
    assert store.counts("c1") == dict.fromkeys(store.counts("c1"), 0)
    with pytest.raises(ValueError, match="still in the store"):
        store.purge_journal("c2")


def test_ensure_connection_creates_once_and_renames(store: Store) -> None:
    store.ensure_connection("c1", "exact", "Old name")
    store.ensure_connection("c1", "exact", "New name")
    assert store.connections() == [("c1", "exact", "New name")]


def test_twenty_thousand_items_stream_through_one_connection_in_order(store: Store) -> None:
    ids = [f"I{n:06d}" for n in range(20_000)]
    template = item("c1", "x")
    for start in range(0, len(ids), 5_000):
        records = [template.model_copy(update={"source_id": source_id}) for source_id in ids[start : start + 5_000]]
        store.save_page("c1", "open_items", page(records))

    iterator = store.open_items("c1")
    first = next(iterator)
    assert first.source_id == "I000000"
    assert store.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    rest = [i.source_id for i in iterator]
    assert [first.source_id, *rest] == ids
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]

    abandoned = store.open_items("c1")
    next(abandoned)
    abandoned.close()
    assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
