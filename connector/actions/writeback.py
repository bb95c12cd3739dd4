"""Journaled, idempotent execution of planned actions (docs/architecture.md §3 "apply", §9).

For every planned action, in order:

1. ``journal_begin`` records it under its idempotency key **before** anything is sent. A key
   that is already ``done``/``already_true``/``unsupported`` is skipped: applying twice has the
   effect of applying once.
2. The adapter applies it. Adapters read the remote state first and answer ``already_true``
   when there is nothing to do; write-once records (notes, tasks) carry the idempotency key so
   that a crash between the effect and step 3 is detected on the next try instead of posting
   twice.
3. ``journal_finish`` records the outcome (done, already_true, failed with reason, unsupported
   with reason). Blocks arconnect set are recorded, so it only ever lifts its own.

A transient failure leaves the action ``failed`` for the next run; a re-link stops the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from connector.errors import ArconnectError, ReauthRequired, UnsupportedAction
from connector.model import ActionKind, ApplyOutcome, ApplyResult, PlannedAction


class JournalEntryLike(Protocol):
    @property
    def state(self) -> str: ...


class Journal(Protocol):
    def journal_begin(self, action: PlannedAction) -> tuple[JournalEntryLike, bool]: ...

    def journal_finish(self, key: str, result: ApplyResult) -> object: ...

    def record_block(self, connection_id: str, debtor_source_id: str, reason: str, since: date) -> None: ...

    def lift_block(self, connection_id: str, debtor_source_id: str, on: date) -> None: ...


Applier = Callable[[PlannedAction], ApplyResult]

FINAL_STATES = {ApplyOutcome.DONE.value, ApplyOutcome.ALREADY_TRUE.value, ApplyOutcome.UNSUPPORTED.value}


@dataclass
class ApplyReport:
    done: int = 0
    already_true: int = 0
    skipped: int = 0
    failed: int = 0
    unsupported: int = 0
    results: list[tuple[PlannedAction, ApplyResult | None]] = field(default_factory=list)

    def count(self, outcome: ApplyOutcome) -> None:
        if outcome == ApplyOutcome.DONE:
            self.done += 1
        elif outcome == ApplyOutcome.ALREADY_TRUE:
            self.already_true += 1
        elif outcome == ApplyOutcome.UNSUPPORTED:
            self.unsupported += 1
        else:
            self.failed += 1


def apply_actions(actions: Iterable[PlannedAction], journal: Journal, applier: Applier) -> ApplyReport:
    """Apply each action once, journaled before its effect."""
    report = ApplyReport()
    for action in actions:
        entry, is_new = journal.journal_begin(action)
        resumed_after_crash = not is_new and entry.state == ApplyOutcome.PENDING.value
        if entry.state in FINAL_STATES:
            report.skipped += 1
            report.results.append((action, None))
            continue
        try:
            result = applier(action)
        except ReauthRequired:
            journal.journal_finish(action.idempotency_key, ApplyResult(outcome=ApplyOutcome.FAILED, reason="re-link needed"))
            raise
        except UnsupportedAction as exc:
            result = ApplyResult(outcome=ApplyOutcome.UNSUPPORTED, reason=str(exc))
        except ArconnectError as exc:
            result = ApplyResult(outcome=ApplyOutcome.FAILED, reason=str(exc))
        journal.journal_finish(action.idempotency_key, result)
        # A block is ours when we set it, or when a run of ours crashed after setting it (the
        # journal says pending). A block that was already there when we first tried is the
        # bookkeeper's: it is not recorded, so arconnect will never lift it.
        ours = result.outcome == ApplyOutcome.DONE or (result.outcome == ApplyOutcome.ALREADY_TRUE and resumed_after_crash)
        if action.kind == ActionKind.BLOCK and ours:
            journal.record_block(action.connection_id, action.debtor_source_id, action.reason, action.run_date)
        elif action.kind == ActionKind.UNBLOCK and result.outcome in (ApplyOutcome.DONE, ApplyOutcome.ALREADY_TRUE):
            journal.lift_block(action.connection_id, action.debtor_source_id, action.run_date)
        report.count(result.outcome)
        report.results.append((action, result))
    return report
