"""The sandbox's administrations and Accounting API, as the Adsolut reference (A3–A7) describes them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.adsolut.sandbox import AdsolutSandbox
from adapters.adsolut.sandbox_data import kbo_number, structured_communication
from connector.sandbox import SandboxClock, transport
from tests.adapters.adsolut.conftest import (
    BASE,
    CLIENT_ID,
    DOSSIER,
    OTHER_DOSSIER,
    REDIRECT,
    SECRET,
    START,
    sample,
    tokens_for,
)

CUSTOMERS = f"/acc/v1/adm/{DOSSIER}/customers"
ITEMS = f"/acc/v1/adm/{DOSSIER}/openitems"


def all_pages(api: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api.get(path, params={**params, "Page": str(page), "Limit": "100"}).json()
        rows.extend(body["items"])
        if page >= body["totalPages"]:
            return rows
        page += 1


def test_administrations_list_the_dossiers_with_their_fields(api: httpx.Client) -> None:
    body = api.get("/adm/v1/administrations").json()
    rows = body["items"]
    assert {r["id"] for r in rows} == {DOSSIER, OTHER_DOSSIER}
    assert {"id", "name", "code", "displayName", "language", "companyRegistrationNumber"} <= set(rows[0])


@pytest.mark.parametrize("envelope", ["array", "items", "data"])
def test_the_administrations_envelope_can_be_any_of_the_three_seen(clock: SandboxClock, envelope: str) -> None:
    app = AdsolutSandbox(seed=3, clock=clock, administrations_envelope=envelope)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    with httpx.Client(transport=transport(app, BASE), base_url=BASE) as http:
        token = tokens_for(app, http)["access_token"]
        body = http.get("/adm/v1/administrations", headers={"Authorization": f"Bearer {token}"}).json()
    rows = body if envelope == "array" else body[envelope]
    assert len(rows) == 2


def test_without_activation_accounting_returns_nothing(sandbox: AdsolutSandbox, api: httpx.Client) -> None:
    other = api.get(f"/acc/v1/adm/{OTHER_DOSSIER}/customers").json()
    assert other == {"items": [], "currentPage": 1, "totalPages": 0, "totalItems": 0}
    assert api.get(f"/acc/v1/adm/{OTHER_DOSSIER}/openitems").json()["items"] == []
    some_id = next(iter(sandbox.dossier(OTHER_DOSSIER).customers))
    assert api.get(f"/acc/v1/adm/{OTHER_DOSSIER}/customers/{some_id}").status_code == 404


def test_activation_is_idempotent_and_deactivation_hides_the_data_again(sandbox: AdsolutSandbox, api: httpx.Client) -> None:
    path = f"/adm/v1/administrations/{OTHER_DOSSIER}/integrations"
    assert api.post(path).status_code == 204
    assert api.post(path).status_code == 204
    assert api.get(f"/acc/v1/adm/{OTHER_DOSSIER}/customers").json()["totalItems"] == 25
    assert api.delete(path).status_code == 204
    assert api.get(f"/acc/v1/adm/{OTHER_DOSSIER}/customers").json()["totalItems"] == 0
    state = sandbox.dossier(OTHER_DOSSIER)
    assert (state.activations, state.deactivations, state.integrations) == (2, 1, set())


def test_customers_page_with_page_and_limit_in_the_accounting_envelope(api: httpx.Client) -> None:
    first = api.get(CUSTOMERS, params={"Page": "1", "Limit": "25"}).json()
    assert set(first) == {"items", "currentPage", "totalPages", "totalItems"}
    assert (first["currentPage"], first["totalPages"], first["totalItems"], len(first["items"])) == (1, 3, 60, 25)
    last = api.get(CUSTOMERS, params={"Page": "3", "Limit": "25"}).json()
    assert len(last["items"]) == 10
    default = api.get(CUSTOMERS).json()
    assert len(default["items"]) == 50  # A4: default Limit 50
    ids = [c["id"] for c in all_pages(api, CUSTOMERS)]
    assert len(ids) == len(set(ids)) == 60


def test_a_limit_above_100_is_refused(api: httpx.Client) -> None:
    refused = api.get(CUSTOMERS, params={"Limit": "101"})
    assert refused.status_code == 400
    assert refused.json()["validationResults"][0]["propertyName"] == "Limit"


def test_list_items_and_single_customers_have_the_sample_shape(api: httpx.Client) -> None:
    expected = set(sample("accounting_customer_get.sample.json"))
    customer = api.get(CUSTOMERS).json()["items"][0]
    assert set(customer) == expected
    assert set(api.get(f"{CUSTOMERS}/{customer['id']}").json()) == expected
    assert "active" not in customer  # A5: write-only
    assert datetime.fromisoformat(customer["lastModified"]).utcoffset() is not None


def test_modified_since_and_order_by_last_modified(sandbox: AdsolutSandbox, api: httpx.Client, clock: SandboxClock) -> None:
    rows = all_pages(api, CUSTOMERS, OrderBy="lastModified")
    stamps = [r["lastModified"] for r in rows]
    assert stamps == sorted(stamps)
    clock.advance(60)
    sandbox.rename_customer(DOSSIER, rows[0]["id"], "Nieuwe Naam BV")
    since = (START.replace(microsecond=0)).isoformat().replace("+00:00", "Z")
    changed = api.get(CUSTOMERS, params={"ModifiedSince": since, "OrderBy": "lastModified"}).json()
    assert [c["name"] for c in changed["items"]] == ["Nieuwe Naam BV"]


def test_put_is_a_full_replace(sandbox: AdsolutSandbox, api: httpx.Client) -> None:
    customer = api.get(CUSTOMERS).json()["items"][0]
    partial = {"number": customer["number"], "name": "Alleen Naam BV", "active": True}
    assert api.put(f"{CUSTOMERS}/{customer['id']}", json=partial).status_code == 204
    after = api.get(f"{CUSTOMERS}/{customer['id']}").json()
    assert after["name"] == "Alleen Naam BV"
    # A6: what was left out is reset (the servicedesk authors lost exactly these in a live test)
    assert after["country"] is None and after["bankAccounts"] == [] and after["languageIsoCode"] is None
    assert after["dueDays"] == 0 and after["remindersEnabled"] is False
    assert after["lastModified"] >= customer["lastModified"]


def test_the_sample_put_body_sets_what_the_sample_get_shows(sandbox: AdsolutSandbox, api: httpx.Client) -> None:
    customer = api.get(CUSTOMERS).json()["items"][0]
    body = sample("accounting_customer_put_body.sample.json") | {"number": customer["number"]}
    assert api.put(f"{CUSTOMERS}/{customer['id']}", json=body).status_code == 204
    after = api.get(f"{CUSTOMERS}/{customer['id']}").json()
    read = sample("accounting_customer_get.sample.json")
    for field in ("name", "streetName", "postalCode", "city", "country", "vatNumber", "dueDays", "dueDate",
                  "vatSpecification", "vatPercentage", "bankAccounts", "languageIsoCode", "remindersEnabled"):
        assert after[field] == read[field], field


def test_number_is_immutable_and_active_is_required_in_put(api: httpx.Client) -> None:
    customer = api.get(CUSTOMERS).json()["items"][0]
    without_number = api.put(f"{CUSTOMERS}/{customer['id']}", json={"name": "X", "active": True})
    assert without_number.status_code == 400
    assert without_number.json()["validationResults"][0]["code"] == "UpdateCustomerNumberNotValid"
    other_number = api.put(f"{CUSTOMERS}/{customer['id']}", json={"name": "X", "number": "999", "active": True})
    assert other_number.json()["validationResults"][0]["code"] == "UpdateCustomerNumberNotValid"
    no_active = api.put(f"{CUSTOMERS}/{customer['id']}", json={"name": "X", "number": customer["number"]})
    assert no_active.status_code == 400


def test_post_answers_only_an_id_and_the_customer_can_be_read_back(api: httpx.Client) -> None:
    created = api.post(CUSTOMERS, json={"number": "N0001", "name": "Nieuw BV", "remindersEnabled": True})
    assert set(created.json()) == {"id", "validationResults"}
    back = api.get(f"{CUSTOMERS}/{created.json()['id']}").json()
    assert (back["number"], back["code"], back["name"], back["remindersEnabled"]) == ("N0001", "N0001", "Nieuw BV", True)
    assert api.post(CUSTOMERS, json={"number": "N0001", "name": "Dubbel"}).status_code == 400


def test_seeded_customers_are_belgian_businesses_and_consumers(sandbox: AdsolutSandbox) -> None:
    customers = list(sandbox.dossier(DOSSIER).customers.values())
    businesses = [c for c in customers if c["vatNumber"]]
    consumers = [c for c in customers if not c["vatNumber"]]
    assert businesses and consumers
    for c in businesses:
        number = c["vatNumber"]
        assert len(number) == 10 and 97 - int(number[:8]) % 97 == int(number[8:]) and c["countryPrefixVatNumber"] == "BE"
    assert {c["languageIsoCode"] for c in customers} == {"nl", "fr"}


def test_kbo_and_structured_communication_check_digits() -> None:
    assert kbo_number(1234567) == "0123456749"  # the be-practice creditor's KBO 0123.456.749
    assert structured_communication(1234567890) == "+++123/4567/89002+++"  # 1234567890 mod 97 = 2
    assert structured_communication(97) == "+++000/0000/09797+++"  # 0 becomes 97


def test_open_items_page_like_customers_with_open_only_and_modified_since(
    sandbox: AdsolutSandbox, api: httpx.Client, clock: SandboxClock
) -> None:
    everything = all_pages(api, ITEMS)
    open_rows = all_pages(api, ITEMS, OpenOnly="true")
    assert len(everything) == 300 > len(open_rows) > 100
    assert {r["id"]: Decimal(str(r["openAmount"])) for r in open_rows} == sandbox.open_amounts(DOSSIER)
    row = open_rows[0]
    assert row["structuredCommunication"].startswith("+++") and row["currency"]["isoCode"] in ("EUR", "USD")
    assert datetime.fromisoformat(row["documentDate"]).tzinfo is None  # offset-less, like ERP dates
    clock.advance(5)
    sandbox.pay(DOSSIER, row["id"], Decimal(str(row["openAmount"])))
    since = clock.now().replace(microsecond=0).isoformat()
    changed = api.get(ITEMS, params={"ModifiedSince": since}).json()["items"]
    assert [(c["id"], c["openAmount"]) for c in changed] == [(row["id"], 0.0)]
    new = sandbox.add_item(DOSSIER, row["customer"]["id"], "100.00", date(2026, 4, 1))
    assert {c["id"] for c in api.get(ITEMS, params={"ModifiedSince": since}).json()["items"]} == {row["id"], new}


def test_the_open_items_endpoint_is_configurable_and_can_be_absent(clock: SandboxClock) -> None:
    moved = AdsolutSandbox(seed=3, clock=clock, open_items_path="/acc/v1/adm/{administration}/receivables/open")
    none = AdsolutSandbox(seed=3, clock=clock, open_items_path=None)
    for app in (moved, none):
        app.register_client(CLIENT_ID, SECRET, REDIRECT)
    with httpx.Client(transport=transport(moved, BASE), base_url=BASE) as http:
        http.headers["Authorization"] = f"Bearer {tokens_for(moved, http)['access_token']}"
        http.post(f"/adm/v1/administrations/{DOSSIER}/integrations")
        assert http.get(f"/acc/v1/adm/{DOSSIER}/receivables/open").json()["totalItems"] == 300
        assert http.get(ITEMS).status_code == 404
    with httpx.Client(transport=transport(none, BASE), base_url=BASE) as http:
        http.headers["Authorization"] = f"Bearer {tokens_for(none, http)['access_token']}"
        assert http.get(ITEMS).status_code == 404


def test_rate_limit_answers_429_with_retry_after_and_an_empty_body(clock: SandboxClock) -> None:
    app = AdsolutSandbox(seed=3, clock=clock, rate_limit=3, rate_window=60)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    with httpx.Client(transport=transport(app, BASE), base_url=BASE) as http:
        http.headers["Authorization"] = f"Bearer {tokens_for(app, http)['access_token']}"
        statuses = [http.get(CUSTOMERS).status_code for _ in range(4)]
        refused = http.get(CUSTOMERS)
        assert statuses == [200, 200, 200, 429]
        assert refused.content == b"" and int(refused.headers["Retry-After"]) == 60
        clock.advance(61)
        assert http.get(CUSTOMERS).status_code == 200
    assert app.count("customers") == 6


def test_faults_answer_empty_bodies_and_malformed_records(sandbox: AdsolutSandbox, api: httpx.Client) -> None:
    sandbox.faults.fail(500, endpoint="customers")
    failed = api.get(CUSTOMERS)
    assert failed.status_code == 500 and failed.content == b""
    sandbox.faults.malformed(endpoint="openitems")
    assert api.get(ITEMS).json()["items"][0]["openAmount"] == "n/a"
    assert api.get(ITEMS).json()["items"][0]["openAmount"] != "n/a"


def test_both_v1_spellings_are_served(api: httpx.Client) -> None:
    assert api.get(f"/acc/V1/adm/{DOSSIER}/customers").status_code == 200
