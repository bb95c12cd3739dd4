"""The contract every adapter meets against its sandbox: link, full sync, incremental sync,
deletions, quarantine. Run over every package in ``HARNESSES``."""

from __future__ import annotations

import pytest

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
