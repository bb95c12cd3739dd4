"""The contract every adapter meets against its sandbox: link, full sync, incremental sync,
deletions, quarantine, write-back idempotence. Run over every package in ``HARNESSES``."""

from __future__ import annotations

from datetime import date

import pytest

from connector.errors import UnsupportedAction
from connector.model import ActionKind, ApplyOutcome, ApplyResult, ItemKind, PlannedAction
from connector.ports import Adapter, Capability
from tests.contract.harness import Harness


def needs_open_items(harness: Harness) -> None:
    reason = harness.open_items_unavailable
    if reason is not None:
        pytest.skip(reason)


def test_link_connects_every_granted_administration(harness: Harness) -> None:
    connections = harness.link()
    assert len(connections) >= 1
    assert all(c.package == harness.package for c in connections)
    assert len({c.administration for c in connections}) == len(connections)


def test_a_full_sync_stores_exactly_what_the_package_holds(harness: Harness) -> None:
    for connection in harness.link():
        result = harness.sync(connection)
        assert result.error is None
        assert result.quarantined == 0
        stored, truth = harness.stored_truth(connection), harness.truth(connection)
        assert stored.debtor_ids == truth.debtor_ids
        assert stored.open_items == truth.open_items
        if harness.open_items_unavailable is None:
            assert len(truth.open_items) > 10
        else:
            assert stored.open_items == {}


def test_syncing_again_without_changes_changes_nothing(harness: Harness) -> None:
    connection = harness.link()[0]
    harness.sync(connection)
    before = harness.stored_truth(connection)
    again = harness.sync(connection)
    assert again.error is None
    assert harness.stored_truth(connection) == before


def test_an_incremental_sync_picks_up_payments_new_invoices_and_renames_cheaply(harness: Harness) -> None:
    connection = harness.link()[0]
    full = harness.sync(connection)
    harness.change_something(connection)
    incremental = harness.sync(connection)
    assert incremental.error is None
    assert harness.stored_truth(connection) == harness.truth(connection)
    assert 0 < incremental.api_calls < full.api_calls
    assert incremental.stored < full.stored


def test_a_deleted_item_leaves_the_open_items(harness: Harness) -> None:
    needs_open_items(harness)
    connection = harness.link()[0]
    harness.sync(connection)
    deleted = harness.delete_an_item(connection)
    harness.sync(connection)
    stored = harness.stored_truth(connection)
    assert stored == harness.truth(connection)
    if deleted not in harness.truth(connection).open_items:
        assert deleted not in stored.open_items


def test_a_malformed_record_is_quarantined_and_the_sync_goes_on(harness: Harness) -> None:
    connection = harness.link()[0]
    harness.break_next_record()
    result = harness.sync(connection)
    assert result.error is None
    assert result.quarantined == 1
    quarantined = harness.store.quarantine(connection.name)
    assert len(quarantined) == 1 and quarantined[0].reason
    truth = harness.truth(connection)
    stored = harness.stored_truth(connection)
    missing = set(truth.open_items) - set(stored.open_items)
    assert len(missing) <= 1


def applied(adapter: Adapter, action: PlannedAction) -> ApplyResult:
    """The adapter's answer; ``UnsupportedAction`` is read as ``unsupported``, as the write-back journal reads it."""
    try:
        return adapter.apply(action)
    except UnsupportedAction as exc:
        return ApplyResult(outcome=ApplyOutcome.UNSUPPORTED, reason=str(exc))


@pytest.mark.parametrize(("kind", "details", "capability"), [
    (ActionKind.BLOCK, {}, Capability.BLOCK_DEBTOR),
    (ActionKind.REMINDER, {"effect": "note"}, Capability.ADD_NOTE),
])
def test_a_write_back_applied_twice_changes_the_package_once(
    harness: Harness, kind: ActionKind, details: dict[str, str], capability: Capability,
) -> None:
    connection = harness.link()[0]
    harness.sync(connection)
    invoice = next((i for i in harness.store.open_items(connection.name) if i.kind == ItemKind.INVOICE), None)
    debtor = invoice.debtor_source_id if invoice else harness.store.debtors(connection.name)[0].source_id
    action = PlannedAction(
        idempotency_key=f"contract:{kind.value}:{debtor}", connection_id=connection.name, debtor_source_id=debtor,
        item_source_ids=(invoice.source_id,) if invoice else (), kind=kind,
        step="herinnering" if kind == ActionKind.REMINDER else None, run_date=date(2026, 3, 10),
        reason="contract: write-back idempotence", details=details,
    )
    with harness.adapter(connection) as adapter:
        first, second = applied(adapter, action), applied(adapter, action)
        able = capability in adapter.capabilities
    if able:
        assert first.outcome == ApplyOutcome.DONE, first.reason
        assert second.outcome == ApplyOutcome.ALREADY_TRUE, second.reason
    else:
        # An action the package cannot take is refused with a reason, every time, and writes nothing.
        assert (first.outcome, second.outcome) == (ApplyOutcome.UNSUPPORTED, ApplyOutcome.UNSUPPORTED)
        assert first.reason


def test_the_realistic_sandbox_sent_maintenance_pages_and_a_lapsed_token_and_the_sync_survived(harness: Harness) -> None:
    """Issue 16 point 5: with the switch on, the runs above met HTML pages (200 and 503) and a 401 for a lapsed
    access token; they were retried or refreshed, and the store still equals the package."""
    if not getattr(harness, "realistic", False):
        pytest.skip("this harness runs the tidy sandbox")
    connection = harness.link()[0]
    for _ in range(4):
        result = harness.sync(connection)
        assert result.error is None
        assert result.quarantined == 0
    assert harness.stored_truth(connection) == harness.truth(connection)
    sandbox = getattr(harness, "sandbox", None)
    assert sandbox is not None
    assert sandbox.status_counts[503] >= 1
    assert sandbox.status_counts[401] >= 1
