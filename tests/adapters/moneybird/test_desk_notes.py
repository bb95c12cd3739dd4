"""The desk's notes in the Moneybird sandbox: a broken promise is noted on each covered invoice,
once, through the journal (docs/reference/moneybird.md §7 notes)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connector.actions.desk import note_action
from connector.actions.writeback import apply_actions
from connector.model import Money
from connector.store import Store
from tests.adapters.moneybird.conftest import CONNECTION, NL, Rig
from tests.adapters.moneybird.test_writeback import late_invoices_of_one_contact


def test_a_desk_note_lands_once_on_each_invoice_it_is_about(rig: Rig, tmp_path: Path) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    note = note_action(CONNECTION, contact, ids, date(2026, 3, 12), "desk-note-key-0001",
                       "Betalingsbelofte / promise to pay niet nagekomen, aanmanen hervat / broken, dunning resumes.",
                       Money.of("250.00", "EUR"))
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        store.migrate()
        first = apply_actions([note], store, rig.adapter().apply)
        second = apply_actions([note], store, rig.adapter().apply)
    assert (first.done, second.skipped) == (1, 1)
    for ident in ids:
        (posted,) = rig.sandbox.notes(NL, ident)
        assert "niet nagekomen" in posted["note"] and "EUR 250.00" in posted["note"]
    # Even without the journal (a crash after the post), the marker keeps it to one note.
    assert rig.adapter().apply(note).outcome.value == "already_true"
