"""Issue 11.6: quarantine is not a dead end. A record that did not map is read again on the next
sync (the bookmark had moved past it), counted as quarantined and never as stored, and
``sync --full`` reconciles everything."""

from __future__ import annotations

from tests.adapters.exact.conftest import CONNECTION, Rig, assert_store_equals_truth


def test_a_term_quarantined_once_is_fetched_again_on_the_next_sync(rig: Rig) -> None:
    rig.app.faults.malformed(endpoint="sync/Cashflow/PaymentTerms", times=2)
    first = rig.sync()
    assert first.streams["open_items"].quarantined == 1
    assert len(rig.store.quarantine(CONNECTION)) == 1
    assert rig.stored()["items"] != rig.truth()["items"]  # one invoice is missing or incomplete

    rig.sync()  # the package's record is fine now (the fault was one bad read)
    assert rig.store.quarantine(CONNECTION) == []
    assert_store_equals_truth(rig)

    third = rig.sync()  # healed: back to reading only what changed
    assert third.streams["open_items"].stored == 0


def test_a_full_sync_reads_everything_again(rig: Rig) -> None:
    rig.sync()
    assert rig.sync().stored == 0  # nothing changed
    full = rig.sync(full=True)
    assert full.streams["debtors"].stored == len(rig.truth()["debtors"])
    assert_store_equals_truth(rig)
