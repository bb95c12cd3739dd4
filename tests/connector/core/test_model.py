"""Money is exact and never mixes currencies."""

from decimal import Decimal

import pytest

from connector.errors import CurrencyMismatch
from connector.model import Money, sum_by_currency, to_decimal


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (0.1, Decimal("0.1")),
        (1234.56, Decimal("1234.56")),
        (-0.07, Decimal("-0.07")),
        (100, Decimal("100")),
        ("99.995", Decimal("99.995")),
        (" 12.30 ", Decimal("12.30")),
    ],
)
def test_wire_amounts_become_exact_decimals(wire: object, expected: Decimal) -> None:
    assert to_decimal(wire) == expected
    assert str(to_decimal(wire)) == str(expected)


@pytest.mark.parametrize("bad", [True, float("nan"), float("inf"), "12,50", "abc", None])
def test_values_that_are_no_amount_are_refused(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        to_decimal(bad)


def test_money_adds_within_one_currency_only() -> None:
    assert Money.of("10.10", "eur") + Money.of("0.20", "EUR") == Money.of("10.30", "EUR")
    with pytest.raises(CurrencyMismatch):
        _ = Money.of(1, "EUR") + Money.of(1, "USD")


def test_multiplying_money_by_a_float_is_refused() -> None:
    with pytest.raises(TypeError):
        _ = Money.of(1, "EUR") * 1.5  # type: ignore[operator]


def test_rounding_is_half_up_to_cents() -> None:
    assert Money.of("2.345", "EUR").rounded().amount == Decimal("2.35")
    assert Money.of("-2.345", "EUR").rounded().amount == Decimal("-2.35")
    assert Money.of("2.344", "EUR").rounded().amount == Decimal("2.34")


def test_totals_are_kept_per_currency() -> None:
    totals = sum_by_currency(
        [Money.of("1.10", "EUR"), Money.of("5", "USD"), Money.of("2.20", "EUR"), Money.of("-1", "USD")]
    )
    assert totals == {"EUR": Money.of("3.30", "EUR"), "USD": Money.of("4", "USD")}
