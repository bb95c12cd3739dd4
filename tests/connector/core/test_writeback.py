"""Apply: journal before effect, once per idempotency key, blocks recorded only when ours."""

from dataclasses import dataclass
from datetime import date

import pytest

from connector.actions.writeback import apply_actions
from connector.errors import ReauthRequired, ServiceUnavailable, UnsupportedAction
from connector.model import ActionKind, ApplyOutcome, ApplyResult, PlannedAction


@dataclass
class Entry:
    state: str


class MemoryJournal:
    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.events: list[str] = []
        self.blocks: set[str] = set()

    def journal_begin(self, action: PlannedAction) -> tuple[Entry, bool]:
        self.events.append(f"begin {action.idempotency_key}")
        if action.idempotency_key in self.entries:
            return self.entries[action.idempotency_key], False
        entry = self.entries[action.idempotency_key] = Entry("pending")
        return entry, True

    def journal_finish(self, key: str, result: ApplyResult) -> Entry:
        self.events.append(f"finish {key} {result.outcome}")
        self.entries[key] = Entry(result.outcome.value)
        return self.entries[key]

    def record_block(self, connection_id: str, debtor_source_id: str, reason: str, since: date) -> None:
        self.blocks.add(debtor_source_id)

    def lift_block(self, connection_id: str, debtor_source_id: str, on: date) -> None:
        self.blocks.discard(debtor_source_id)


def action(key: str, kind: ActionKind = ActionKind.REMINDER, debtor: str = "d1") -> PlannedAction:
    return PlannedAction(idempotency_key=key, connection_id="c", debtor_source_id=debtor, kind=kind, run_date=date(2026, 11, 24), reason="test")


def test_each_action_is_journaled_before_it_runs_and_finished_after() -> None:
    journal = MemoryJournal()

    def applier(a: PlannedAction) -> ApplyResult:
        journal.events.append(f"effect {a.idempotency_key}")
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference="note-1")

    report = apply_actions([action("k1")], journal, applier)
    assert journal.events == ["begin k1", "effect k1", "finish k1 done"]
    assert report.done == 1


def test_applying_twice_has_the_effect_of_applying_once() -> None:
    journal = MemoryJournal()
    effects: list[str] = []

    def applier(a: PlannedAction) -> ApplyResult:
        effects.append(a.idempotency_key)
        return ApplyResult(outcome=ApplyOutcome.DONE)

    apply_actions([action("k1"), action("k2")], journal, applier)
    second = apply_actions([action("k1"), action("k2")], journal, applier)
    assert effects == ["k1", "k2"]
    assert second.skipped == 2 and second.done == 0


def test_a_transient_failure_is_journaled_as_failed_and_retried_next_run() -> None:
    journal = MemoryJournal()
    attempts: list[int] = []

    def applier(a: PlannedAction) -> ApplyResult:
        attempts.append(1)
        if len(attempts) == 1:
            raise ServiceUnavailable("503")
        return ApplyResult(outcome=ApplyOutcome.DONE)

    first = apply_actions([action("k1")], journal, applier)
    assert first.failed == 1 and journal.entries["k1"].state == "failed"
    second = apply_actions([action("k1")], journal, applier)
    assert second.done == 1 and journal.entries["k1"].state == "done"


def test_unsupported_actions_are_journaled_with_their_reason() -> None:
    journal = MemoryJournal()

    def applier(a: PlannedAction) -> ApplyResult:
        raise UnsupportedAction("Moneybird contacts have no block field")

    report = apply_actions([action("k1", ActionKind.BLOCK)], journal, applier)
    assert report.unsupported == 1
    assert journal.blocks == set()


def test_a_relink_stops_the_run() -> None:
    journal = MemoryJournal()

    def applier(a: PlannedAction) -> ApplyResult:
        raise ReauthRequired("re-link")

    with pytest.raises(ReauthRequired):
        apply_actions([action("k1"), action("k2")], journal, applier)
    assert "begin k2" not in journal.events


def test_a_block_that_was_already_there_is_the_bookkeepers_and_is_not_recorded_as_ours() -> None:
    journal = MemoryJournal()
    apply_actions([action("b1", ActionKind.BLOCK)], journal, lambda a: ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE))
    assert journal.blocks == set()
    apply_actions([action("b2", ActionKind.BLOCK, debtor="d2")], journal, lambda a: ApplyResult(outcome=ApplyOutcome.DONE))
    assert journal.blocks == {"d2"}


def test_a_block_found_set_after_a_crash_of_our_own_run_is_ours() -> None:
    journal = MemoryJournal()
    journal.entries["b1"] = Entry("pending")  # a run crashed between effect and journal
    apply_actions([action("b1", ActionKind.BLOCK)], journal, lambda a: ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE))
    assert journal.blocks == {"d1"}
