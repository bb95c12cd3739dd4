"""One planned reminder for a contact whose invoices differ in workflow, document style or identity
becomes one ``send_reminders`` entry per distinct combination (issue 5; docs/reference/moneybird.md §7:
"Reminders are grouped by workflow, identity and document style … Take workflow_id,
document_style_id, identity_id from each invoice"), against the in-process sandbox, which refuses
an entry whose invoices do not carry the entry's own three ids."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from adapters.moneybird.sandbox_data import DOCUMENT_STYLES, IDENTITIES, WORKFLOWS
from connector.model import ActionKind, ApplyOutcome, PlannedAction
from tests.adapters.moneybird.conftest import CONNECTION, NL, Rig

RUN = date(2026, 3, 12)


def reminder(debtor: str, items: list[str], channel: str = "letter") -> PlannedAction:
    return PlannedAction(
        idempotency_key="grp-0001-reminder-0123456789abcdef", connection_id=CONNECTION, debtor_source_id=debtor,
        item_source_ids=tuple(items), kind=ActionKind.REMINDER, run_date=RUN, reason="14 dagen na vervaldatum",
        channel=channel,
    )


def contact_with_invoices_on_three_layouts(rig: Rig) -> tuple[str, list[str]]:
    """A contact's late invoices (on whatever layouts the sandbox gave them), plus two late ones added
    on the second workflow and on the second document style with the second identity."""
    by_contact: dict[str, list[str]] = defaultdict(list)
    for ident in rig.sandbox.invoice_ids(NL, states=("late",)):
        by_contact[str(rig.sandbox.invoice(NL, ident)["contact_id"])].append(ident)
    contact, ids = max(by_contact.items(), key=lambda kv: len(kv[1]))
    admin = rig.sandbox.admin(NL)
    day, due = RUN - timedelta(days=60), RUN - timedelta(days=46)
    other_workflow = rig.sandbox.add_invoice(NL, contact_id=contact, invoice_date=day, due_date=due,
                                             workflow_id=admin.fixed_id(WORKFLOWS[1]))
    other_style = rig.sandbox.add_invoice(NL, contact_id=contact, invoice_date=day, due_date=due,
                                          document_style_id=admin.fixed_id(DOCUMENT_STYLES[1]),
                                          identity_id=admin.fixed_id(IDENTITIES[1]))
    rig.recorder.sent.clear()
    return contact, [*ids, other_workflow, other_style]


def layout(invoice: dict[str, Any]) -> tuple[str, str, str, str]:
    return (str(invoice["contact_id"]), str(invoice["workflow_id"]), str(invoice["document_style_id"]),
            str(invoice["identity_id"]))


def test_one_planned_reminder_becomes_one_entry_per_combination_and_is_sent_once(rig: Rig) -> None:
    contact, ids = contact_with_invoices_on_three_layouts(rig)
    before = {i: rig.sandbox.invoice(NL, i) for i in ids}
    expected: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for ident, invoice in before.items():
        expected[layout(invoice)].add(ident)
    assert len(expected) >= 3  # the data this test needs: at least three combinations

    result = rig.adapter().apply(reminder(contact, ids))

    assert result.outcome == ApplyOutcome.DONE
    (body,) = rig.recorder.posts("send_reminders.json")
    entries = body["sales_invoice_reminders"]
    got = {layout(e): set(e["sales_invoice_ids"]) for e in entries}
    assert len(entries) == len(expected) and got == expected
    assert {e["delivery_method"] for e in entries} == {"Manual"}  # channel "letter": arconnect sends it
    sent = Counter(r["sales_invoice_id"] for r in rig.sandbox.reminders_sent(NL))
    assert sent == Counter(ids)  # every invoice reminded exactly once
    after = {i: rig.sandbox.invoice(NL, i) for i in ids}
    assert all(after[i]["state"] == "reminded" for i in ids)
    assert all(after[i]["reminder_count"] == before[i]["reminder_count"] + 1 for i in ids)

    again = rig.adapter().apply(reminder(contact, ids))

    assert again.outcome == ApplyOutcome.ALREADY_TRUE
    assert len(rig.recorder.posts("send_reminders.json")) == 1
    assert Counter(r["sales_invoice_id"] for r in rig.sandbox.reminders_sent(NL)) == Counter(ids)


def test_invoices_sharing_one_combination_stay_one_entry(rig: Rig) -> None:
    contact, ids = contact_with_invoices_on_three_layouts(rig)
    layouts = {i: layout(rig.sandbox.invoice(NL, i)) for i in ids}
    ((common, _),) = Counter(layouts.values()).most_common(1)
    same = [i for i in ids if layouts[i] == common]
    assert 2 <= len(same) < len(ids)

    assert rig.adapter().apply(reminder(contact, same, channel="package")).outcome == ApplyOutcome.DONE

    (body,) = rig.recorder.posts("send_reminders.json")
    (entry,) = body["sales_invoice_reminders"]
    assert layout(entry) == common
    assert (set(entry["sales_invoice_ids"]), entry["delivery_method"]) == (set(same), "Email")
