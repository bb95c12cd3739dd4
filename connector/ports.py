"""The adapter protocol every package implements (docs/architecture.md §5).

Small and capability-based. An adapter is built for one **connection** (one administration of
one package) with an authenticated HTTP client; it never touches the store. Streams yield
:class:`~connector.model.Page` objects, each with the bookmark to persist after that page, so the
sync engine can commit a page and its bookmark in one transaction and a crash resumes from the
last stored page. Bookmarks are opaque strings that only the adapter interprets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

from connector.model import (
    Administration,
    ApplyResult,
    Debtor,
    OpenItem,
    Page,
    Payment,
    PlannedAction,
    StepRecord,
)


class Capability(StrEnum):
    """What a package lets us do through its API."""

    BLOCK_DEBTOR = "block_debtor"
    SET_CREDIT_LIMIT = "set_credit_limit"
    SEND_REMINDER = "send_reminder"
    PAUSE_SOURCE_REMINDERS = "pause_source_reminders"
    ADD_NOTE = "add_note"
    ADD_TASK = "add_task"
    ADD_DOCUMENT = "add_document"
    MARK_UNCOLLECTIBLE = "mark_uncollectible"
    MARK_DOUBTFUL = "mark_doubtful"
    READ_DUNNING_LEVEL = "read_dunning_level"


class StateReader(Protocol):
    """Read access to an adapter's own working state for its connection (see ``Page.state``).

    Writes go with the page they belong to, so state and data never disagree after a crash.
    """

    def get_state(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored values of those keys that exist."""
        ...


class NoState:
    """A StateReader with nothing stored (tests, first runs)."""

    def get_state(self, keys: Iterable[str]) -> dict[str, Any]:
        return {}


@runtime_checkable
class Adapter(Protocol):
    """One connection's view of its accounting package."""

    package: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    # Optional: ``refetches_quarantined: ClassVar[bool] = True`` on an adapter whose incremental read
    # fetches a record it could not map again by itself (Moneybird: its version is not stored), so the
    # sync engine need not read the stream from the start after a quarantine (connector.sync).
    #: The key the rate limiter counts under (Exact: division, Twinfield: organisation,
    #: Moneybird: token). Adapters sharing a key share one budget.
    rate_limit_key: str

    def administrations(self) -> list[Administration]:
        """Administrations the grant reaches; used when linking."""
        ...

    def debtors(self, since: str | None) -> Iterator[Page[Debtor]]:
        """Debtors changed since the bookmark (all of them when ``since`` is None)."""
        ...

    def open_items(self, since: str | None) -> Iterator[Page[OpenItem]]:
        """Open items changed since the bookmark, including items that stopped being open."""
        ...

    def payments(self, since: str | None) -> Iterator[Page[Payment]]:
        """Payments received since the bookmark."""
        ...

    def apply(self, action: PlannedAction) -> ApplyResult:
        """Carry out one planned action; reads remote state first and skips what is already true."""
        ...

    def on_remove(self) -> None:
        """Called when the connection is removed (e.g. deactivate an integration)."""
        ...

    def markers(self) -> list[StepRecord]:
        """Every arconnect step the package itself keeps a record of (the notes that carry an
        action key and a :data:`~connector.model.STEP_RECORD_PREFIX` line), for rebuilding a lost
        journal (``arconnect journal rebuild``). Read only; an unreadable note is skipped."""
        ...
