"""Every response the sandbox serves validates against strict schemas derived from the official spec.

The spec's schemas require nothing, so :mod:`tests.adapters.moneybird.sandbox.strict_schema` derives strict ones
(every listed property, required where all the spec's examples carry it, no extra properties). The
first tests prove the derivation on the spec's own examples; the last calls every served endpoint.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.moneybird.sandbox import MoneybirdSandbox
from tests.adapters.moneybird.sandbox import strict_schema
from tests.adapters.moneybird.sandbox.conftest import API, NL

#: The one spec example that contradicts its own schema (``value_change_plan: null`` typed object).
SPEC_SELF_CONTRADICTIONS = {("GET", "/{administration_id}/assets/{id}{format}", "200")}

INVOICE = "/{administration_id}/sales_invoices/{id}{format}"


def _all_examples() -> list[tuple[str, str, str, Any]]:
    out = []
    for method, path, op in strict_schema.operations():
        for status in op["responses"]:
            for example in strict_schema.response_examples(method, path, status):
                out.append((method, path, status, example))
    return out


def test_the_spec_has_examples_to_derive_from() -> None:
    assert len(_all_examples()) > 500


def test_spec_examples_validate_against_the_derived_strict_schemas() -> None:
    failures = [(m, p, s) for m, p, s, example in _all_examples()
                if (m, p, s) not in SPEC_SELF_CONTRADICTIONS and strict_schema.errors(m, p, s, example)]
    assert failures == []


def test_derived_schemas_are_strict() -> None:
    schema = strict_schema.response_schema("GET", INVOICE, "200")
    invoice = schema["$defs"]["sales_invoice_response"]
    assert invoice["additionalProperties"] is False
    assert {"id", "state", "total_unpaid", "due_date", "version", "payments"} <= set(invoice["required"])
    example = strict_schema.response_examples("GET", INVOICE, "200")[0]
    assert strict_schema.errors("GET", INVOICE, "200", {}) != []
    assert strict_schema.errors("GET", INVOICE, "200", {**example, "extra": 1}) != []
    assert strict_schema.errors("GET", INVOICE, "200", {**example, "state": "overdue"}) != []


def _calls(sandbox: MoneybirdSandbox, api: httpx.Client) -> list[tuple[str, str, str, httpx.Response]]:
    """(method, spec path, expected status, response) for every endpoint the sandbox serves."""
    spec_p = "/{administration_id}"
    inv_ids = [r["id"] for r in api.get(f"{API}/sales_invoices/synchronization.json").json()]
    late = [r["id"] for r in api.get(f"{API}/sales_invoices/synchronization.json",
                                     params={"filter": "state:late"}).json()]
    contact_ids = [r["id"] for r in api.get(f"{API}/contacts/synchronization.json").json()]
    invoice = api.get(f"{API}/sales_invoices/{late[0]}.json").json()
    user = api.get(f"{API}/users.json").json()[1]["id"]
    field = api.get(f"{API}/custom_fields.json").json()[0]["id"]
    workflow = api.get(f"{API}/workflows.json").json()[0]["id"]
    workflow_other = next(w["id"] for w in api.get(f"{API}/workflows.json").json()
                          if w["id"] != invoice["workflow_id"])
    payment = api.post(f"{API}/sales_invoices/{late[1]}/payments.json",
                       json={"payment": {"payment_date": "2026-03-12", "price": "1.00"}})
    calls = [
        ("GET", "/administrations{format}", "200", api.get("/api/v2/administrations.json")),
        ("GET", f"{spec_p}/contacts{{format}}", "200", api.get(f"{API}/contacts.json", params={"per_page": 100})),
        ("GET", f"{spec_p}/contacts/synchronization{{format}}", "200", api.get(f"{API}/contacts/synchronization")),
        ("POST", f"{spec_p}/contacts/synchronization{{format}}", "200",
         api.post(f"{API}/contacts/synchronization.json", json={"ids": contact_ids})),
        ("GET", f"{spec_p}/contacts/{{id}}{{format}}", "200", api.get(f"{API}/contacts/{contact_ids[0]}.json")),
        ("PATCH", f"{spec_p}/contacts/{{id}}{{format}}", "200", api.patch(
            f"{API}/contacts/{contact_ids[1]}.json",
            json={"contact": {"custom_fields_attributes": {"0": {"id": field, "value": "2500"}}}})),
        ("POST", f"{spec_p}/contacts/{{contact_id}}/notes{{format}}", "201",
         api.post(f"{API}/contacts/{contact_ids[0]}/notes.json", json={"note": {"note": "Let op"}})),
        ("GET", f"{spec_p}/sales_invoices{{format}}", "200",
         api.get(f"{API}/sales_invoices.json", params={"filter": "period:20200101..20301231", "per_page": 100})),
        ("GET", f"{spec_p}/sales_invoices/synchronization{{format}}", "200",
         api.get(f"{API}/sales_invoices/synchronization.json")),
        ("POST", f"{spec_p}/sales_invoices/synchronization{{format}}", "200",
         api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": inv_ids[:100]})),
        ("POST", f"{spec_p}/sales_invoices/synchronization{{format}}", "200",
         api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": inv_ids[100:]})),
        ("GET", INVOICE, "200", api.get(f"{API}/sales_invoices/{late[0]}.json")),
        ("POST", f"{spec_p}/sales_invoices/{{sales_invoice_id}}/payments{{format}}", "201", payment),
        ("GET", f"{spec_p}/payments/{{id}}{{format}}", "200", api.get(f"{API}/payments/{payment.json()['id']}.json")),
        ("POST", f"{spec_p}/sales_invoices/{{sales_invoice_id}}/notes{{format}}", "201",
         api.post(f"{API}/sales_invoices/{late[0]}/notes.json",
                  json={"note": {"note": "Bellen", "todo": True, "assignee_id": user}})),
        ("POST", f"{spec_p}/sales_invoices/send_reminders{{format}}", "200",
         api.post(f"{API}/sales_invoices/send_reminders.json", json={"sales_invoice_reminders": [{
             "contact_id": invoice["contact_id"], "workflow_id": invoice["workflow_id"],
             "document_style_id": invoice["document_style_id"], "identity_id": invoice["identity_id"],
             "sales_invoice_ids": [invoice["id"]]}]})),
        ("POST", f"{spec_p}/sales_invoices/{{id}}/pause{{format}}", "201",
         api.post(f"{API}/sales_invoices/{late[2]}/pause.json", json={})),
        ("POST", f"{spec_p}/sales_invoices/{{id}}/resume{{format}}", "201",
         api.post(f"{API}/sales_invoices/{late[2]}/resume.json", json={})),
        ("PATCH", f"{spec_p}/sales_invoices/{{id}}/mark_as_dubious{{format}}", "200",
         api.patch(f"{API}/sales_invoices/{late[3]}/mark_as_dubious.json", json={})),
        ("PATCH", f"{spec_p}/sales_invoices/{{id}}/mark_as_uncollectible{{format}}", "200",
         api.patch(f"{API}/sales_invoices/{late[4]}/mark_as_uncollectible.json", json={})),
        ("GET", f"{spec_p}/custom_fields{{format}}", "200", api.get(f"{API}/custom_fields.json")),
        ("GET", f"{spec_p}/workflows{{format}}", "200", api.get(f"{API}/workflows.json")),
        ("GET", f"{spec_p}/workflows/{{id}}{{format}}", "200", api.get(f"{API}/workflows/{workflow}.json")),
        ("GET", f"{spec_p}/document_styles{{format}}", "200", api.get(f"{API}/document_styles.json")),
        ("GET", f"{spec_p}/identities{{format}}", "200", api.get(f"{API}/identities.json")),
        ("GET", f"{spec_p}/identities/default{{format}}", "200", api.get(f"{API}/identities/default.json")),
        ("GET", f"{spec_p}/users{{format}}", "200", api.get(f"{API}/users.json")),
        # error bodies
        ("GET", INVOICE, "404", api.get(f"{API}/sales_invoices/4.json")),
        ("GET", f"{spec_p}/sales_invoices{{format}}", "400",
         api.get(f"{API}/sales_invoices.json", params={"filter": "period:2024.."})),
        ("GET", f"{spec_p}/sales_invoices/synchronization{{format}}", "400",
         api.get(f"{API}/sales_invoices/synchronization.json", params={"filter": "state:nope"})),
        ("POST", f"{spec_p}/sales_invoices/synchronization{{format}}", "400",
         api.post(f"{API}/sales_invoices/synchronization.json", json={})),
        ("POST", f"{spec_p}/sales_invoices/{{sales_invoice_id}}/payments{{format}}", "422",
         api.post(f"{API}/sales_invoices/{late[0]}/payments.json", json={"payment": {}})),
        ("POST", f"{spec_p}/sales_invoices/{{sales_invoice_id}}/notes{{format}}", "422",
         api.post(f"{API}/sales_invoices/{late[0]}/notes.json", json={"note": {"note": ""}})),
        ("PATCH", f"{spec_p}/sales_invoices/{{id}}/mark_as_uncollectible{{format}}", "400",
         api.patch(f"{API}/sales_invoices/{late[4]}/mark_as_uncollectible.json", json={})),
        ("PATCH", f"{spec_p}/contacts/{{id}}{{format}}", "404", api.patch(
            f"{API}/contacts/{contact_ids[1]}.json",
            json={"contact": {"custom_fields_attributes": [{"id": "1", "value": "x"}]}})),
        ("GET", f"{spec_p}/contacts{{format}}", "400", api.get(f"{API}/contacts.json", params={"per_page": 500})),
        ("POST", f"{spec_p}/sales_invoices/send_reminders{{format}}", "422",
         api.post(f"{API}/sales_invoices/send_reminders.json", json={"sales_invoice_reminders": [{
             "contact_id": invoice["contact_id"], "workflow_id": workflow_other,
             "document_style_id": invoice["document_style_id"], "identity_id": invoice["identity_id"],
             "sales_invoice_ids": [invoice["id"]]}]})),
    ]
    return calls


def test_every_served_endpoint_conforms(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    sandbox.add_invoice(NL, currency="USD")
    problems: dict[str, list[str]] = {}
    for method, path, status, response in _calls(sandbox, api):
        label = f"{method} {path} {status}"
        if str(response.status_code) != status:
            problems[label] = [f"status {response.status_code}: {response.text[:200]}"]
            continue
        found = strict_schema.errors(method, path, status, response.json())
        if found:
            problems[label] = found[:5]
    assert problems == {}


@pytest.mark.parametrize("status", ["401", "403", "404"])
def test_generic_error_bodies_have_the_symbolic_shape(status: str) -> None:
    bodies = {"401": {"error": "No access to sales_invoices"}, "403": {"error": "Administration is suspended"},
              "404": {"error": "record not found", "symbolic": {"id": "not_found"}}}
    schema_path = "/{administration_id}/contacts/{id}{format}" if status == "404" else \
        "/{administration_id}/sepa_credit_transfer{format}"
    method = "GET" if status == "404" else "POST"
    assert strict_schema.errors(method, schema_path, status, bodies[status]) == []
