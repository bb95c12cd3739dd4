"""Collection costs: every boundary of the NL BIK scale, BE business and BE Book XIX consumer rules.

Every expected amount is worked out by hand from the law (legal-and-kpi.md §3.1, §3.2) in the
comment beside it. Amounts are the most that may be charged, rounded DOWN to the cent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.errors import DataError
from connector.model import DebtorKind, Money
from rules.costs import collection_costs, default_per_invoice, letter_costs

ON = date(2025, 6, 2)
C = DebtorKind.CONSUMER
B = DebtorKind.BUSINESS
U = DebtorKind.UNKNOWN


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


# --------------------------------------------------------------------------- NL: BIK scale

NL_SCALE = [
    # principal, expected costs, working
    ("0.01", "40.00"),  # 15 % x 0.01 = 0.0015 < minimum -> 40
    ("100", "40.00"),  # 15 % x 100 = 15 < 40 -> 40
    ("266.66", "40.00"),  # 15 % x 266.66 = 39.999 < 40 -> 40
    ("266.67", "40.00"),  # 15 % x 266.67 = 40.0005 -> rounded down 40.00
    ("266.74", "40.01"),  # 15 % x 266.74 = 40.011 -> 40.01
    ("1000", "150.00"),  # 15 % x 1,000 = 150
    ("1234.57", "185.18"),  # 15 % x 1,234.57 = 185.1855 -> down 185.18 (half up would give 185.19)
    ("2500", "375.00"),  # 15 % x 2,500 = 375
    ("2500.01", "375.00"),  # 375 + 10 % x 0.01 = 375.001 -> 375.00
    ("2500.10", "375.01"),  # 375 + 10 % x 0.10 = 375.01
    ("3000", "425.00"),  # 375 + 10 % x 500 = 425
    ("5000", "625.00"),  # 375 + 10 % x 2,500 = 625
    ("5000.20", "625.01"),  # 625 + 5 % x 0.20 = 625.01
    ("7500", "750.00"),  # 625 + 5 % x 2,500 = 750
    ("10000", "875.00"),  # 625 + 5 % x 5,000 = 875
    ("10001", "875.01"),  # 875 + 1 % x 1 = 875.01
    ("100000", "1775.00"),  # 875 + 1 % x 90,000 = 1,775
    ("200000", "2775.00"),  # 875 + 1 % x 190,000 = 2,775
    ("200001", "2775.00"),  # 2,775 + 0.5 % x 1 = 2,775.005 -> 2,775.00
    ("200002", "2775.01"),  # 2,775 + 0.5 % x 2 = 2,775.01
    ("500000", "4275.00"),  # 2,775 + 0.5 % x 300,000 = 4,275
    ("999999.99", "6774.99"),  # 2,775 + 0.5 % x 799,999.99 = 6,774.99995 -> 6,774.99
    ("1000000", "6775.00"),  # 2,775 + 0.5 % x 800,000 = 6,775 = the maximum
    ("1000000.01", "6775.00"),  # 6,775.00005 > maximum -> 6,775
    ("5000000", "6775.00"),  # 2,775 + 0.5 % x 4,800,000 = 26,775 > maximum -> 6,775
]


@pytest.mark.parametrize("kind", [C, B, U])
@pytest.mark.parametrize(("principal", "expected"), NL_SCALE)
def test_nl_bik_scale_for_every_debtor_kind(kind: DebtorKind, principal: str, expected: str) -> None:
    quote = collection_costs(country="NL", debtor_kind=kind, principal=eur(principal), on=ON)
    assert quote.costs == eur(expected)
    assert quote.allowed
    assert "Stb. 2012, 141" in quote.basis


def test_nl_explanation_names_each_slice_and_the_cap() -> None:
    quote = collection_costs(country="NL", debtor_kind=C, principal=eur("6000"), on=ON)
    # 15 % x 2,500 = 375; 10 % x 2,500 = 250; 5 % x 1,000 = 50; total 675
    assert quote.costs == eur("675.00")
    assert quote.explanation[:3] == [
        "15 % of EUR 2,500.00 (slice 0.00 to 2,500.00) = EUR 375.00",
        "10 % of EUR 2,500.00 (slice 2,500.00 to 5,000.00) = EUR 250.00",
        "5 % of EUR 1,000.00 (slice 5,000.00 to 10,000.00) = EUR 50.00",
    ]
    capped = collection_costs(country="NL", debtor_kind=B, principal=eur("2000000"), on=ON)
    assert "above the maximum: EUR 6,775.00" in capped.explanation
    floor = collection_costs(country="NL", debtor_kind=B, principal=eur("10"), on=ON)
    assert "below the minimum: EUR 40.00" in floor.explanation


def test_nl_consumer_reason_names_the_14_day_letter_and_unknown_kind_is_flagged() -> None:
    consumer = collection_costs(country="NL", debtor_kind=C, principal=eur("500"), on=ON)
    assert "14-day letter" in consumer.reason
    unknown = collection_costs(country="NL", debtor_kind=U, principal=eur("500"), on=ON)
    assert "treated as a consumer" in unknown.reason
    business = collection_costs(country="NL", debtor_kind=B, principal=eur("500"), on=ON)
    assert "without reminder" in business.reason


def test_nl_scale_does_not_need_a_clause() -> None:
    # 15 % x 800 = 120, with or without a clause in the contract
    quote = collection_costs(country="NL", debtor_kind=C, principal=eur("800"), on=ON, has_clause=False)
    assert quote.costs == eur("120.00")
    assert quote.allowed


def test_nl_scale_before_1_july_2012_is_unknown() -> None:
    with pytest.raises(DataError, match="table starts 2012-07-01"):
        collection_costs(country="NL", debtor_kind=C, principal=eur("800"), on=date(2012, 6, 30))


# --------------------------------------------------------------------------- BE businesses


@pytest.mark.parametrize(
    ("principal", "reminder"),
    [
        ("0.01", 1),  # fixed EUR 40 per late invoice, however small
        ("150", 1),
        ("100000", 1),  # fixed, not a percentage
        ("100000", 3),  # the reminder number does not matter for businesses
    ],
)
def test_be_business_fixed_40(principal: str, reminder: int) -> None:
    quote = collection_costs(country="BE", debtor_kind=B, principal=eur(principal), on=ON, reminder_number=reminder)
    assert quote.costs == eur("40.00")
    assert quote.allowed
    assert "2 augustus 2002" in quote.basis


# --------------------------------------------------------------------------- BE consumers (Book XIX)

BE_DAMAGES_ON_SECOND_REMINDER = [
    # principal, expected damages (no reminder fee: an ordinary debt, not a regular-delivery contract)
    ("0.01", "20.00"),  # <= 150: 20
    ("100", "20.00"),  # 20
    ("150", "20.00"),  # exactly 150 is still the first bracket
    ("150.01", "30.00"),  # 30 + 10 % x 0.01 = 30.001 -> 30.00
    ("150.10", "30.01"),  # 30 + 10 % x 0.10 = 30.01
    ("300", "45.00"),  # 30 + 10 % x 150 = 45
    ("500", "65.00"),  # 30 + 10 % x 350 = 65
    ("500.01", "65.00"),  # 65 + 5 % x 0.01 = 65.0005 -> 65.00
    ("777.77", "78.88"),  # 65 + 5 % x 277.77 = 78.8885 -> 78.88 (rounded down, never above the maximum)
    ("780.14", "79.00"),  # 65 + 5 % x 280.14 = 79.007 -> 79.00 (issue 10: was 88.46 -> 97.92 -> 101.50)
    ("1000", "90.00"),  # 65 + 5 % x 500 = 90
    ("39200", "2000.00"),  # 65 + 5 % x 38,700 = 2,000 = the cap (issue 10: was 2,007.50)
    ("39200.20", "2000.00"),  # 65 + 5 % x 38,700.20 = 2,000.01 > cap -> 2,000
    ("100000", "2000.00"),  # 65 + 5 % x 99,500 = 5,040 > cap -> 2,000
]


@pytest.mark.parametrize(("principal", "expected"), BE_DAMAGES_ON_SECOND_REMINDER)
def test_be_consumer_damages_brackets(principal: str, expected: str) -> None:
    for reminder in (2, 3, 5):  # later reminders add nothing on an ordinary debt
        quote = collection_costs(country="BE", debtor_kind=C, principal=eur(principal), on=ON, reminder_number=reminder)
        assert quote.costs == eur(expected)
        assert quote.allowed
    assert "boek XIX" in quote.basis


def test_be_consumer_reminder_fee_only_for_regular_delivery_from_the_4th_due_date_of_the_year() -> None:
    # principal 1,000: damages 65 + 5 % x 500 = 90
    ordinary = collection_costs(
        country="BE", debtor_kind=C, principal=eur("1000"), on=ON, reminder_number=3, postage=eur("1.65")
    )
    assert ordinary.costs == eur("90.00")
    assert any(line.startswith("no reminder fee: Book XIX allows EUR 7.50 + postage only") for line in ordinary.explanation)
    third_due_date = collection_costs(
        country="BE", debtor_kind=C, principal=eur("1000"), on=ON, reminder_number=3, postage=eur("1.65"),
        regular_delivery=True, due_date_number=3,
    )
    assert third_due_date.costs == eur("90.00")
    # 4th unpaid due date of a regular-delivery contract: reminders 2 and 3: 2 x (7.50 + 1.65) = 18.30; 108.30
    fourth = collection_costs(
        country="BE", debtor_kind=C, principal=eur("1000"), on=ON, reminder_number=3, postage=eur("1.65"),
        regular_delivery=True, due_date_number=4,
    )
    assert fourth.costs == eur("108.30")
    assert any("2 reminder(s) after the free first one" in line for line in fourth.explanation)


def test_be_consumer_cap_covers_damages_and_fees_together() -> None:
    # 39,200: damages 2,000 (the cap) + one fee 7.50 = 2,007.50 > 2,000 -> 2,000
    quote = collection_costs(
        country="BE", debtor_kind=C, principal=eur("39200"), on=ON, reminder_number=2, regular_delivery=True, due_date_number=4
    )
    assert quote.costs == eur("2000.00")


def test_be_consumer_first_reminder_is_free() -> None:
    quote = collection_costs(country="BE", debtor_kind=C, principal=eur("1000"), on=ON, reminder_number=1)
    assert quote.costs == eur("0")
    assert not quote.allowed
    assert quote.reason == "first reminder is free"


def test_be_consumer_without_clause_owes_nothing_and_says_why() -> None:
    quote = collection_costs(country="BE", debtor_kind=C, principal=eur("1000"), on=ON, has_clause=False, reminder_number=2)
    assert quote.costs == eur("0")
    assert not quote.allowed
    assert quote.reason == "no damages clause in the contract"


def test_be_unknown_kind_is_a_consumer() -> None:
    # consumer bracket, not the business EUR 40: first reminder free, then 65 + 5 % x 500 = 90
    first = collection_costs(country="BE", debtor_kind=U, principal=eur("1000"), on=ON, reminder_number=1)
    assert first.costs == eur("0")
    second = collection_costs(country="BE", debtor_kind=U, principal=eur("1000"), on=ON, reminder_number=2)
    assert second.costs == eur("90.00")
    assert "treated as a consumer" in second.reason


def test_be_consumer_rules_start_1_september_2023() -> None:
    with pytest.raises(DataError, match="table starts 2023-09-01"):
        collection_costs(country="BE", debtor_kind=C, principal=eur("100"), on=date(2023, 8, 31), reminder_number=2)
    # 20 on the first day Book XIX applies
    day_one = collection_costs(country="BE", debtor_kind=C, principal=eur("100"), on=date(2023, 9, 1), reminder_number=2)
    assert day_one.costs == eur("20.00")


# --------------------------------------------------------------------------- what is never charged


def test_nothing_on_a_zero_principal() -> None:
    quote = collection_costs(country="NL", debtor_kind=B, principal=eur("0"), on=ON)
    assert quote.costs == eur("0")
    assert not quote.allowed


def test_non_euro_principal_is_not_quoted() -> None:
    quote = collection_costs(country="NL", debtor_kind=B, principal=Money.of("1000", "USD"), on=ON)
    assert quote.costs == Money.of("0", "USD")
    assert not quote.allowed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal": eur("-1")}, "must not be negative"),
        ({"country": "DE"}, "unknown country"),
        ({"reminder_number": 0}, "reminder number"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"country": "NL", "debtor_kind": C, "principal": eur("100"), "on": ON}
    args.update(kwargs)
    with pytest.raises(DataError, match=message):
        collection_costs(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- one letter, several invoices


def test_nl_letter_costs_on_the_combined_principal() -> None:
    # 100 + 100 + 100 = 300 -> 15 % x 300 = 45 (per invoice it would be 3 x minimum 40 = 120)
    quote = letter_costs(country="NL", debtor_kind=C, principals=[eur("100")] * 3, on=ON)
    assert quote.costs == eur("45.00")
    assert quote.explanation[0] == "on the combined principal EUR 300.00 of 3 invoices in one letter"


def test_nl_letter_costs_per_invoice_when_asked() -> None:
    # 3 x max(15 % x 100, 40) = 120
    quote = letter_costs(country="NL", debtor_kind=B, principals=[eur("100")] * 3, on=ON, per_invoice=True)
    assert quote.costs == eur("120.00")


def test_be_business_letter_costs_40_per_invoice_by_default() -> None:
    # 3 late invoices x EUR 40
    assert default_per_invoice("BE", B)
    quote = letter_costs(country="BE", debtor_kind=B, principals=[eur("10"), eur("5000"), eur("20")], on=ON)
    assert quote.costs == eur("120.00")


def test_be_consumer_letter_costs_on_the_balance() -> None:
    # 100 + 100 = 200: 30 + 10 % x 50 = 35 (not 2 x 20: one balance)
    assert not default_per_invoice("BE", C)
    quote = letter_costs(country="BE", debtor_kind=C, principals=[eur("100"), eur("100")], on=ON, reminder_number=2)
    assert quote.costs == eur("35.00")


def test_letter_costs_refuse_mixed_currencies() -> None:
    with pytest.raises(DataError, match="cannot combine currencies"):
        letter_costs(country="NL", debtor_kind=C, principals=[eur("1"), Money.of("1", "USD")], on=ON)


def test_costs_are_decimal_money() -> None:
    quote = collection_costs(country="NL", debtor_kind=C, principal=eur("1000"), on=ON)
    assert isinstance(quote.costs.amount, Decimal)
