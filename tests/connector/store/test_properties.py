"""Invariant: the store's final state depends only on the last version of each record."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.model import ItemStatus, Money, OpenItem
from connector.store import Store
from tests.connector.store.builders import page

IDS = ["I1", "I2", "I3", "I4"]
#: Text a database can store (NUL and lone surrogates send a record to quarantine; test_records covers that).
TEXT = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
amounts = st.decimals(min_value=Decimal("-99999.9999"), max_value=Decimal("99999.9999"), places=4)
#: One version of an item: (open amount, status, document number); None means "deleted".
versions = st.one_of(st.none(), st.tuples(amounts, st.sampled_from(list(ItemStatus)), st.text(TEXT, max_size=8)))
#: A page: each id at most once, with a version or a deletion, and maybe a bookmark.
pages = st.tuples(st.dictionaries(st.sampled_from(IDS), versions, max_size=4), st.one_of(st.none(), st.text(TEXT, min_size=1, max_size=6)))


def build(connection_id: str, source_id: str, version: tuple[Decimal, ItemStatus, str]) -> OpenItem:
    amount, status, number = version
    return OpenItem(
        connection_id=connection_id,
        source_id=source_id,
        debtor_source_id="D1",
        document_number=number,
        invoice_date=date(2025, 1, 1),
        original=Money(amount=amount, currency="EUR"),
        open=Money(amount=amount, currency="EUR"),
        original_base=Money(amount=amount, currency="EUR"),
        open_base=Money(amount=amount, currency="EUR"),
        status=status,
        closed_on=None if status in (ItemStatus.OPEN, ItemStatus.DISPUTED) else date(2025, 2, 1),
    )


def snapshot(store: Store, connection_id: str) -> Any:
    items = [i.model_dump(exclude={"connection_id"}) for i in store.open_items(connection_id, include_closed=True)]
    counts = store.counts(connection_id)
    return items, counts["open_items"], counts["open"], store.bookmark(connection_id, "open_items")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(pages, min_size=1, max_size=5))
def test_any_sequence_of_pages_ends_as_the_last_version_of_each_record(
    store: Store, history: list[tuple[dict[str, Any], str | None]]
) -> None:
    incremental, direct = f"inc-{uuid.uuid4().hex}", f"direct-{uuid.uuid4().hex}"
    last: dict[str, Any] = {}
    bookmark = None
    for changes, page_bookmark in history:
        records = [build(incremental, sid, v) for sid, v in changes.items() if v is not None]
        deleted = [sid for sid, v in changes.items() if v is None]
        store.save_page(incremental, "open_items", page(records, deleted=deleted, bookmark=page_bookmark))
        last.update(changes)
        bookmark = page_bookmark if page_bookmark is not None else bookmark

    final = [build(direct, sid, v) for sid, v in sorted(last.items()) if v is not None]
    store.save_page(direct, "open_items", page(final, bookmark=bookmark))

    assert snapshot(store, incremental) == snapshot(store, direct)
