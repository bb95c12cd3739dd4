"""Workflows, document styles and identities, and how send_reminders groups by them.

From the spec (docs/reference/moneybird/openapi.json) and docs/reference/moneybird.md §4, §7, §8:
``GET /workflows`` lists an administration's workflows (one ``default``); ``GET /document_styles``
its styles, each naming an ``identity_id``; ``GET /identities`` "does not include the default
identity", which ``GET /identities/default`` returns. Every sales invoice carries its own
``workflow_id``, ``document_style_id`` and ``identity_id``, and send_reminders "Reminders are grouped
by workflow, identity and document style, so a contact with sales invoices with different
workflows, will receive multiple reminders".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import httpx
import pytest

from adapters.moneybird.sandbox import AdministrationSpec, MoneybirdSandbox
from connector.sandbox import SandboxClock
from tests.adapters.moneybird.sandbox.conftest import API, NL, TODAY

EVERYTHING = "period:20200101..20301231"
REMINDABLE = "state:open|late|reminded"


def _lists(api: httpx.Client) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]],
                                       dict[str, Any]]:
    return (api.get(f"{API}/workflows.json").json(), api.get(f"{API}/document_styles.json").json(),
            api.get(f"{API}/identities.json").json(), api.get(f"{API}/identities/default.json").json())


def _invoices(api: httpx.Client, flt: str) -> list[dict[str, Any]]:
    ids = [r["id"] for r in api.get(f"{API}/sales_invoices/synchronization.json", params={"filter": flt}).json()]
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 100):
        rows += api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": ids[start:start + 100]}).json()
    return rows


def _layout(invoice: dict[str, Any]) -> tuple[str, str, str]:
    return invoice["workflow_id"], invoice["document_style_id"], invoice["identity_id"]


def _send(api: httpx.Client, entries: list[dict[str, Any]]) -> httpx.Response:
    return api.post(f"{API}/sales_invoices/send_reminders.json", json={"sales_invoice_reminders": entries})


def _entry(contact_id: str, layout: tuple[str, str, str], ids: list[str]) -> dict[str, Any]:
    return {"contact_id": contact_id, "workflow_id": layout[0], "document_style_id": layout[1],
            "identity_id": layout[2], "sales_invoice_ids": ids, "delivery_method": "Manual"}


def _mixed_contact(api: httpx.Client) -> tuple[str, dict[tuple[str, str, str], list[dict[str, Any]]]]:
    """A contact whose remindable invoices are on at least two layouts (seeded data)."""
    by_contact: dict[str, dict[tuple[str, str, str], list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for invoice in _invoices(api, f"{REMINDABLE},{EVERYTHING}"):
        by_contact[invoice["contact_id"]][_layout(invoice)].append(invoice)
    mixed = [(c, groups) for c, groups in by_contact.items() if len(groups) >= 2]
    assert mixed, "the seeded data has no contact with invoices on two layouts"
    return mixed[0]


def test_two_of_each_as_the_list_endpoints_return_them(api: httpx.Client) -> None:
    workflows, styles, identities, default_identity = _lists(api)
    assert [w["type"] for w in workflows] == ["InvoiceWorkflow", "InvoiceWorkflow"]
    assert [w["default"] for w in workflows] == [True, False]
    assert [s["default"] for s in styles] == [True, False]
    assert len({w["id"] for w in workflows} | {s["id"] for s in styles}) == 4
    # GET /identities leaves the default identity out; together they are two identities.
    assert default_identity["id"] not in {i["id"] for i in identities}
    assert len(identities) == 1
    assert [s["identity_id"] for s in styles] == [default_identity["id"], identities[0]["id"]]
    for workflow in workflows:
        assert api.get(f"{API}/workflows/{workflow['id']}.json").json() == workflow
        assert [s["step_order"] for s in workflow["steps"]] == [0, 1, 2, 3]


def test_seeded_invoices_are_mostly_on_the_defaults_and_some_on_the_others(api: httpx.Client) -> None:
    workflows, styles, identities, default_identity = _lists(api)
    invoices = _invoices(api, EVERYTHING)
    known = ({w["id"] for w in workflows}, {s["id"] for s in styles}, {default_identity["id"]} | {
        i["id"] for i in identities})
    defaults = (workflows[0]["id"], styles[0]["id"], default_identity["id"])
    for position in range(3):
        used = [_layout(inv)[position] for inv in invoices]
        assert set(used) == known[position]  # every one is used, and nothing else
        assert used.count(defaults[position]) > len(used) / 2
    contacts = _contacts(api)
    assert {c["invoice_workflow_id"] for c in contacts} <= {None} | known[0]


def _contacts(api: httpx.Client) -> list[dict[str, Any]]:
    ids = [r["id"] for r in api.get(f"{API}/contacts/synchronization.json").json()]
    rows: list[dict[str, Any]] = api.post(f"{API}/contacts/synchronization.json", json={"ids": ids}).json()
    return rows


def test_the_layout_of_each_invoice_follows_from_the_seed(clock: SandboxClock) -> None:
    def layouts(seed: int) -> list[tuple[str, str, str]]:
        sandbox = MoneybirdSandbox.small(seed, clock=clock)
        return [_layout(sandbox.invoice(NL, i)) for i in sandbox.invoice_ids(NL)]

    assert layouts(7) == layouts(7)
    assert layouts(7) != layouts(8)


def test_by_default_generated_invoices_are_spread_over_the_layouts(clock: SandboxClock) -> None:
    sandbox = MoneybirdSandbox(clock=clock, administrations=(AdministrationSpec(id=NL, name="P", invoices=80),))
    assert len({_layout(sandbox.invoice(NL, i)) for i in sandbox.invoice_ids(NL)}) > 1


def test_without_varied_layouts_every_generated_invoice_uses_the_defaults(clock: SandboxClock) -> None:
    spec = AdministrationSpec(id=NL, name="P", invoices=80, varied_layouts=False)
    sandbox = MoneybirdSandbox(clock=clock, administrations=(spec,))
    admin = sandbox.admin(NL)
    assert {_layout(sandbox.invoice(NL, i)) for i in sandbox.invoice_ids(NL)} == {
        (admin.fixed_id(10), admin.fixed_id(20), admin.fixed_id(30))}


def test_the_workflow_filter_selects_by_the_invoices_own_workflow(api: httpx.Client) -> None:
    workflows, *_ = _lists(api)
    everything = _invoices(api, EVERYTHING)
    for workflow in workflows:
        rows = api.get(f"{API}/sales_invoices.json",
                       params={"filter": f"{EVERYTHING},workflow_id:{workflow['id']}", "per_page": 100}).json()
        expected = sorted(i["id"] for i in everything if i["workflow_id"] == workflow["id"])[:100]
        assert sorted(r["id"] for r in rows) == sorted(expected)
        assert {r["workflow_id"] for r in rows} == {workflow["id"]}


def test_a_contact_with_two_layouts_gets_one_reminder_per_layout(sandbox: MoneybirdSandbox,
                                                                 api: httpx.Client) -> None:
    contact, groups = _mixed_contact(api)
    entries = [_entry(contact, layout, [i["id"] for i in invoices]) for layout, invoices in groups.items()]
    assert _send(api, entries).status_code == 200
    every = [i["id"] for invoices in groups.values() for i in invoices]
    assert sorted(r["sales_invoice_id"] for r in sandbox.reminders_sent(NL)) == sorted(every)
    assert {api.get(f"{API}/sales_invoices/{i}.json").json()["state"] for i in every} == {"reminded"}


def test_an_entry_mixing_layouts_is_refused_and_sends_nothing(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    contact, groups = _mixed_contact(api)
    (first, one), (_, other) = list(groups.items())[:2]
    response = _send(api, [_entry(contact, first, [one[0]["id"], other[0]["id"]])])
    assert response.status_code == 422
    assert "sales_invoice_ids" in response.json()["error"]
    assert sandbox.reminders_sent(NL) == []


@pytest.mark.parametrize("position", [0, 1, 2])
def test_an_entry_naming_another_workflow_style_or_identity_than_its_invoice_is_refused(
        sandbox: MoneybirdSandbox, api: httpx.Client, position: int) -> None:
    workflows, styles, identities, default_identity = _lists(api)
    options = ([w["id"] for w in workflows], [s["id"] for s in styles],
               [default_identity["id"]] + [i["id"] for i in identities])
    invoice = _invoices(api, f"state:late,{EVERYTHING}")[0]
    layout = list(_layout(invoice))
    layout[position] = next(o for o in options[position] if o != layout[position])
    response = _send(api, [_entry(invoice["contact_id"], (layout[0], layout[1], layout[2]), [invoice["id"]])])
    assert response.status_code == 422
    assert sandbox.reminders_sent(NL) == []


def test_the_next_reminder_follows_the_invoices_own_workflow(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    workflows, *_ = _lists(api)
    contact = api.get(f"{API}/contacts/synchronization.json").json()[0]["id"]
    for workflow in workflows:
        new = sandbox.add_invoice(NL, contact_id=contact, invoice_date=TODAY - timedelta(days=40),
                                  due_date=TODAY - timedelta(days=26), workflow_id=workflow["id"])
        invoice = api.get(f"{API}/sales_invoices/{new}.json").json()
        assert _send(api, [_entry(contact, _layout(invoice), [new])]).status_code == 200
        after = api.get(f"{API}/sales_invoices/{new}.json").json()
        delay = workflow["steps"][1]["reminder_delay"]
        assert (after["workflow_id"], after["next_reminder"]) == (workflow["id"],
                                                                 (TODAY + timedelta(days=delay)).isoformat())


def test_add_invoice_takes_only_listed_layout_ids(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    _, styles, identities, _ = _lists(api)
    new = sandbox.add_invoice(NL, document_style_id=styles[1]["id"], identity_id=identities[0]["id"])
    assert _layout(api.get(f"{API}/sales_invoices/{new}.json").json())[1:] == (styles[1]["id"], identities[0]["id"])
    with pytest.raises(KeyError):
        sandbox.add_invoice(NL, workflow_id=styles[0]["id"])
