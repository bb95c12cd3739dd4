"""What the store returns besides the common model: small frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from connector.model import ActionKind, ApplyOutcome, PlannedAction

RunKind = Literal["sync", "plan", "apply"]
PlanKind = Literal["plan", "promise"]


@dataclass(frozen=True)
class SaveResult:
    """What one ``save_page`` did: records upserted, records quarantined, rows newly marked
    deleted, and payments stored from ``Page.payments``."""

    stored: int
    quarantined: int
    deleted: int
    payments: int = 0


@dataclass(frozen=True)
class QuarantineRow:
    """A source record that did not map; seen ``times_seen`` times, first and last when."""

    id: int
    connection_id: str
    stream: str
    source_id: str | None
    reason: str
    raw: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int


@dataclass(frozen=True)
class JournalEntry:
    """One planned action in the write-back journal and how far it got.

    ``reason`` is the outcome's reason (None until finished); why the action was planned is
    ``action.reason``.
    """

    idempotency_key: str
    connection_id: str
    debtor_source_id: str
    item_source_ids: tuple[str, ...]
    kind: ActionKind
    step: str | None
    channel: str | None
    run_date: date
    planned_at: datetime
    state: ApplyOutcome
    attempts: int
    remote_reference: str | None
    reason: str | None
    action: PlannedAction
    updated_at: datetime


@dataclass(frozen=True)
class RunRow:
    id: int
    connection_id: str
    kind: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    counts: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    rate_limited: int = 0
    error: str | None = None
    runner: str | None = None


#: Journal states that mean an effect may have reached the package or a person: a run that holds
#: one of these cannot be undone (``pending``: it may have happened before a crash).
LEFT_THE_BUILDING = (ApplyOutcome.DONE.value, ApplyOutcome.PENDING.value)


@dataclass(frozen=True)
class DunningRun:
    """One apply run of a connection, as its journal entries record it (by run date)."""

    run_date: date
    #: journal state -> number of entries
    states: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def undoable(self) -> bool:
        """Nothing of it was done (or may have been): every entry failed, was unsupported or
        found already true, so forgetting the run changes nothing outside arconnect."""
        return self.total > 0 and not any(self.states.get(state) for state in LEFT_THE_BUILDING)

    def why_not_undoable(self) -> str:
        done = {state: self.states[state] for state in LEFT_THE_BUILDING if self.states.get(state)}
        said = ", ".join(f"{n} {state}" for state, n in done.items())
        return (f"the run of {self.run_date.isoformat()} cannot be undone: {said} "
                "(an effect that may have reached the package or a debtor is never forgotten)")
