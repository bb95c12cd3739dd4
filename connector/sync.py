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
from typing import Any, Protocol

from connector.model import ConnectionStream, Page
from connector.ports import Adapter

STREAMS: tuple[ConnectionStream, ...] = ("debtors", "open_items", "payments")


class PageStore(Protocol):
    """What the engine needs of the store."""

    def bookmark(self, connection_id: str, stream: str) -> str | None: ...

    def save_page(self, connection_id: str, stream: ConnectionStream, page: Page[Any]) -> Any: ...


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
) -> SyncReport:
    """Bring the store up to date with the package for one connection."""
    report = SyncReport(connection_id)
    for stream in streams:
        stream_report = report.streams.setdefault(stream, StreamReport())
        since = store.bookmark(connection_id, stream)
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
            store.save_page(connection_id, stream, page)
            stream_report.pages += 1
            stream_report.stored += len(page.records)
            stream_report.quarantined += len(page.quarantined)
            stream_report.deleted += len(page.deleted)
            stream_report.payments += len(page.payments)
            if progress is not None:
                progress(stream, stream_report)
    return report
