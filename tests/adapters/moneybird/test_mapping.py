"""Moneybird payloads → common model, and the transport rules (pure, table-driven).

Samples are the spec's own examples (docs/reference/moneybird/*.json); expected values are read off
those files by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.moneybird.client import error_text, parse_rate_headers
from adapters.moneybird.mapping import (
    debtor_from_contact,
    debtor_kind,
    open_item_from_invoice,
    payments_from_invoice,
    reminded_since,
    reminder_groups,
    unpaid_filter,
)
from connector.errors import MappingError
from connector.model import DebtorKind, ItemKind, ItemStatus, Money
from connector.ratelimit import Window
from tests.support.paths import TEST_DATA

SAMPLES = TEST_DATA / "moneybird"


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return data


def item(name: str, **changes: Any) -> Any:
    return open_item_from_invoice({**sample(name), **changes}, connection_id="c", base_currency="EUR")


# ---------------------------------------------------------------- debtors


@pytest.mark.parametrize(
    ("company", "first", "last", "kind"),
    [
        ("Foobar Holding B.V.", None, "Appleseed", DebtorKind.BUSINESS),
        ("Foobar Holding B.V.", "Jan", "Jansen", DebtorKind.BUSINESS),
        (None, "Jan", "Jansen", DebtorKind.CONSUMER),
        ("", None, "Jansen", DebtorKind.CONSUMER),
        (None, None, None, DebtorKind.UNKNOWN),
    ],
)
def test_a_company_name_makes_a_business_and_person_names_alone_a_consumer(
    company: str | None, first: str | None, last: str | None, kind: DebtorKind
) -> None:
    assert debtor_kind({"company_name": company, "firstname": first, "lastname": last}) == kind


def test_the_spec_contact_maps_field_for_field() -> None:
    debtor = debtor_from_contact(sample("contact_get.json"), connection_id="c", base_currency="EUR")
    assert debtor.source_id == "496081411808167496"
    assert debtor.code == "1"
    assert debtor.name == "Foobar Holding B.V."
    assert debtor.kind == DebtorKind.BUSINESS
    assert debtor.country == "NL"
    assert debtor.emails == ("info@example.com",)
    assert debtor.phone is None and debtor.vat_number is None  # empty strings are no value
    assert debtor.blocked is False and debtor.credit_limit is None


def test_a_person_is_named_first_name_last_name_and_several_invoice_addresses_are_kept() -> None:
    contact = {**sample("contact_get.json"), "company_name": None, "firstname": "Els", "lastname": "de Vries",
               "send_invoices_to_email": "els@example.com, boekhouding@example.com"}
    debtor = debtor_from_contact(contact, connection_id="c", base_currency="EUR")
    assert debtor.name == "Els de Vries"
    assert debtor.kind == DebtorKind.CONSUMER
    assert debtor.emails == ("els@example.com", "boekhouding@example.com", "info@example.com")


@pytest.mark.parametrize(
    ("blocked_value", "limit_value", "blocked", "limit"),
    [
        ("ja", "1.500,00", True, Decimal("1500.00")),
        ("Ja", "2500", True, Decimal("2500")),
        ("", "750.5", False, Decimal("750.5")),
        ("nee", "", False, None),
    ],
)
def test_block_and_credit_limit_come_from_the_named_contact_custom_fields(
    blocked_value: str, limit_value: str, blocked: bool, limit: Decimal | None
) -> None:
    contact = {**sample("contact_get.json"), "custom_fields": [
        {"id": "1", "name": "Geblokkeerd", "value": blocked_value},
        {"id": "2", "name": "Kredietlimiet", "value": limit_value},
    ]}
    debtor = debtor_from_contact(contact, connection_id="c", base_currency="EUR",
                                 block_field="Geblokkeerd", credit_limit_field="Kredietlimiet")
    assert debtor.blocked is blocked
    assert debtor.credit_limit == (None if limit is None else Money.of(limit, "EUR"))
    assert debtor.custom_fields["Geblokkeerd"] == blocked_value


@pytest.mark.parametrize(
    "broken",
    [
        {"company_name": None, "firstname": None, "lastname": None},
        {"id": None},
        {"id": "12.5"},
    ],
)
def test_a_contact_that_cannot_be_a_debtor_is_a_mapping_error(broken: dict[str, Any]) -> None:
    with pytest.raises(MappingError):
        debtor_from_contact({**sample("contact_get.json"), **broken}, connection_id="c", base_currency="EUR")


# ---------------------------------------------------------------- open items


def test_an_open_invoice_maps_with_exact_decimals_and_string_ids() -> None:
    open_item = item("sales_invoice_get_open.json")
    assert open_item.source_id == "496081540407625376"
    assert open_item.debtor_source_id == "496081540354147995"
    assert open_item.document_number == "2026-0001"
    assert open_item.kind == ItemKind.INVOICE
    assert open_item.status == ItemStatus.OPEN
    assert (open_item.invoice_date, open_item.due_date) == (date(2026, 8, 21), date(2026, 9, 4))
    assert open_item.original == Money.of("363.0", "EUR")
    assert open_item.open.amount == Decimal("363.0") and open_item.open_base.amount == Decimal("363.0")
    assert open_item.payment_reference == "RF350000000000000Z2JXZF65"
    assert open_item.source_dunning_level == 0 and open_item.source_dunning_date is None
    assert open_item.closed_on is None


@pytest.mark.parametrize(
    ("name", "status", "closed_on", "open_amount", "kind"),
    [
        ("sales_invoice_mark_as_uncollectible.json", ItemStatus.WRITTEN_OFF, date(2026, 8, 21), Decimal("363.0"), ItemKind.INVOICE),
        ("sales_invoice_paid_via_creditinvoice.json", ItemStatus.PAID, date(2026, 8, 21), Decimal("0"), ItemKind.CREDIT_NOTE),
        ("sales_invoice_mark_as_dubious.json", ItemStatus.OPEN, None, Decimal("363.0"), ItemKind.INVOICE),
    ],
)
def test_closed_invoices_stay_records_with_their_status_and_closing_date(
    name: str, status: ItemStatus, closed_on: date | None, open_amount: Decimal, kind: ItemKind
) -> None:
    mapped = item(name)
    assert (mapped.status, mapped.closed_on, mapped.open.amount, mapped.kind) == (status, closed_on, open_amount, kind)


@pytest.mark.parametrize(("state", "status"), [
    ("open", ItemStatus.OPEN), ("late", ItemStatus.OPEN), ("reminded", ItemStatus.OPEN),
    ("pending_payment", ItemStatus.OPEN), ("paid", ItemStatus.PAID), ("uncollectible", ItemStatus.WRITTEN_OFF),
])
def test_the_unpaid_states_are_open_and_the_others_closed(state: str, status: ItemStatus) -> None:
    assert item("sales_invoice_get_open.json", state=state).status == status


def test_pending_payment_is_open_and_marked_as_in_direct_debit() -> None:
    assert item("sales_invoice_get_open.json", state="pending_payment").in_direct_debit is True


@pytest.mark.parametrize("state", ["draft", "scheduled"])
def test_drafts_and_scheduled_invoices_are_not_receivables(state: str) -> None:
    assert item("sales_invoice_get_open.json", state=state) is None


def test_a_foreign_currency_invoice_keeps_both_currencies() -> None:
    mapped = item("sales_invoice_get_open.json", currency="USD", total_price_incl_tax="100.0",
                  total_unpaid="60.0", total_price_incl_tax_base="92.0", total_unpaid_base="55.2")
    assert (mapped.original, mapped.open) == (Money.of("100.0", "USD"), Money.of("60.0", "USD"))
    assert (mapped.original_base, mapped.open_base) == (Money.of("92.0", "EUR"), Money.of("55.2", "EUR"))


@pytest.mark.parametrize(
    "broken",
    [{"total_unpaid": "n/a"}, {"total_price_incl_tax": None}, {"state": "bogus"}, {"invoice_date": "21-08-2026"},
     {"contact_id": None}],
)
def test_a_malformed_invoice_is_a_mapping_error(broken: dict[str, Any]) -> None:
    with pytest.raises(MappingError):
        item("sales_invoice_get_open.json", **broken)


def test_reminders_are_read_from_the_count_and_the_latest_reminder_event() -> None:
    events = [
        {"action": "sales_invoice_send_email", "created_at": "2026-08-21T13:50:45.766Z"},
        {"action": "sales_invoice_send_reminder_email", "created_at": "2026-09-14T06:00:00.000Z"},
        {"action": "sales_invoice_send_reminder_manually", "created_at": "2026-09-28T22:30:00.000Z"},
    ]
    mapped = item("sales_invoice_get_open.json", state="reminded", reminder_count=2, events=events)
    assert mapped.source_dunning_level == 2
    assert mapped.source_dunning_date == date(2026, 9, 29)  # 22:30 UTC is past midnight in Amsterdam
    raw = {"events": events}
    assert reminded_since(raw, date(2026, 9, 29)) is True
    assert reminded_since(raw, date(2026, 9, 30)) is False


def test_payments_embedded_in_an_invoice_are_payments_of_that_invoice() -> None:
    (payment,) = payments_from_invoice(sample("sales_invoice_paid_via_creditinvoice.json"), connection_id="c")
    assert payment.source_id == "496081499624310414"
    assert payment.item_source_ids == ("496081499440809598",)
    assert payment.debtor_source_id == "496081499098973804"
    assert (payment.paid_on, payment.amount) == (date(2026, 8, 21), Money.of("-363.0", "EUR"))


def test_the_unpaid_filter_names_the_four_states_and_an_explicit_closed_period() -> None:
    assert unpaid_filter(date(2026, 3, 12)) == "state:open|late|reminded|pending_payment,period:200001..202712"


# ---------------------------------------------------------------- reminder grouping


def _inv(ident: str, contact: str = "1", workflow: str = "10", style: str = "20", identity: str = "30") -> dict[str, Any]:
    return {"id": ident, "contact_id": contact, "workflow_id": workflow, "document_style_id": style, "identity_id": identity}


@pytest.mark.parametrize(
    ("invoices", "expected"),
    [
        ([_inv("101"), _inv("102")], [("1", "10", "20", "30", ("101", "102"))]),
        ([_inv("101"), _inv("102", workflow="11")], [("1", "10", "20", "30", ("101",)), ("1", "11", "20", "30", ("102",))]),
        ([_inv("101"), _inv("102", style="21"), _inv("103")],
         [("1", "10", "20", "30", ("101", "103")), ("1", "10", "21", "30", ("102",))]),
        ([_inv("101", identity="31"), _inv("102")], [("1", "10", "20", "31", ("101",)), ("1", "10", "20", "30", ("102",))]),
        ([_inv("101", contact="2"), _inv("102")], [("2", "10", "20", "30", ("101",)), ("1", "10", "20", "30", ("102",))]),
    ],
)
def test_one_reminder_per_contact_workflow_document_style_and_identity(
    invoices: list[dict[str, Any]], expected: list[tuple[str, str, str, str, tuple[str, ...]]]
) -> None:
    groups = reminder_groups(invoices)
    assert [(g.contact_id, g.workflow_id, g.document_style_id, g.identity_id, g.sales_invoice_ids) for g in groups] == expected
    assert groups[0].body("Manual")["delivery_method"] == "Manual"


# ---------------------------------------------------------------- rate-limit headers and errors

NOW = datetime(2026, 3, 12, 10, 0, 0, tzinfo=UTC)
RESET = int(NOW.timestamp()) + 200


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # both readings present: the count comes from RequestsRemaining (MCP live observation)
        ({"RateLimit-Limit": "150", "RateLimit-Remaining": "200", "RateLimit-RequestsRemaining": "143",
          "RateLimit-Reset": str(RESET)}, [Window("5min", 150, 143, datetime.fromtimestamp(RESET, UTC))]),
        # only the seconds reading, above the limit: not a count
        ({"RateLimit-Limit": "150", "RateLimit-Remaining": "200", "RateLimit-Reset": str(RESET)}, []),
        # only the seconds reading, below the limit but equal to the seconds left: not a count
        ({"RateLimit-Limit": "150", "RateLimit-Remaining": "100",
          "RateLimit-Reset": str(int(NOW.timestamp()) + 100)}, []),
        # the spec's reading: a count that cannot be the seconds left
        ({"RateLimit-Limit": "150", "RateLimit-Remaining": "12", "RateLimit-Reset": str(RESET)},
         [Window("5min", 150, 12, datetime.fromtimestamp(RESET, UTC))]),
        # a reset in milliseconds is still an absolute time
        ({"RateLimit-RequestsRemaining": "5", "RateLimit-Reset": str(RESET * 1000)},
         [Window("5min", None, 5, datetime.fromtimestamp(RESET, UTC))]),
        ({"RateLimit-Limit": "150"}, []),
    ],
)
def test_rate_headers_cope_with_both_readings_of_ratelimit_remaining(
    headers: dict[str, str], expected: list[Window]
) -> None:
    assert parse_rate_headers(httpx.Headers(headers), NOW) == expected


@pytest.mark.parametrize(
    ("status", "body", "content_type", "text"),
    [
        (404, b'{"error":"record not found","symbolic":{"id":"not_found"}}', "application/json", "record not found"),
        (422, b'{"error":{"email_address":["can\'t be blank"]},"details":{}}', "application/json",
         "email_address can't be blank"),
        (429, b'"Retry later"', "application/json", "Retry later"),
        (503, b"<html><h1>We're sorry</h1></html>", "text/html", "Service Unavailable"),
    ],
)
def test_error_bodies_become_one_line(status: int, body: bytes, content_type: str, text: str) -> None:
    response = httpx.Response(status, content=body, headers={"content-type": content_type})
    assert error_text(response) == text
