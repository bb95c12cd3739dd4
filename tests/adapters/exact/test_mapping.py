"""Exact Online payloads → common model (docs/reference/exact.md §2.6, §2.7, §3.2, §5, §6)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from adapters.exact.mapping import (
    debtor_from_account,
    open_item_from_terms,
    parse_date,
    parse_datetime,
    payment_from_settled_term,
    validate_term,
)
from connector.errors import MappingError
from connector.model import DebtorKind, ItemKind, ItemStatus, Money


def ms(d: date) -> str:
    return f"/Date({int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)})/"


def test_exact_dates_are_epoch_milliseconds() -> None:
    # §2.6: 1351209600000 is 2012-10-26T00:00 (Exact SDK fixture): a date-only value is that day.
    assert parse_date("/Date(1351209600000)/") == date(2012, 10, 26)
    assert parse_date(None) is None
    with pytest.raises(MappingError):
        parse_date("2012-10-26")


def wall(text: str) -> str:
    """What Exact sends for a Dutch wall-clock time: that time written as if it were UTC (§2.6)."""
    return f"/Date({int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)})/"


def test_exact_datetimes_are_dutch_local_time_across_daylight_saving() -> None:
    # §2.6 / issue 16 point 4: the epoch is Amsterdam wall-clock time. Winter (CET, +1) and summer (CEST, +2)
    # map onto different UTC instants: 30 March 2025 02:00 is when the clocks go forward.
    assert parse_datetime(wall("2025-03-30T01:30:00")) == datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    assert parse_datetime(wall("2025-03-30T03:30:00")) == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert parse_datetime(wall("2025-07-01T12:00:00")) == datetime(2025, 7, 1, 10, 0, tzinfo=UTC)
    # An hour apart on the wall clock across the change is really one hour apart, not two.
    before, after = parse_datetime(wall("2025-03-30T01:30:00")), parse_datetime(wall("2025-03-30T03:30:00"))
    assert before is not None and after is not None and (after - before).total_seconds() == 3600
    # The Microsoft JSON form with an explicit offset is a true UTC instant.
    assert parse_datetime("/Date(1351209600000+0100)/") == datetime(2012, 10, 26, tzinfo=UTC)


ACCOUNT: dict[str, Any] = {
    "ID": "cd8e894a-4a04-47ae-bfd5-da46ef20261c",
    "Code": "                25",
    "Name": "Bakkerij de Vries B.V.",
    "Country": "NL ",
    "Language": "NL        ",
    "Email": "administratie@bakkerijdevries.nl",
    "VATNumber": "NL123456789B01",
    "ChamberOfCommerce": "12345678",
    "CreditLineSales": 5000.0,
    "Blocked": False,
    "PaymentConditionSales": "30",
    "Modified": "/Date(1700000000000)/",
}


def test_an_account_maps_to_a_debtor_with_padding_trimmed() -> None:
    debtor = debtor_from_account(ACCOUNT, connection_id="c1", base_currency="EUR")
    assert debtor.source_id == "cd8e894a-4a04-47ae-bfd5-da46ef20261c"
    assert debtor.code == "25"
    assert debtor.country == "NL"
    assert debtor.language == "nl"
    assert debtor.kind == DebtorKind.BUSINESS
    assert debtor.credit_limit == Money.of("5000", "EUR")
    assert debtor.emails == ("administratie@bakkerijdevries.nl",)
    assert debtor.custom_fields["PaymentConditionSales"] == "30"


def test_an_account_without_vat_or_coc_is_of_unknown_kind_and_zero_credit_line_is_no_limit() -> None:
    row = {**ACCOUNT, "VATNumber": None, "ChamberOfCommerce": "  ", "CreditLineSales": 0.0}
    debtor = debtor_from_account(row, connection_id="c1", base_currency="EUR")
    assert debtor.kind == DebtorKind.UNKNOWN
    assert debtor.credit_limit is None


def test_an_account_without_a_name_is_refused() -> None:
    with pytest.raises(MappingError, match="Name"):
        debtor_from_account({**ACCOUNT, "Name": "  "}, connection_id="c1", base_currency="EUR")


def term(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ID": "t1",
        "Account": "acc-1",
        "TransactionEntryID": "entry-1",
        "EntryNumber": 20240001,
        "InvoiceNumber": 20240001,
        "InvoiceDate": ms(date(2026, 10, 1)),
        "DueDate": ms(date(2026, 10, 31)),
        # §3.2 [UNVERIFIED]: AmountDC negative for a normal receivable, TransactionAmountDC positive.
        "AmountDC": -1210.0,
        "AmountFC": -1210.0,
        "TransactionAmountDC": 1210.0,
        "TransactionAmountFC": 1210.0,
        "Currency": "EUR",
        "Status": 20,
        "IsFullyPaid": False,
        "EndDate": None,
        "LastPaymentDate": None,
        "PaymentReference": "RF18539007547034",
        "Description": "Factuur 20240001",
        "YourRef": None,
        "TransactionType": 20,
        "Modified": "/Date(1700000000000)/",
    }
    base.update(overrides)
    return validate_term(base)


def test_one_open_term_is_one_open_invoice_owed_in_full() -> None:
    item = open_item_from_terms([term()], connection_id="c1", base_currency="EUR")
    assert item.source_id == "entry-1"
    assert item.kind == ItemKind.INVOICE
    assert item.open == Money.of("1210", "EUR")
    assert item.original == Money.of("1210", "EUR")
    assert item.due_date == date(2026, 10, 31)
    assert item.status == ItemStatus.OPEN
    assert item.document_number == "20240001"


def test_the_term_sign_convention_does_not_matter() -> None:
    # Whichever sign Exact uses on AmountDC, an invoice is owed (positive) in our model.
    positive = open_item_from_terms([term(AmountDC=1210.0, AmountFC=1210.0)], connection_id="c1", base_currency="EUR")
    assert positive.open == Money.of("1210", "EUR")


def test_a_partly_paid_invoice_is_the_sum_of_its_open_terms() -> None:
    # §5: a partial payment splits the term; the paid part is matched (50), the rest stays open.
    paid = term(ID="t1", AmountDC=-500.0, AmountFC=-500.0, Status=50, IsFullyPaid=True,
                EndDate=ms(date(2026, 11, 3)), LastPaymentDate=ms(date(2026, 11, 3)))
    rest = term(ID="t2", AmountDC=-710.0, AmountFC=-710.0)
    item = open_item_from_terms([paid, rest], connection_id="c1", base_currency="EUR")
    assert item.open == Money.of("710", "EUR")
    assert item.original == Money.of("1210", "EUR")
    assert item.status == ItemStatus.OPEN
    payment = payment_from_settled_term(paid, connection_id="c1")
    assert payment is not None
    assert payment.amount == Money.of("500", "EUR")
    assert payment.paid_on == date(2026, 11, 3)
    assert payment.item_source_ids == ("entry-1",)
    assert payment_from_settled_term(rest, connection_id="c1") is None


def test_an_invoice_whose_terms_are_all_matched_is_paid_with_its_closing_date() -> None:
    a = term(ID="t1", AmountDC=-500.0, AmountFC=-500.0, Status=50, EndDate=ms(date(2026, 11, 3)))
    b = term(ID="t2", AmountDC=-710.0, AmountFC=-710.0, IsFullyPaid=True, EndDate=ms(date(2026, 11, 20)))
    item = open_item_from_terms([a, b], connection_id="c1", base_currency="EUR")
    assert item.status == ItemStatus.PAID
    assert item.open.amount == Decimal(0)
    assert item.closed_on == date(2026, 11, 20)


def test_a_credit_note_is_negative() -> None:
    item = open_item_from_terms(
        [term(AmountDC=121.0, AmountFC=121.0, TransactionAmountDC=-121.0, TransactionAmountFC=-121.0, TransactionType=21)],
        connection_id="c1", base_currency="EUR",
    )
    assert item.kind == ItemKind.CREDIT_NOTE
    assert item.open == Money.of("-121", "EUR")


def test_an_unallocated_receipt_is_an_unapplied_payment_in_the_debtors_favour() -> None:
    item = open_item_from_terms(
        [term(AmountDC=300.0, AmountFC=300.0, TransactionAmountDC=-300.0, TransactionAmountFC=-300.0, TransactionType=40, InvoiceNumber=0)],
        connection_id="c1", base_currency="EUR",
    )
    assert item.kind == ItemKind.UNAPPLIED_PAYMENT
    assert item.open == Money.of("-300", "EUR")
    assert item.document_number == "20240001"


def test_a_foreign_currency_invoice_keeps_both_currencies() -> None:
    item = open_item_from_terms(
        [term(Currency="USD", AmountFC=-1000.0, TransactionAmountFC=1000.0, AmountDC=-925.93, TransactionAmountDC=925.93)],
        connection_id="c1", base_currency="EUR",
    )
    assert item.open == Money.of("1000", "USD")
    assert item.open_base == Money.of("925.93", "EUR")


def test_terms_in_collection_are_marked_as_direct_debit() -> None:
    item = open_item_from_terms([term(Status=30)], connection_id="c1", base_currency="EUR")
    assert item.in_direct_debit is True
    assert item.status == ItemStatus.OPEN


@pytest.mark.parametrize(
    ("field", "value"),
    [("ID", None), ("Account", ""), ("AmountDC", "twelve"), ("InvoiceDate", None), ("DueDate", "31-10-2026"), ("Status", "open")],
)
def test_a_malformed_term_is_refused_with_the_field_named(field: str, value: Any) -> None:
    with pytest.raises(MappingError):
        term(**{field: value})
