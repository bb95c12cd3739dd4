"""Write-back: PUT crm/Accounts (§6), POST notes, tasks and documents (§7)."""

from __future__ import annotations

import base64
import re
from decimal import Decimal

import httpx

from adapters.exact.sandbox import ExactSandbox

from .conftest import NL

GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def account_url(account_id: str) -> str:
    return f"/api/v1/{NL}/crm/Accounts(guid'{account_id}')"


def test_put_partial_body_returns_204_and_get_shows_the_change(api: httpx.Client, app: ExactSandbox) -> None:
    account = app.accounts(NL)[0]
    response = api.put(account_url(account["ID"]), json={"Blocked": True, "CreditLineSales": 5000.0})
    assert response.status_code == 204
    assert response.content == b""
    after = api.get(account_url(account["ID"]), params={"$select": "Blocked,CreditLineSales,Name"}).json()["d"]
    assert (after["Blocked"], after["CreditLineSales"], after["Name"]) == (True, 5000.0, account["Name"])
    assert app.accounts(NL)[0]["CreditLineSales"] == Decimal("5000.00")
    assert app.accounts(NL)[0]["Timestamp"] > account["Timestamp"]


def test_put_ignores_read_only_fields_and_refuses_unknown_ones_and_wrong_types(api: httpx.Client, app: ExactSandbox) -> None:
    account = app.accounts(NL)[0]
    assert api.put(account_url(account["ID"]), json={"IsSales": False, "Blocked": False}).status_code == 204
    assert app.accounts(NL)[0]["IsSales"] is True
    unknown = api.put(account_url(account["ID"]), json={"ReminderLevel": 2})
    assert unknown.status_code == 400
    assert "ReminderLevel" in unknown.json()["error"]["message"]["value"]
    assert api.put(account_url(account["ID"]), json={"Blocked": "yes"}).status_code == 400
    assert api.put(account_url("00000000-0000-4000-8000-000000000000"), json={"Blocked": True}).status_code == 404


def test_post_note_returns_201_with_a_new_id(api: httpx.Client, app: ExactSandbox) -> None:
    account = app.accounts(NL)[1]["ID"]
    response = api.post(f"/api/v1/{NL}/activities/CommunicationNotes",
                        json={"Account": account, "Subject": "Herinnering 1 verstuurd", "Notes": "Factuur 20000001"})
    assert response.status_code == 201
    note = response.json()["d"]
    assert GUID_RE.match(note["ID"])
    assert (note["Account"], note["Subject"]) == (account, "Herinnering 1 verstuurd")
    assert response.headers["Location"].endswith(f"CommunicationNotes(guid'{note['ID']}')")
    assert [n["ID"] for n in app.notes(NL)] == [note["ID"]]
    listed = api.get(f"/api/v1/{NL}/activities/CommunicationNotes", params={"$filter": f"Account eq guid'{account}'"})
    assert [n["ID"] for n in listed.json()["d"]["results"]] == [note["ID"]]


def test_tasks_are_write_once(api: httpx.Client, app: ExactSandbox) -> None:
    account = app.accounts(NL)[1]["ID"]
    created = api.post(f"/api/v1/{NL}/activities/Tasks",
                       json={"Account": account, "Description": "Klant bellen", "TaskType": 1,
                             "ActionDate": "2025-03-14T00:00:00"})
    assert created.status_code == 201
    task = created.json()["d"]
    assert task["Status"] == 20
    assert task["ActionDate"] == "/Date(1741910400000)/"
    assert "TaskType" not in task  # write-only
    url = f"/api/v1/{NL}/activities/Tasks(guid'{task['ID']}')"
    assert api.get(url).json()["d"]["Description"] == "Klant bellen"
    assert api.put(url, json={"Description": "x"}).status_code == 405
    assert api.delete(url).status_code == 405
    assert api.post(f"/api/v1/{NL}/activities/Tasks", json={"Account": account}).status_code == 400
    assert len(app.tasks(NL)) == 1


def test_post_for_an_account_of_another_division_is_refused(api: httpx.Client, app: ExactSandbox) -> None:
    foreign = app.accounts(202)[0]["ID"]
    response = api.post(f"/api/v1/{NL}/activities/CommunicationNotes", json={"Account": foreign, "Subject": "x"})
    assert response.status_code == 400
    assert app.notes(NL) == []


def test_document_with_attachment(api: httpx.Client, app: ExactSandbox) -> None:
    account = app.accounts(NL)[2]["ID"]
    document = api.post(f"/api/v1/{NL}/documents/Documents",
                        json={"Subject": "Aanmaning 20000002", "Type": 55, "Account": account})
    assert document.status_code == 201
    document_id = document.json()["d"]["ID"]
    pdf = b"%PDF-1.4 aanmaning"
    attachment = api.post(f"/api/v1/{NL}/documents/DocumentAttachments",
                          json={"Document": document_id, "FileName": "aanmaning.pdf",
                                "Attachment": base64.b64encode(pdf).decode("ascii")})
    assert attachment.status_code == 201
    assert attachment.json()["d"]["FileSize"] == len(pdf)
    assert [d["Subject"] for d in app.documents(NL)] == ["Aanmaning 20000002"]
    bad = api.post(f"/api/v1/{NL}/documents/DocumentAttachments",
                   json={"Document": document_id, "FileName": "x.pdf", "Attachment": "not base64!"})
    assert bad.status_code == 400


def test_put_on_cashflow_receivables_changes_only_the_writable_fields(api: httpx.Client, app: ExactSandbox) -> None:
    term = app.open_terms(NL)[0]
    url = f"/api/v1/{NL}/cashflow/Receivables(guid'{term['ID']}')"
    assert api.put(url, json={"PaymentReference": "RF18539007547034", "AmountDC": 1.0}).status_code == 204
    row = api.get(url, params={"$select": "PaymentReference,AmountDC"}).json()["d"]
    assert row["PaymentReference"] == "RF18539007547034"
    assert Decimal(str(row["AmountDC"])) == term["AmountDC"]
