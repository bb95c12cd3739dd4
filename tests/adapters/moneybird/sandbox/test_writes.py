"""Write-back: payments, notes and to-dos, send_reminders, pause/resume, mark_as_* (reference §6, §7, §8)."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.moneybird.sandbox import MoneybirdSandbox
from tests.adapters.moneybird.sandbox.conftest import API, NL, TODAY


def _late_invoice(api: httpx.Client) -> dict[str, Any]:
    ids = [r["id"] for r in api.get(f"{API}/sales_invoices/synchronization.json",
                                    params={"filter": "state:late"}).json()]
    invoices: list[dict[str, Any]] = api.post(f"{API}/sales_invoices/synchronization.json",
                                              json={"ids": ids[:100]}).json()
    return next(i for i in invoices if not i["paused"] and i["currency"] == "EUR")


def _reminder(invoice: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"sales_invoice_reminders": [{
        "contact_id": invoice["contact_id"], "workflow_id": invoice["workflow_id"],
        "document_style_id": invoice["document_style_id"], "identity_id": invoice["identity_id"],
        "sales_invoice_ids": [invoice["id"]], **extra}]}


def test_partial_then_full_payment(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    new = sandbox.add_invoice(NL, amount="363.00")
    created = api.post(f"{API}/sales_invoices/{new}/payments.json",
                       json={"payment": {"payment_date": "2026-03-12", "price": "100,50"}})
    assert created.status_code == 201
    assert (created.json()["price"], created.json()["invoice_id"]) == ("100.5", new)
    mid = api.get(f"{API}/sales_invoices/{new}.json").json()
    assert (mid["state"], mid["total_paid"], mid["total_unpaid"]) == ("open", "100.5", "262.5")
    assert api.get(f"{API}/payments/{created.json()['id']}.json").json()["price"] == "100.5"
    api.post(f"{API}/sales_invoices/{new}/payments.json", json={"payment": {"payment_date": "2026-03-12",
                                                                            "price": 262.5}})
    done = api.get(f"{API}/sales_invoices/{new}.json").json()
    assert (done["state"], done["total_unpaid"], done["paid_at"]) == ("paid", "0.0", "2026-03-12")
    assert new not in sandbox.open_invoices(NL)


def test_payment_needs_date_and_price(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    new = sandbox.add_invoice(NL)
    response = api.post(f"{API}/sales_invoices/{new}/payments.json", json={"payment": {}})
    assert response.status_code == 422
    assert sorted(response.json()["error"]) == ["payment_date", "price"]


def test_deleting_a_payment_reopens_the_invoice(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    new = sandbox.add_invoice(NL, amount="50.00")
    payment = sandbox.pay(NL, new, "50.00")
    assert api.get(f"{API}/sales_invoices/{new}.json").json()["state"] == "paid"
    assert api.delete(f"{API}/sales_invoices/{new}/payments/{payment}.json").status_code == 204
    assert api.get(f"{API}/sales_invoices/{new}.json").json()["state"] == "open"


def test_note_with_assignee_is_a_todo(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    invoice = _late_invoice(api)
    user = api.get(f"{API}/users.json").json()[1]["id"]
    response = api.post(f"{API}/sales_invoices/{invoice['id']}/notes.json",
                        json={"note": {"note": "Bellen over betaling", "assignee_id": user}})
    assert response.status_code == 201
    note = response.json()
    assert (note["todo"], note["assignee_id"], note["entity_type"], note["entity_id"]) == (
        True, user, "SalesInvoice", invoice["id"])
    assert sandbox.notes(NL, invoice["id"]) == [note]
    assert api.get(f"{API}/sales_invoices/{invoice['id']}.json").json()["notes"] == [note]
    plain = api.post(f"{API}/sales_invoices/{invoice['id']}/notes.json", json={"note": {"note": "Info"}}).json()
    assert plain["todo"] is False
    blank = api.post(f"{API}/sales_invoices/{invoice['id']}/notes.json", json={"note": {"note": ""}})
    assert blank.status_code == 422
    assert api.delete(f"{API}/sales_invoices/{invoice['id']}/notes/{plain['id']}.json").status_code == 204
    assert sandbox.notes(NL, invoice["id"]) == [note]


def test_send_reminders_makes_the_invoice_reminded(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    invoice = _late_invoice(api)
    response = api.post(f"{API}/sales_invoices/send_reminders.json", json=_reminder(invoice, delivery_method="Manual"))
    assert response.status_code == 200
    after = api.get(f"{API}/sales_invoices/{invoice['id']}.json").json()
    assert after["state"] == "reminded"
    assert after["reminder_count"] == invoice["reminder_count"] + 1
    assert after["version"] > invoice["version"]
    assert after["events"][-1]["action"] == "sales_invoice_send_reminder_manually"
    assert sandbox.reminders_sent(NL) == [{"sales_invoice_id": invoice["id"], "contact_id": invoice["contact_id"],
                                           "delivery_method": "Manual", "date": TODAY}]


def test_send_reminders_validates_its_items(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    invoice = _late_invoice(api)
    missing = _reminder(invoice)
    del missing["sales_invoice_reminders"][0]["identity_id"]
    assert api.post(f"{API}/sales_invoices/send_reminders.json", json=missing).status_code == 400
    post = api.post(f"{API}/sales_invoices/send_reminders.json", json=_reminder(invoice, delivery_method="Post"))
    assert post.status_code == 422
    paid = sandbox.add_invoice(NL)
    sandbox.pay(NL, paid, "121.00")
    bad = _reminder({**invoice, "id": paid, "contact_id": api.get(f"{API}/sales_invoices/{paid}.json").json()[
        "contact_id"]})
    assert api.post(f"{API}/sales_invoices/send_reminders.json", json=bad).status_code == 422
    assert sandbox.reminders_sent(NL) == []


def test_pause_and_resume_are_posts_returning_201(api: httpx.Client) -> None:
    invoice = _late_invoice(api)
    paused = api.post(f"{API}/sales_invoices/{invoice['id']}/pause.json", json={})
    assert paused.status_code == 201
    assert paused.json()["paused"] is True
    assert paused.json()["events"][-1]["action"] == "sales_invoice_paused"
    resumed = api.post(f"{API}/sales_invoices/{invoice['id']}/resume.json", json={})
    assert (resumed.status_code, resumed.json()["paused"]) == (201, False)
    assert api.patch(f"{API}/sales_invoices/{invoice['id']}/pause.json", json={}).status_code == 405


def test_mark_as_uncollectible_keeps_total_unpaid(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    invoice = _late_invoice(api)
    response = api.patch(f"{API}/sales_invoices/{invoice['id']}/mark_as_uncollectible.json", json={})
    body = response.json()
    assert response.status_code == 200
    assert (body["state"], body["marked_uncollectible_on"], body["total_unpaid"]) == (
        "uncollectible", "2026-03-12", invoice["total_unpaid"])
    assert invoice["id"] not in sandbox.open_invoices(NL)
    again = api.patch(f"{API}/sales_invoices/{invoice['id']}/mark_as_uncollectible.json", json={})
    assert again.status_code == 400
    assert again.json()["symbolic"] == {"invoice": "not_open"}


def test_mark_as_dubious_sets_the_flag_not_the_state(api: httpx.Client) -> None:
    invoice = _late_invoice(api)
    body = api.patch(f"{API}/sales_invoices/{invoice['id']}/mark_as_dubious.json",
                     json={"dubious_date": "2026-03-10"}).json()
    assert (body["state"], body["marked_dubious_on"]) == (invoice["state"], "2026-03-10")


def test_contact_custom_fields_are_set_by_patch(api: httpx.Client) -> None:
    contact = api.get(f"{API}/contacts/synchronization.json").json()[2]["id"]
    fields = {f["name"]: f["id"] for f in api.get(f"{API}/custom_fields.json").json()}
    response = api.patch(f"{API}/contacts/{contact}.json", json={"contact": {"custom_fields_attributes": {
        "0": {"id": fields["Geblokkeerd"], "value": "ja"}, "1": {"id": fields["Kredietlimiet"], "value": "5000"}}}})
    assert response.status_code == 200
    assert {f["name"]: f["value"] for f in response.json()["custom_fields"]} == {"Geblokkeerd": "ja",
                                                                                 "Kredietlimiet": "5000"}
    unknown = api.patch(f"{API}/contacts/{contact}.json", json={"contact": {"custom_fields_attributes": [
        {"id": "123456", "value": "x"}]}})
    assert unknown.status_code == 404
    assert unknown.json()["symbolic"] == {"custom_fields_attributes": "not_found"}
    trusted = api.patch(f"{API}/contacts/{contact}.json", json={"contact": {"is_trusted": True}})
    assert trusted.status_code == 400
