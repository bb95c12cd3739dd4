"""The write-back journal, the facts arconnect keeps itself, and runs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from connector.model import ActionKind, ApplyOutcome, ApplyResult
from connector.store import JournalEntry, Store
from tests.connector.store.builders import action, debtor, page


def test_journal_begin_records_a_new_action_as_pending(store: Store) -> None:
    planned = action("c1", "c1:D1:reminder-1:2025-03-03")
    entry, is_new = store.journal_begin(planned)
    assert is_new
    assert entry.state == ApplyOutcome.PENDING and entry.attempts == 1
    assert entry.action == planned
    assert (entry.idempotency_key, entry.connection_id, entry.debtor_source_id) == (planned.idempotency_key, "c1", "D1")
    assert entry.item_source_ids == ("I1", "I2") and entry.kind == ActionKind.REMINDER
    assert (entry.step, entry.channel, entry.run_date) == ("reminder-1", "email", date(2025, 3, 3))
    assert entry.remote_reference is None and entry.reason is None
    assert entry.planned_at.tzinfo is not None
    assert store.journal_entry(planned.idempotency_key) == entry


def test_journal_begin_twice_returns_the_same_entry_and_never_two_rows(store: Store) -> None:
    planned = action("c1", "k1")
    first, first_new = store.journal_begin(planned)
    again, again_new = store.journal_begin(planned)
    assert (first_new, again_new) == (True, False)
    assert again.planned_at == first.planned_at and again.attempts == 2  # a pending action tried again
    assert len(store.journal("c1")) == 1


def test_a_finished_action_is_not_counted_again_but_a_failed_one_is(store: Store) -> None:
    done, failed = action("c1", "done"), action("c1", "failed")
    store.journal_begin(done)
    store.journal_begin(failed)
    store.journal_finish("done", ApplyResult(outcome=ApplyOutcome.DONE, remote_reference="R-1"))
    store.journal_finish("failed", ApplyResult(outcome=ApplyOutcome.FAILED, reason="503 from the package"))

    entry, is_new = store.journal_begin(done)
    assert not is_new and entry.state == ApplyOutcome.DONE and entry.attempts == 1
    entry, is_new = store.journal_begin(failed)
    assert not is_new and entry.state == ApplyOutcome.FAILED and entry.attempts == 2


def test_journal_finish_records_the_outcome(store: Store) -> None:
    store.journal_begin(action("c1", "k1"))
    entry = store.journal_finish("k1", ApplyResult(outcome=ApplyOutcome.DONE, remote_reference="task/42", reason=""))
    assert (entry.state, entry.remote_reference, entry.reason) == (ApplyOutcome.DONE, "task/42", "")
    # a later outcome without a reference keeps the reference already known
    entry = store.journal_finish("k1", ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason="already blocked"))
    assert (entry.state, entry.remote_reference, entry.reason) == (ApplyOutcome.ALREADY_TRUE, "task/42", "already blocked")
    assert store.journal_entry("k1") == entry


def test_journal_finish_refuses_unknown_keys_and_pending(store: Store) -> None:
    with pytest.raises(LookupError):
        store.journal_finish("nope", ApplyResult(outcome=ApplyOutcome.DONE))
    store.journal_begin(action("c1", "k1"))
    with pytest.raises(ValueError):
        store.journal_finish("k1", ApplyResult(outcome=ApplyOutcome.PENDING))
    assert store.journal_entry("missing") is None


def test_the_journal_lists_by_state_and_connection(store: Store) -> None:
    for key in ("a", "b", "c"):
        store.journal_begin(action("c1", key))
    store.journal_begin(action("c2", "other"))
    store.journal_finish("b", ApplyResult(outcome=ApplyOutcome.UNSUPPORTED, reason="no API for it"))
    assert [e.idempotency_key for e in store.journal("c1")] == ["a", "b", "c"]
    assert [e.idempotency_key for e in store.journal("c1", states=[ApplyOutcome.PENDING])] == ["a", "c"]
    assert [e.idempotency_key for e in store.journal("c1", states=["unsupported"])] == ["b"]
    assert [e.idempotency_key for e in store.journal("c2")] == ["other"]


def test_a_key_of_one_connection_is_never_taken_over_by_another(store: Store) -> None:
    store.journal_begin(action("c1", "shared"))
    with pytest.raises(ValueError):
        store.journal_begin(action("c2", "shared"))
    assert store.journal("c2") == []


def test_two_processes_racing_on_one_key_journal_it_once(db_url: str) -> None:
    keys = [f"race-{n}" for n in range(12)]
    with Store(db_url) as setup:
        setup.migrate()
    with Store(db_url) as first, Store(db_url) as second:
        barrier = threading.Barrier(2)

        def begin_all(store: Store) -> list[tuple[JournalEntry, bool]]:
            results = []
            for key in keys:
                barrier.wait(timeout=30)
                results.append(store.journal_begin(action("c1", key)))
            return results

        with ThreadPoolExecutor(max_workers=2) as pool:
            a, b = (f.result() for f in [pool.submit(begin_all, first), pool.submit(begin_all, second)])

        for (entry_a, new_a), (entry_b, new_b) in zip(a, b, strict=True):
            assert new_a != new_b  # exactly one of the two created it
            assert entry_a.idempotency_key == entry_b.idempotency_key
        entries = first.journal("c1")
        assert sorted(e.idempotency_key for e in entries) == sorted(keys)
        assert {e.attempts for e in entries} == {2}


def test_blocks_set_by_arconnect_are_remembered_until_lifted(store: Store) -> None:
    store.record_block("c1", "D1", "exposure EUR 1200 over limit EUR 1000", date(2025, 3, 1))
    store.record_block("c1", "D1", "again", date(2025, 3, 2))  # a block in force stays as it is
    store.record_block("c1", "D2", "over limit", date(2025, 3, 1))
    assert store.blocks_by_us("c1") == {"D1", "D2"}
    assert store.blocks_by_us("c2") == set()
    store.lift_block("c1", "D1", date(2025, 3, 10))
    assert store.blocks_by_us("c1") == {"D2"}
    store.record_block("c1", "D1", "over limit again", date(2025, 4, 1))
    assert store.blocks_by_us("c1") == {"D1", "D2"}


def test_a_block_of_ours_that_a_person_lifted_in_the_package_is_no_longer_ours(store: Store) -> None:
    store.record_block("c1", "D1", "over limit", date(2025, 3, 1))
    store.record_block("c1", "D2", "over limit", date(2025, 3, 1))
    store.save_page("c1", "debtors", page([debtor("c1", "D1", blocked=True), debtor("c1", "D2", blocked=False)]))
    assert store.blocks_by_us("c1") == {"D1"}
    # The bookkeeper blocks D2 again by hand: the sync sees it blocked, but it is not ours to lift.
    store.save_page("c1", "debtors", page([debtor("c1", "D2", blocked=True)]))
    assert store.blocks_by_us("c1") == {"D1"}


def test_disputes_pause_items_until_resolved(store: Store) -> None:
    store.add_dispute("c1", "I1", date(2025, 3, 1), "wrong price")
    store.add_dispute("c1", "I1", date(2025, 3, 5), "still wrong")
    store.add_dispute("c1", "I2", date(2025, 3, 1), "not delivered")
    store.add_dispute("c2", "I3", date(2025, 3, 1), "other administration")
    assert store.disputed_items("c1") == {"I1", "I2"}
    store.resolve_dispute("c1", "I1", date(2025, 3, 20))
    assert store.disputed_items("c1") == {"I2"}
    store.add_dispute("c1", "I1", date(2025, 4, 1), "reopened")
    assert store.disputed_items("c1") == {"I1", "I2"}
    assert store.disputed_items("c2") == {"I3"}


def test_items_are_under_a_plan_from_the_day_it_is_agreed_to_the_day_it_ends(store: Store) -> None:
    store.add_payment_plan("c1", "D1", ["I1", "I2"], date(2025, 3, 1), date(2025, 5, 31))
    store.add_payment_plan("c1", "D2", ["I3"], date(2025, 3, 10), date(2025, 3, 17), kind="promise")
    store.add_payment_plan("c2", "D1", ["I9"], date(2025, 1, 1), date(2025, 12, 31))
    assert store.items_under_plan("c1", date(2025, 2, 28)) == set()
    assert store.items_under_plan("c1", date(2025, 3, 1)) == {"I1", "I2"}
    assert store.items_under_plan("c1", date(2025, 3, 17)) == {"I1", "I2", "I3"}
    assert store.items_under_plan("c1", date(2025, 3, 18)) == {"I1", "I2"}
    assert store.items_under_plan("c1", date(2025, 6, 1)) == set()
    with pytest.raises(ValueError):
        store.add_payment_plan("c1", "D1", [], date(2025, 3, 1), date(2025, 4, 1))
    with pytest.raises(ValueError):
        store.add_payment_plan("c1", "D1", ["I1"], date(2025, 3, 1), date(2025, 2, 1))


def test_runs_are_recorded_newest_first(db_url: str) -> None:
    start = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
    ticks = iter(start + timedelta(minutes=n) for n in range(100))
    with Store(db_url, clock=lambda: next(ticks)) as store:
        store.migrate()
        sync = store.run_started("c1", "sync")
        store.run_finished(sync, "ok", {"open_items.stored": 120, "open_items.quarantined": 1}, api_calls=7, rate_limited=1)
        apply = store.run_started("c1", "apply")
        store.run_finished(apply, "failed", {}, error="re-link needed")
        store.run_started("c2", "plan")

        c1 = store.runs("c1")
        assert [(r.id, r.kind, r.outcome) for r in c1] == [(apply, "apply", "failed"), (sync, "sync", "ok")]
        last_sync = c1[1]
        assert last_sync.counts == {"open_items.stored": 120, "open_items.quarantined": 1}
        assert (last_sync.api_calls, last_sync.rate_limited, last_sync.error) == (7, 1, None)
        assert last_sync.finished_at is not None and last_sync.finished_at - last_sync.started_at == timedelta(minutes=1)
        assert c1[0].error == "re-link needed"
        everything = store.runs()
        assert [r.kind for r in everything] == ["plan", "apply", "sync"]
        assert everything[0].finished_at is None and everything[0].outcome is None
        assert [r.kind for r in store.runs(limit=1)] == ["plan"]
        with pytest.raises(LookupError):
            store.run_finished(9999, "ok", {})
        with pytest.raises(ValueError):
            store.run_started("c1", "dance")
