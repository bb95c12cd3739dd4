"""The sync engine counts what the store kept (issue 11.6) and reads a stream again after a quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connector.model import Debtor, Page, Quarantined
from connector.store import Store
from connector.sync import sync_connection

C = "c1"


class Feed:
    """An adapter with one debtor page: what it was asked since, and what it hands out."""

    def __init__(self, pages: list[Page[Any]]) -> None:
        self.pages = pages
        self.asked: list[str | None] = []

    def debtors(self, since: str | None) -> Iterator[Page[Debtor]]:
        self.asked.append(since)
        yield from self.pages

    def open_items(self, since: str | None) -> Iterator[Page[Any]]:
        return iter(())

    def payments(self, since: str | None) -> Iterator[Page[Any]]:
        return iter(())


def make_store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    store.migrate()
    store.ensure_connection(C, "exact", "Test")
    return store


def test_a_record_the_store_refuses_is_counted_as_quarantined_not_stored(tmp_path: Path) -> None:
    good = Debtor(connection_id=C, source_id="d1", name="Goed B.V.")
    unstorable = Debtor(connection_id=C, source_id="d2", name="Nul\x00 B.V.")  # no database stores NUL
    with make_store(tmp_path) as store:
        report = sync_connection(Feed([Page[Debtor](records=[good, unstorable], bookmark="b1")]), store, C,  # type: ignore[arg-type]
                                 streams=["debtors"])
        assert (report.stored, report.quarantined) == (1, 1)
        assert [q.source_id for q in store.quarantine(C)] == ["d2"]


def test_a_stream_is_read_from_the_start_once_after_a_new_quarantine(tmp_path: Path) -> None:
    bad = Quarantined(stream="debtors", source_id="d9", reason="no name", raw={"ID": "d9"})
    with make_store(tmp_path) as store:
        feed = Feed([Page[Debtor](quarantined=[bad], bookmark="b1")])
        sync_connection(feed, store, C, streams=["debtors"])  # type: ignore[arg-type]
        sync_connection(feed, store, C, streams=["debtors"])  # type: ignore[arg-type]  # re-reads: d9 was quarantined
        sync_connection(feed, store, C, streams=["debtors"])  # type: ignore[arg-type]  # d9 still bad: incremental
        assert feed.asked == [None, None, "b1"]
        sync_connection(feed, store, C, streams=["debtors"], full=True)  # type: ignore[arg-type]
        assert feed.asked[-1] is None
