"""The sync engine: adapter pages → store → bookmark (docs/architecture.md §3, §9).

For each stream the engine reads the stored bookmark, asks the adapter for pages since then, and
stores each page **with** its bookmark in one transaction (``Store.save_page``). A crash loses at
most the page in hand, and the next run resumes after the last stored page; re-running a page is
harmless because every write is an upsert. Records that did not map arrive quarantined in the page
and are stored with their reason, while the sync goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from connector.model import ConnectionStream, Page
from connector.ports import Adapter
from connector.store.rows import SaveResult

STREAMS: tuple[ConnectionStream, ...] = ("debtors", "open_items", "payments")


class PageStore(Protocol):
    """What the engine needs of the store."""

    def bookmark(self, connection_id: str, stream: str) -> str | None: ...

    def save_page(self, connection_id: str, stream: ConnectionStream, page: Page[Any]) -> SaveResult: ...

    def get_state(self, connection_id: str, keys: Iterable[str]) -> dict[str, Any]: ...

    def set_state(self, connection_id: str, state: dict[str, Any]) -> None: ...

    def quarantined_since(self, connection_id: str, stream: str, after: datetime | None) -> int: ...


def full_read_key(stream: str) -> str:
    """The connection-state key holding when ``stream`` was last read from the start."""
    return f"arconnect:full-read:{stream}"


@dataclass
class StreamReport:
    pages: int = 0
    stored: int = 0
    quarantined: int = 0
    deleted: int = 0
    payments: int = 0


@dataclass
class SyncReport:
    connection_id: str
    streams: dict[str, StreamReport] = field(default_factory=dict)

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.streams.values())

    @property
    def stored(self) -> int:
        return sum(s.stored for s in self.streams.values())

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, report in self.streams.items():
            out[f"{name}.stored"] = report.stored
            out[f"{name}.quarantined"] = report.quarantined
            out[f"{name}.deleted"] = report.deleted
            out[f"{name}.pages"] = report.pages
        return out


Progress = Callable[[str, StreamReport], None]


def sync_connection(
    adapter: Adapter,
    store: PageStore,
    connection_id: str,
    *,
    streams: Iterable[ConnectionStream] = STREAMS,
    progress: Progress | None = None,
    full: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncReport:
    """Bring the store up to date with the package for one connection.

    A stream is read from the start (``since=None``: every record again, upserted, nothing
    duplicated) when ``full`` asks for a reconcile (``arconnect sync --full``) or when a record of it
    was quarantined after its last full read (issue 11.6): a bookmark moves past a record that did
    not map, so an incremental read would never fetch it again once the package fixes it. Each
    new quarantine costs one full read; a record that still does not map stays quarantined. An
    adapter that fetches its quarantined records again by itself (it says so with a true class
    attribute ``refetches_quarantined``, see :mod:`connector.ports`) is read incrementally.
    """
    report = SyncReport(connection_id)
    for stream in streams:
        stream_report = report.streams.setdefault(stream, StreamReport())
        key = full_read_key(stream)
        last_full_raw = store.get_state(connection_id, [key]).get(key)
        last_full = datetime.fromisoformat(last_full_raw) if isinstance(last_full_raw, str) else None
        from_start = full or (
            not getattr(adapter, "refetches_quarantined", False)
            and store.quarantined_since(connection_id, stream, last_full) > 0
        )
        started = clock()
        since = None if from_start else store.bookmark(connection_id, stream)
        pages = getattr(adapter, stream)(since)
        for page in pages:
            for other, records in page.records_elsewhere.items():
                if records:
                    store.save_page(connection_id, other, Page(records=list(records)))
                    report.streams.setdefault(other, StreamReport()).stored += len(records)
            for other, ids in page.deleted_elsewhere.items():
                if ids:
                    store.save_page(connection_id, other, Page(deleted=list(ids)))
                    report.streams.setdefault(other, StreamReport()).deleted += len(ids)
            saved = store.save_page(connection_id, stream, page)
            stream_report.pages += 1
            # What the store kept, not what the page carried: a record it refused is quarantined.
            stream_report.stored += saved.stored
            stream_report.quarantined += saved.quarantined
            stream_report.deleted += len(page.deleted)
            stream_report.payments += saved.payments
            if progress is not None:
                progress(stream, stream_report)
        if since is None:
            store.set_state(connection_id, {key: started.isoformat()})
    return report
