"""The Exact sync under the sandbox's faults: a 429 storm, a refusal with a Reason header, a dropped
connection (docs/reference/exact.md §2.8, §8; docs/architecture.md §9 "retries only for transient errors")."""

from __future__ import annotations

import pytest

from connector.errors import ApiError

from .conftest import DIVISION, Rig, assert_store_equals_truth


def test_a_429_storm_is_waited_out_and_the_sync_completes(rig: Rig) -> None:
    rig.app.faults.fail(429, endpoint="sync/Cashflow/PaymentTerms", times=3)
    rig.sync()
    assert rig.api.stats.rate_limited == 3
    assert rig.app.count("sync/Cashflow/PaymentTerms") == 2 + 3  # two pages, three refused tries
    assert_store_equals_truth(rig)


def test_a_refusal_is_one_clear_error_naming_the_reason_and_is_not_retried(rig: Rig) -> None:
    rig.app.refuse("DivisionBlocked", division=DIVISION)
    with pytest.raises(ApiError) as refused:
        rig.sync()
    assert refused.value.status == 403
    assert "DivisionBlocked" in str(refused.value) and "\n" not in str(refused.value)
    assert rig.app.count("system/Divisions") == 1 and rig.api.stats.calls == 1  # never retried (§2.8 error budget)
    assert rig.store.bookmark("exact-101", "debtors") is None


def test_a_dropped_connection_mid_feed_is_retried_and_nothing_is_lost(rig: Rig) -> None:
    rig.app.faults.drop(endpoint="sync/Cashflow/PaymentTerms")
    rig.sync()
    assert rig.api.stats.retries == 1
    assert_store_equals_truth(rig)
