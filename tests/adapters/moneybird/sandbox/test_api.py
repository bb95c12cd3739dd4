"""API v2 reads: ids, money, .json suffix, paging, filters, synchronization (reference §1, §4, §5)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from adapters.moneybird.sandbox import MoneybirdSandbox
from connector.sandbox import SandboxClock
from tests.adapters.moneybird.sandbox.conftest import API, BE, NL, TODAY

EVERYTHING = "period:20200101..20301231"


def test_administrations_list_both_with_string_ids(api: httpx.Client) -> None:
    body = api.get("/api/v2/administrations.json").json()
    assert [(a["id"], a["name"], a["country"], a["currency"]) for a in body] == [
        (NL, "Parkietje B.V.", "NL", "EUR"), (BE, "Kanarie BV", "BE", "EUR")]


def test_suffix_is_optional_and_xml_is_refused(api: httpx.Client) -> None:
    assert api.get(f"{API}/workflows").status_code == 200
    assert api.get(f"{API}/workflows.json").status_code == 200
    assert api.get(f"{API}/workflows.xml").status_code == 406


def test_unknown_ids_are_404_record_not_found(api: httpx.Client) -> None:
    response = api.get(f"{API}/sales_invoices/1.json")
    assert response.status_code == 404
    assert response.json() == {"error": "record not found", "symbolic": {"id": "not_found"}}
    assert api.get("/api/v2/999/sales_invoices.json").status_code == 404


def test_money_is_decimal_strings_and_ids_are_strings(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    new = sandbox.add_invoice(NL, amount="363.00", invoice_date=TODAY)
    body = api.get(f"{API}/sales_invoices/{new}.json").json()
    assert body["id"] == new
    assert isinstance(body["contact_id"], str)
    assert (body["total_price_incl_tax"], body["total_price_excl_tax"], body["total_unpaid"], body["total_paid"]) == (
        "363.0", "300.0", "363.0", "0.0")
    assert (body["state"], body["invoice_date"], body["due_date"]) == ("open", "2026-03-12", "2026-03-26")


def test_paging_with_link_headers_covers_every_invoice_once(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    seen: list[str] = []
    url: str | None = f"{API}/sales_invoices.json?filter={EVERYTHING}&per_page=40"
    pages = 0
    while url:
        response = api.get(url)
        seen += [row["id"] for row in response.json()]
        pages += 1
        url = response.links.get("next", {}).get("url")
    assert pages == 4  # 150 invoices, 40 a page
    assert len(seen) == len(set(seen)) == 150
    assert 'rel="prev"' in api.get(f"{API}/sales_invoices.json?filter={EVERYTHING}&per_page=40&page=2").headers["link"]


@pytest.mark.parametrize(("params", "error"), [
    ({"per_page": "101"}, "per_page does not have a valid value"),
    ({"per_page": "0"}, "per_page does not have a valid value"),
    ({"page": "0"}, "page does not have a valid value"),
    ({"filter": "period:202401.."}, "Period must have both a start and end date"),
    ({"filter": "period:..202412"}, "Period must have both a start and end date"),
    ({"filter": "state:opn"}, "Status is not included in the list"),
])
def test_bad_list_parameters_are_400(api: httpx.Client, params: dict[str, str], error: str) -> None:
    response = api.get(f"{API}/sales_invoices.json", params=params)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_bare_month_period_is_refused_by_the_list(api: httpx.Client) -> None:
    assert api.get(f"{API}/sales_invoices.json", params={"filter": "period:202603"}).status_code == 400


def test_state_pipe_is_the_union_of_states(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    def ids(flt: str) -> set[str]:
        return {row["id"] for row in api.get(f"{API}/sales_invoices/synchronization.json",
                                             params={"filter": flt}).json()}

    late, reminded = ids("state:late"), ids("state:reminded")
    assert late and reminded
    assert ids("state:late|reminded") == late | reminded
    unpaid = ids("state:open|late|reminded|pending_payment")
    assert unpaid == set(sandbox.open_invoices(NL))
    assert ids("state:all") == ids("")


def test_default_period_is_this_year_and_any_filter_replaces_it(api: httpx.Client) -> None:
    default = api.get(f"{API}/sales_invoices.json", params={"per_page": 100}).json()
    assert all(row["invoice_date"] is None or row["invoice_date"].startswith("2026") for row in default)
    all_states = api.get(f"{API}/sales_invoices/synchronization.json", params={"filter": "state:all"}).json()
    assert len(all_states) == 150
    assert len(default) < 150


def test_named_and_custom_periods(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    march = sandbox.add_invoice(NL, invoice_date=date(2026, 3, 2))
    february = sandbox.add_invoice(NL, invoice_date=date(2026, 2, 27))

    def listed(period: str) -> set[str]:
        rows = api.get(f"{API}/sales_invoices/synchronization.json", params={"filter": f"period:{period}"}).json()
        return {row["id"] for row in rows}

    assert march in listed("this_month") and february not in listed("this_month")
    assert february in listed("prev_month") and march not in listed("prev_month")
    assert {march, february} <= listed("202602..202603")
    assert february in listed("20260227..20260227") and march not in listed("20260227..20260227")


def test_contact_and_updated_after_filters(sandbox: MoneybirdSandbox, api: httpx.Client, clock: SandboxClock) -> None:
    contact = api.get(f"{API}/contacts/synchronization.json").json()[3]["id"]
    mine = sandbox.add_invoice(NL, contact_id=contact)
    rows = api.get(f"{API}/sales_invoices/synchronization.json", params={"filter": f"contact_id:{contact}"}).json()
    assert mine in {row["id"] for row in rows}
    assert all(api.get(f"{API}/sales_invoices/{row['id']}.json").json()["contact_id"] == contact for row in rows)
    clock.advance(60)
    sandbox.pay(NL, mine, "10.00")
    after = api.get(f"{API}/sales_invoices/synchronization.json",
                    params={"filter": "updated_after:2026-03-12T10:00:30Z"}).json()
    assert [row["id"] for row in after] == [mine]


def test_synchronization_lists_id_and_version_then_fetches_at_most_100(api: httpx.Client) -> None:
    listing = api.get(f"{API}/sales_invoices/synchronization.json").json()
    assert len(listing) == 150
    assert all(sorted(row) == ["id", "version"] and isinstance(row["version"], int) for row in listing)
    ids = [row["id"] for row in listing]
    fetched = api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": ids}).json()
    assert [row["id"] for row in fetched] == ids[:100]
    versions = {row["id"]: row["version"] for row in listing}
    assert all(row["version"] == versions[row["id"]] for row in fetched)


def test_synchronization_post_needs_ids(api: httpx.Client) -> None:
    response = api.post(f"{API}/sales_invoices/synchronization.json", json={})
    assert response.status_code == 400
    assert response.json() == {"error": "Ids is required", "symbolic": {"ids": "required"}}
    assert api.post(f"{API}/contacts/synchronization.json", json={"ids": "1"}).status_code == 400


def test_contacts_sync_and_list_and_search(api: httpx.Client) -> None:
    listing = api.get(f"{API}/contacts/synchronization.json").json()
    assert len(listing) == 40
    fetched = api.post(f"{API}/contacts/synchronization.json", json={"ids": [r["id"] for r in listing[:5]]}).json()
    assert [c["id"] for c in fetched] == [r["id"] for r in listing[:5]]
    page = api.get(f"{API}/contacts.json", params={"per_page": 30})
    assert len(page.json()) == 30 and "next" in page.links
    first = fetched[0]
    term = first["city"]
    found = api.get(f"{API}/contacts.json", params={"query": term}).json()
    assert first["id"] in {c["id"] for c in found}
    assert all(c["city"] == term or term.lower() in str(c).lower() for c in found)


def test_generated_data_mixes_countries_kinds_currencies_and_states(sandbox: MoneybirdSandbox,
                                                                    api: httpx.Client) -> None:
    contacts = api.post(f"{API}/contacts/synchronization.json", json={
        "ids": [r["id"] for r in api.get(f"{API}/contacts/synchronization.json").json()]}).json()
    assert {c["country"] for c in contacts} == {"NL", "BE"}
    assert any(c["company_name"] for c in contacts) and any(c["firstname"] for c in contacts)
    ids = [r["id"] for r in api.get(f"{API}/sales_invoices/synchronization.json").json()]
    invoices = api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": ids[:100]}).json()
    invoices += api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": ids[100:]}).json()
    assert len({i["currency"] for i in invoices}) > 1
    assert {"draft", "open", "late", "reminded", "paid"} <= {i["state"] for i in invoices}
    partial = [i for i in invoices if i["state"] != "paid" and Decimal(i["total_paid"]) > 0]
    assert partial
    credits = [i for i in invoices if i["original_sales_invoice_id"]]
    assert credits and all(Decimal(i["total_price_incl_tax"]) < 0 for i in credits)
    originals = {i["id"]: i for i in invoices}
    for credit in credits:
        original = originals[credit["original_sales_invoice_id"]]
        assert credit["id"] in {p["credit_invoice_id"] for p in original["payments"]}
    assert any(i["paused"] for i in invoices)
    foreign = next(i for i in invoices if i["currency"] != "EUR")
    assert foreign["total_price_incl_tax"] != foreign["total_price_incl_tax_base"]


def test_open_invoice_turns_late_after_its_due_date_and_its_version_changes(
    sandbox: MoneybirdSandbox, api: httpx.Client, clock: SandboxClock,
) -> None:
    new = sandbox.add_invoice(NL, amount="121.00", invoice_date=TODAY, due_date=TODAY + timedelta(days=1))
    before = api.get(f"{API}/sales_invoices/{new}.json").json()
    assert before["state"] == "open"
    clock.advance(24 * 3600)  # 13 March: the due date itself is still open
    assert api.get(f"{API}/sales_invoices/{new}.json").json()["state"] == "open"
    clock.advance(24 * 3600)  # 14 March
    after = api.get(f"{API}/sales_invoices/{new}.json").json()
    assert after["state"] == "late"
    assert after["version"] > before["version"]
    assert "sales_invoice_state_changed_to_late" in [e["action"] for e in after["events"]]


def test_deleted_invoice_disappears_from_synchronization(sandbox: MoneybirdSandbox, api: httpx.Client) -> None:
    victim = api.get(f"{API}/sales_invoices/synchronization.json").json()[7]["id"]
    sandbox.delete_invoice(NL, victim)
    assert victim not in {r["id"] for r in api.get(f"{API}/sales_invoices/synchronization.json").json()}
    assert api.get(f"{API}/sales_invoices/{victim}.json").status_code == 404
    assert api.post(f"{API}/sales_invoices/synchronization.json", json={"ids": [victim]}).json() == []


def test_update_contact_bumps_its_version(sandbox: MoneybirdSandbox, api: httpx.Client, clock: SandboxClock) -> None:
    row = api.get(f"{API}/contacts/synchronization.json").json()[0]
    clock.advance(10)
    sandbox.update_contact(NL, row["id"], city="Zwolle")
    after = api.get(f"{API}/contacts/{row['id']}.json").json()
    assert after["city"] == "Zwolle"
    assert after["version"] > row["version"]


def test_reference_endpoints(api: httpx.Client) -> None:
    workflows = api.get(f"{API}/workflows.json").json()
    assert [s["reminder_delay"] for s in workflows[0]["steps"]] == [0, 10, 5, 5]
    assert api.get(f"{API}/workflows/{workflows[0]['id']}.json").json()["id"] == workflows[0]["id"]
    # The default style uses the default identity, which GET /identities leaves out (spec) and
    # GET /identities/default returns.
    assert api.get(f"{API}/document_styles.json").json()[0]["identity_id"] == api.get(
        f"{API}/identities/default.json").json()["id"]
    assert [f["name"] for f in api.get(f"{API}/custom_fields.json").json()] == [
        "Kredietlimiet", "Geblokkeerd", "Incassostatus"]
    assert [u["user_type"] for u in api.get(f"{API}/users.json").json()] == ["owner", "employee"]
