"""Write-back into the Moneybird sandbox: each planned action kind, read-before-write, and applying
twice posting once (through the adapter alone, and through the journal)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from adapters.moneybird.adapter import MoneybirdAdapter
from connector.actions.writeback import apply_actions
from connector.errors import UnsupportedAction
from connector.model import ActionKind, ApplyOutcome, Money, PlannedAction
from tests.adapters.moneybird.conftest import CONNECTION, NL, Rig

RUN = date(2026, 3, 12)


def late_invoices_of_one_contact(rig: Rig, at_least: int = 2) -> tuple[str, list[str]]:
    by_contact: dict[str, list[str]] = defaultdict(list)
    for ident in rig.sandbox.invoice_ids(NL, states=("late",)):
        by_contact[str(rig.sandbox.invoice(NL, ident)["contact_id"])].append(ident)
    contact, ids = max(by_contact.items(), key=lambda kv: len(kv[1]))
    assert len(ids) >= at_least
    return contact, ids


def action(kind: ActionKind, debtor: str, items: tuple[str, ...] = (), key: str = "k-0001", **extra: Any) -> PlannedAction:
    return PlannedAction(
        idempotency_key=f"{key}-{kind.value}-0123456789abcdef", connection_id=CONNECTION, debtor_source_id=debtor,
        item_source_ids=items, kind=kind, run_date=RUN, reason="14 dagen na vervaldatum", **extra,
    )


def reminder_posts(rig: Rig) -> list[Any]:
    return rig.recorder.posts("send_reminders.json")


LAYOUT = ("contact_id", "workflow_id", "document_style_id", "identity_id")


def layout_of(record: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(record[key]) for key in LAYOUT)


def expected_reminders(rig: Rig, ids: list[str], method: str) -> dict[tuple[str, ...], dict[str, Any]]:
    """The send_reminders entries docs/reference/moneybird.md §7 asks for, worked out from the invoices
    themselves: one per (contact, workflow, document style, identity), keyed by that combination."""
    groups: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for ident in ids:
        groups[layout_of(rig.sandbox.invoice(NL, ident))].add(ident)
    return {key: {**dict(zip(LAYOUT, key, strict=True)), "sales_invoice_ids": members, "delivery_method": method}
            for key, members in groups.items()}


def posted_reminders(body: dict[str, Any]) -> dict[tuple[str, ...], dict[str, Any]]:
    """The entries of one send_reminders body in the same shape (order does not matter to Moneybird)."""
    entries = body["sales_invoice_reminders"]
    posted = {layout_of(e): {**e, "sales_invoice_ids": set(e["sales_invoice_ids"])} for e in entries}
    assert len(posted) == len(entries), "two entries for one combination"
    return posted


@pytest.mark.parametrize(("channel", "method"), [("letter", "Manual"), ("email", "Manual"), ("package", "Email")])
def test_a_reminder_is_one_send_reminders_call_grouped_by_the_invoices_own_ids(rig: Rig, channel: str, method: str) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    expected = expected_reminders(rig, ids, method)
    result = rig.adapter().apply(action(ActionKind.REMINDER, contact, tuple(ids), channel=channel))
    assert result.outcome == ApplyOutcome.DONE
    (body,) = reminder_posts(rig)
    assert posted_reminders(body) == expected
    sent = rig.sandbox.reminders_sent(NL)
    assert sorted(r["sales_invoice_id"] for r in sent) == sorted(ids)
    assert {r["delivery_method"] for r in sent} == {method}
    assert all(rig.sandbox.invoice(NL, i)["state"] == "reminded" for i in ids)


def test_a_reminder_applied_twice_is_sent_once(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    planned = action(ActionKind.REMINDER, contact, tuple(ids), channel="letter")
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.DONE
    again = rig.adapter().apply(planned)  # e.g. after a crash before the journal recorded "done"
    assert again.outcome == ApplyOutcome.ALREADY_TRUE
    assert len(reminder_posts(rig)) == 1
    assert len(rig.sandbox.reminders_sent(NL)) == len(ids)


def test_through_the_journal_a_second_apply_does_not_even_read(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    planned = [action(ActionKind.REMINDER, contact, tuple(ids), channel="letter"),
               action(ActionKind.PAUSE_SOURCE_REMINDERS, contact, tuple(ids))]
    first = apply_actions(planned, rig.store, rig.adapter().apply)
    assert (first.done, first.failed) == (2, 0)
    calls = sum(rig.sandbox.calls.values())
    second = apply_actions(planned, rig.store, rig.adapter().apply)
    assert (second.skipped, second.done) == (2, 0)
    assert sum(rig.sandbox.calls.values()) == calls
    assert len(reminder_posts(rig)) == 1


def test_paid_invoices_are_left_out_of_a_reminder_and_an_all_paid_reminder_fails(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    rig.sandbox.pay(NL, ids[0], rig.sandbox.invoice(NL, ids[0])["total_unpaid"])
    result = rig.adapter().apply(action(ActionKind.REMINDER, contact, tuple(ids), channel="letter"))
    assert result.outcome == ApplyOutcome.DONE and ids[0] in result.reason
    (body,) = reminder_posts(rig)
    assert posted_reminders(body) == expected_reminders(rig, ids[1:], "Manual")
    only_paid = rig.adapter().apply(action(ActionKind.REMINDER, contact, (ids[0],), key="k-0002", channel="letter"))
    assert only_paid.outcome == ApplyOutcome.FAILED
    assert len(reminder_posts(rig)) == 1


def test_pausing_and_resuming_moneybirds_own_reminders_reads_first(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    adapter = rig.adapter()
    assert adapter.apply(action(ActionKind.PAUSE_SOURCE_REMINDERS, contact, tuple(ids))).outcome == ApplyOutcome.DONE
    assert all(rig.sandbox.invoice(NL, i)["paused"] is True for i in ids)
    pauses = rig.calls("sales_invoices/{id}/pause")
    assert adapter.apply(action(ActionKind.PAUSE_SOURCE_REMINDERS, contact, tuple(ids))).outcome == ApplyOutcome.ALREADY_TRUE
    assert rig.calls("sales_invoices/{id}/pause") == pauses
    assert adapter.apply(action(ActionKind.RESUME_SOURCE_REMINDERS, contact, tuple(ids))).outcome == ApplyOutcome.DONE
    assert all(rig.sandbox.invoice(NL, i)["paused"] is False for i in ids)


@pytest.mark.parametrize(
    ("kind", "endpoint", "check"),
    [
        (ActionKind.WRITE_OFF, "sales_invoices/{id}/mark_as_uncollectible",
         lambda inv: inv["state"] == "uncollectible" and inv["marked_uncollectible_on"] == "2026-03-12"),
        (ActionKind.MARK_DOUBTFUL, "sales_invoices/{id}/mark_as_dubious",
         lambda inv: inv["marked_dubious_on"] == "2026-03-12" and inv["state"] == "late"),
    ],
)
def test_write_off_and_doubtful_mark_the_invoice_once(rig: Rig, kind: ActionKind, endpoint: str, check: Any) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    planned = action(kind, contact, (ids[0],))
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.DONE
    assert check(rig.sandbox.invoice(NL, ids[0]))
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.ALREADY_TRUE
    assert rig.calls(endpoint) == 1


def test_a_call_task_is_one_contact_to_do_for_the_assigned_user(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    planned = action(ActionKind.CALL_TASK, contact, tuple(ids), details={"assignee": "debiteuren@example.com"})
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.DONE
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.ALREADY_TRUE
    notes = rig.sandbox.contact(NL, contact)["notes"]
    (note,) = notes
    assert note["todo"] is True
    assert note["assignee_id"] == rig.sandbox.admin(NL).fixed_id(2)  # the user "Debiteurenbeheer"
    assert MoneybirdAdapter.marker(planned) in note["note"]


def test_a_notice_of_default_is_noted_once_on_each_invoice(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    planned = action(ActionKind.NOTICE_OF_DEFAULT, contact, tuple(ids), amount=Money.of("100.00", "EUR"))
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.DONE
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.ALREADY_TRUE
    for ident in ids:
        (note,) = rig.sandbox.notes(NL, ident)
        assert MoneybirdAdapter.marker(planned) in note["note"] and "EUR 100.00" in note["note"]


def blocked_value(rig: Rig, contact: str) -> str | None:
    fields = {f["name"]: f["value"] for f in rig.sandbox.contact(NL, contact)["custom_fields"]}
    return fields.get("Geblokkeerd")


def test_a_block_is_the_named_custom_field_plus_a_note_and_unblock_clears_it(rig: Rig) -> None:
    contact, _ = late_invoices_of_one_contact(rig)
    block = action(ActionKind.BLOCK, contact)
    assert rig.adapter().apply(block).outcome == ApplyOutcome.DONE
    assert blocked_value(rig, contact) == "ja"
    assert rig.adapter().apply(block).outcome == ApplyOutcome.ALREADY_TRUE
    assert len(rig.sandbox.contact(NL, contact)["notes"]) == 1
    assert rig.adapter().apply(action(ActionKind.UNBLOCK, contact)).outcome == ApplyOutcome.DONE
    assert blocked_value(rig, contact) == ""


def test_a_block_the_bookkeeper_set_is_already_true_and_gets_no_note(rig: Rig) -> None:
    contact, _ = late_invoices_of_one_contact(rig)
    field = rig.sandbox.admin(NL).fixed_id(102)
    rig.sandbox.update_contact(NL, contact, custom_fields_attributes={"0": {"id": field, "value": "Ja"}})
    assert rig.adapter().apply(action(ActionKind.BLOCK, contact)).outcome == ApplyOutcome.ALREADY_TRUE
    assert rig.sandbox.contact(NL, contact)["notes"] == []


def test_a_credit_limit_goes_to_its_custom_field_once(rig: Rig) -> None:
    contact, _ = late_invoices_of_one_contact(rig)
    planned = action(ActionKind.SET_CREDIT_LIMIT, contact, credit_limit=Money.of(Decimal("2500.00"), "EUR"))
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.DONE
    fields = {f["name"]: f["value"] for f in rig.sandbox.contact(NL, contact)["custom_fields"]}
    assert fields["Kredietlimiet"] == "2500.00"
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.ALREADY_TRUE
    assert rig.calls("contacts/{id}") == 3  # read, write, read


def test_without_the_custom_field_a_block_is_unsupported_with_a_reason(rig: Rig) -> None:
    contact, _ = late_invoices_of_one_contact(rig)
    adapter = rig.adapter(block_field="Bestaat niet")
    with pytest.raises(UnsupportedAction, match="no block or credit-limit field"):
        adapter.apply(action(ActionKind.BLOCK, contact))
    assert any("custom field" in line for line in adapter.limitations())


def test_the_dispatchers_note_effect_records_a_delivered_step_as_a_manual_reminder_once(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    step = action(ActionKind.FORMAL_NOTICE, contact, tuple(ids), channel="email")
    note = step.model_copy(update={"idempotency_key": f"{step.idempotency_key}#note",
                                   "details": {"effect": "note", "parent_key": step.idempotency_key}})
    assert rig.adapter().apply(note).outcome == ApplyOutcome.DONE
    assert {r["delivery_method"] for r in rig.sandbox.reminders_sent(NL)} == {"Manual"}
    assert rig.adapter().apply(note).outcome == ApplyOutcome.ALREADY_TRUE
    assert len(reminder_posts(rig)) == 1


def test_a_package_reminder_and_its_note_effect_send_one_email_reminder(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    step = action(ActionKind.REMINDER, contact, tuple(ids), channel="package")
    note = step.model_copy(update={"idempotency_key": f"{step.idempotency_key}#note", "details": {"effect": "note"}})
    assert rig.adapter().apply(step).outcome == ApplyOutcome.DONE
    assert rig.adapter().apply(note).outcome == ApplyOutcome.ALREADY_TRUE
    assert [r["delivery_method"] for r in rig.sandbox.reminders_sent(NL)] == ["Email"] * len(ids)


def test_effects_of_one_step_get_different_write_once_markers() -> None:
    step = action(ActionKind.CALL_TASK, "1")
    task = step.model_copy(update={"idempotency_key": f"{step.idempotency_key}#task"})
    note = step.model_copy(update={"idempotency_key": f"{step.idempotency_key}#note"})
    assert len({MoneybirdAdapter.marker(a) for a in (step, task, note)}) == 3


def test_a_5xx_on_send_reminders_is_not_retried_blindly_and_the_next_run_sends_once(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    planned = action(ActionKind.REMINDER, contact, tuple(ids), channel="letter")
    rig.sandbox.faults.fail(503, endpoint="sales_invoices/send_reminders")
    first = apply_actions([planned], rig.store, rig.adapter().apply)
    assert first.failed == 1 and rig.calls("sales_invoices/send_reminders") == 1
    second = apply_actions([planned], rig.store, rig.adapter().apply)
    assert second.done == 1 and rig.calls("sales_invoices/send_reminders") == 2
    assert len(rig.sandbox.reminders_sent(NL)) == len(ids)


def test_a_429_on_a_note_is_retried_after_the_reset_and_reads_are_retried_on_5xx(rig: Rig) -> None:
    contact, ids = late_invoices_of_one_contact(rig)
    rig.sandbox.faults.fail(503, endpoint="sales_invoices/synchronization")
    rig.sandbox.faults.fail(429, endpoint="sales_invoices/{id}/notes")
    planned = action(ActionKind.NOTICE_OF_DEFAULT, contact, (ids[0],))
    assert rig.adapter().apply(planned).outcome == ApplyOutcome.DONE
    assert rig.calls("sales_invoices/synchronization") == 2 and rig.calls("sales_invoices/{id}/notes") == 2
    assert len(rig.sandbox.notes(NL, ids[0])) == 1
