"""Rebuilding a lost journal from the package's own records (issue 11.2, ``arconnect journal rebuild``).

The journal is what stops arconnect taking a step twice. It can be lost: a deleted or reset database,
a new machine, a connection removed and linked again with its archive purged. The package still
keeps a note of every step arconnect took (see :mod:`connector.actions.dispatch`: the record is
written before the message leaves), each carrying a step record
(:data:`connector.model.STEP_RECORD_PREFIX`). :meth:`connector.ports.Adapter.markers` reads them
back; they go into the journal as ``done``, so the planner sees the steps again and goes on from
there instead of starting every debtor over at the first reminder.

A connection whose journal is empty and has never been checked against its package is *unchecked*:
``apply`` rebuilds it first and refuses to act when that fails. Once checked (even when the package
carried no records), the store remembers it in the connection's state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connector.ports import Adapter
from connector.store import Store

#: The connection-state key that says the journal was checked against the package's records.
CHECKED_KEY = "arconnect:journal-checked"
REBUILT_REASON = "rebuilt from the package's own record of this step"


def needs_rebuild(store: Store, connection_id: str) -> bool:
    """True for a journal that is empty and was never checked against the package."""
    if store.get_state(connection_id, [CHECKED_KEY]):
        return False
    return not store.has_journal(connection_id)


def mark_checked(store: Store, connection_id: str) -> None:
    store.set_state(connection_id, {CHECKED_KEY: datetime.now(UTC).isoformat(timespec="seconds")})


def rebuild_journal(store: Store, connection_id: str, adapter: Adapter) -> int:
    """Read the package's step records into the journal; the entries added (known keys stay as they are)."""
    records = [r for r in adapter.markers() if r.key]
    added = store.journal_restore(connection_id, records, REBUILT_REASON)
    mark_checked(store, connection_id)
    return added
