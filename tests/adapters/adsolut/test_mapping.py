"""Pure mapping of Adsolut payloads: the sample customer, envelopes, dates, the write shape."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.adsolut.client import rows_of
from adapters.adsolut.mapping import (
    debtor_from_customer,
    open_item_from_row,
    parse_day,
    parse_moment,
    write_body,
)
from connector.errors import MappingError
from connector.model import DebtorKind, ItemKind, ItemStatus
from tests.adapters.adsolut.conftest import sample


def test_the_sample_customer_maps_to_a_belgian_business_debtor() -> None:
    debtor = debtor_from_customer(sample("accounting_customer_get.sample.json"), connection_id="c")
    assert debtor.source_id == "00000000-0000-0000-0000-0000000000aa"
    assert (debtor.code, debtor.name, debtor.kind) == ("000", "Voorbeeld BV", DebtorKind.BUSINESS)
    assert (debtor.vat_number, debtor.coc_number, debtor.country) == ("BE0123456789", "0123456789", "BE")
    assert (debtor.language, debtor.emails, debtor.phone) == ("nl", (), "+32000000000")
    assert (debtor.payment_terms_days, debtor.reminders_enabled_in_source) == (15, True)
    assert debtor.source_modified == datetime(2026, 4, 29, 10, 12, 15, tzinfo=UTC)


def test_a_customer_without_vat_number_is_a_consumer_and_one_without_name_is_refused() -> None:
    row = sample("accounting_customer_get.sample.json") | {"vatNumber": None, "countryPrefixVatNumber": None}
    assert debtor_from_customer(row, connection_id="c").kind == DebtorKind.CONSUMER
    with pytest.raises(MappingError):
        debtor_from_customer(row | {"name": None}, connection_id="c")


@pytest.mark.parametrize("payload", [[{"id": "a"}], {"items": [{"id": "a"}]}, {"data": [{"id": "a"}]}])
def test_the_three_list_envelopes_are_read(payload: object) -> None:
    assert rows_of(payload) == [{"id": "a"}]


def test_an_unknown_envelope_is_a_mapping_error() -> None:
    with pytest.raises(MappingError):
        rows_of({"results": []})


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-04-29T10:12:15+00:00", datetime(2026, 4, 29, 10, 12, 15, tzinfo=UTC)),
    ("2026-04-29T12:12:15+02:00", datetime(2026, 4, 29, 10, 12, 15, tzinfo=UTC)),
    ("2026-04-29T10:12:15Z", datetime(2026, 4, 29, 10, 12, 15, tzinfo=UTC)),
    ("2020-01-01T00:00:00", datetime(2020, 1, 1, tzinfo=UTC)),  # offset-less: taken as UTC
    ("0001-01-01T00:00:00", None),  # "unset"
    (None, None),
])
def test_moments_with_and_without_offset(text: str | None, expected: datetime | None) -> None:
    assert parse_moment(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-31T00:00:00", date(2026, 3, 31)),
    ("2026-03-31", date(2026, 3, 31)),
    ("2026-03-30T23:30:00+00:00", date(2026, 3, 31)),  # 01:30 in Brussels (summer time)
    ("0001-01-01T00:00:00", None),
])
def test_days_are_the_calendar_date_in_brussels(text: str, expected: date | None) -> None:
    assert parse_day(text) == expected


ITEM = {
    "id": "i1", "customer": {"id": "c1", "code": "C1"}, "documentNumber": "VF26-000001", "documentType": "Invoice",
    "documentDate": "2026-03-01T00:00:00", "dueDate": "2026-03-31T00:00:00", "currency": {"isoCode": "USD"},
    "amount": 100.1, "openAmount": 40.1, "amountBaseCurrency": 92.09, "openAmountBaseCurrency": 36.89,
    "structuredCommunication": "+++123/4567/89002+++", "lastModified": "2026-04-01T08:00:00+00:00",
}


def test_an_open_item_keeps_exact_amounts_in_both_currencies() -> None:
    item = open_item_from_row(ITEM, connection_id="c")
    assert (item.original.amount, item.open.amount, item.open.currency) == (Decimal("100.1"), Decimal("40.1"), "USD")
    assert (item.open_base.amount, item.open_base.currency) == (Decimal("36.89"), "EUR")
    assert (item.invoice_date, item.due_date, item.status) == (date(2026, 3, 1), date(2026, 3, 31), ItemStatus.OPEN)
    assert item.payment_reference == "+++123/4567/89002+++" and item.kind == ItemKind.INVOICE


def test_an_item_with_nothing_open_is_paid_on_its_last_change_and_a_credit_note_is_one() -> None:
    paid = open_item_from_row(ITEM | {"openAmount": 0, "openAmountBaseCurrency": 0}, connection_id="c")
    assert (paid.status, paid.closed_on) == (ItemStatus.PAID, date(2026, 4, 1))
    credit = open_item_from_row(ITEM | {"documentType": "CreditNote", "amount": -20, "openAmount": -20,
                                        "amountBaseCurrency": -18.4, "openAmountBaseCurrency": -18.4}, connection_id="c")
    assert credit.kind == ItemKind.CREDIT_NOTE and credit.open.amount == Decimal(-20)


def test_an_item_whose_amount_is_not_a_number_is_a_mapping_error() -> None:
    with pytest.raises(MappingError):
        open_item_from_row(ITEM | {"openAmount": "n/a"}, connection_id="c")


def test_the_write_shape_of_the_sample_get_is_the_sample_put_body() -> None:
    """Reference A6: GET → drop read-only fields, flatten {id} lookups, bankAccounts → bankAccountLines."""
    assert write_body(sample("accounting_customer_get.sample.json")) == sample("accounting_customer_put_body.sample.json")


def test_the_overlay_wins_and_unknown_fields_pass_through() -> None:
    body = write_body(sample("accounting_customer_get.sample.json") | {"newField": 7}, remindersEnabled=False)
    assert body["remindersEnabled"] is False and body["newField"] == 7
