"""Statutory and commercial interest from the dated tables (rules/data/interest.yaml).

Rates used (legal-and-kpi.md §3.1/§3.2): NL commercial 12.5 % (H1 2024), 12.25 % (H2 2024),
11.15 % (H1 2025), 10.15 % (H2 2025); NL statutory 7 % (2024), 6 % (H1 2025), 4 % (H2 2025);
BE commercial 12.5 % (2024), 11.5 % (H1 2025), 10.5 % (H2 2025); BE legal 4.5 % (2025).
Interest runs from the day after the due date to the quote date inclusive, days / actual days of
the calendar year (366 in a leap year, issue 10 point 11), each
period rounded down to the cent. NL adds a full year's interest to the principal; BE is simple.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.errors import DataError
from connector.model import DebtorKind, Money
from rules.costs import interest

C = DebtorKind.CONSUMER
B = DebtorKind.BUSINESS


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


CASES = [
    # id, country, kind, principal, due, on, expected periods (start, end, days, rate, amount), total
    pytest.param(
        "NL", B, "1000", date(2024, 3, 31), date(2024, 4, 30),
        # 1 to 30 April 2024 (a leap year) = 30 days: 1,000 x 12.5 % x 30 / 366 = 3,750 / 366 = 10.2459 -> 10.24
        [(date(2024, 4, 1), date(2024, 4, 30), 30, "12.50", "10.24")], "10.24",
        id="nl-commercial-one-period",
    ),
    pytest.param(
        "NL", B, "1000", date(2024, 6, 15), date(2024, 7, 15),
        # 16-30 June = 15 days x 12.5 %: 1,875 / 366 = 5.1229 -> 5.12
        # 1-15 July = 15 days x 12.25 %: 1,837.5 / 366 = 5.0204 -> 5.02; total 10.14
        [
            (date(2024, 6, 16), date(2024, 6, 30), 15, "12.50", "5.12"),
            (date(2024, 7, 1), date(2024, 7, 15), 15, "12.25", "5.02"),
        ],
        "10.14",
        id="nl-commercial-across-half-year",
    ),
    pytest.param(
        "NL", C, "1000", date(2024, 1, 31), date(2025, 2, 28),
        # statutory: 1 Feb-30 Jun 2024 = 29+31+30+31+30 = 151 days x 7 %: 10,570 / 366 = 28.8797 -> 28.87
        # 1 Jul-31 Dec 2024 = 184 days x 7 %: 12,880 / 366 = 35.1912 -> 35.19
        # 1-31 Jan 2025 = 31 days x 6 %: 1,860 / 365 = 5.0958 -> 5.09
        # 1 Feb 2025 a full year: 28.87 + 35.19 + 5.09 = 69.15 added -> principal 1,069.15
        # 1-28 Feb 2025 = 28 days x 6 % x 1,069.15: 1,796.172 / 365 = 4.9210 -> 4.92; total 74.07
        [
            (date(2024, 2, 1), date(2024, 6, 30), 151, "7", "28.87"),
            (date(2024, 7, 1), date(2024, 12, 31), 184, "7", "35.19"),
            (date(2025, 1, 1), date(2025, 1, 31), 31, "6", "5.09"),
            (date(2025, 2, 1), date(2025, 2, 28), 28, "6", "4.92"),
        ],
        "74.07",
        id="nl-statutory-compounds-after-a-year",
    ),
    pytest.param(
        "NL", B, "1000", date(2024, 2, 28), date(2025, 3, 1),
        # first day 29 Feb 2024; its year ends 28 Feb 2025, so it compounds on 1 March 2025
        # 29 Feb-30 Jun = 1+31+30+31+30 = 123 days x 12.5 %: 15,375 / 366 = 42.0081 -> 42.00
        # 1 Jul-31 Dec = 184 days x 12.25 %: 22,540 / 366 = 61.5846 -> 61.58
        # 1 Jan-28 Feb 2025 = 59 days x 11.15 %: 6,578.5 / 365 = 18.0232 -> 18.02
        # 1 Mar 2025: 42.00 + 61.58 + 18.02 = 121.60 added -> 1,121.60
        # 1 Mar = 1 day x 11.15 % x 1,121.60: 125.0584 / 365 = 0.3426 -> 0.34; total 121.94
        [
            (date(2024, 2, 29), date(2024, 6, 30), 123, "12.50", "42.00"),
            (date(2024, 7, 1), date(2024, 12, 31), 184, "12.25", "61.58"),
            (date(2025, 1, 1), date(2025, 2, 28), 59, "11.15", "18.02"),
            (date(2025, 3, 1), date(2025, 3, 1), 1, "11.15", "0.34"),
        ],
        "121.94",
        id="nl-commercial-leap-day-start-compounds-on-1-march",
    ),
    pytest.param(
        "BE", B, "1000", date(2024, 6, 30), date(2025, 7, 31),
        # simple interest on 1,000 throughout, no compounding after a year:
        # 1 Jul-31 Dec 2024 = 184 days x 12.5 %: 23,000 / 366 = 62.8415 -> 62.84
        # 1 Jan-30 Jun 2025 = 181 days x 11.5 %: 20,815 / 365 = 57.0273 -> 57.02
        # 1-31 Jul 2025 = 31 days x 10.5 %: 3,255 / 365 = 8.9178 -> 8.91; total 128.77
        [
            (date(2024, 7, 1), date(2024, 12, 31), 184, "12.5", "62.84"),
            (date(2025, 1, 1), date(2025, 6, 30), 181, "11.5", "57.02"),
            (date(2025, 7, 1), date(2025, 7, 31), 31, "10.5", "8.91"),
        ],
        "128.77",
        id="be-commercial-simple-across-a-year",
    ),
    pytest.param(
        "BE", C, "1000", date(2024, 12, 31), date(2025, 3, 1),
        # legal interest 4.5 %: 1 Jan-1 Mar 2025 = 31 + 28 + 1 = 60 days: 2,700 / 365 = 7.3972 -> 7.39
        [(date(2025, 1, 1), date(2025, 3, 1), 60, "4.5", "7.39")],
        "7.39",
        id="be-legal-consumer",
    ),
]


@pytest.mark.parametrize(("country", "kind", "principal", "due", "on", "periods", "total"), CASES)
def test_interest_periods_and_total(
    country: str,
    kind: DebtorKind,
    principal: str,
    due: date,
    on: date,
    periods: list[tuple[date, date, int, str, str]],
    total: str,
) -> None:
    quote = interest(country=country, debtor_kind=kind, principal=eur(principal), due=due, on=on)
    got = [(p.start, p.end, p.days, p.rate, p.amount) for p in quote.periods]
    assert got == [(s, e, d, Decimal(r), eur(a)) for s, e, d, r, a in periods]
    assert quote.amount == eur(total)


def test_nl_compounding_is_explained() -> None:
    quote = interest(country="NL", debtor_kind=C, principal=eur("1000"), due=date(2024, 1, 31), on=date(2025, 2, 28))
    assert (
        "2025-02-01: a full year's interest EUR 69.15 added to the principal, now EUR 1,069.15" in quote.explanation
    )
    assert "2024-02-01 to 2024-06-30: 151 days x 7 % x EUR 1,000.00 / 366 = EUR 28.87" in quote.explanation
    assert "2025-01-01 to 2025-01-31: 31 days x 6 % x EUR 1,000.00 / 365 = EUR 5.09" in quote.explanation


def test_commercial_flag_overrides_the_debtor_kind() -> None:
    # a consumer quoted at the commercial rate: 30 days x 12.5 % x 1,000 / 366 = 10.2459 -> 10.24
    quote = interest(
        country="NL", debtor_kind=C, principal=eur("1000"), due=date(2024, 3, 31), on=date(2024, 4, 30), commercial=True
    )
    assert quote.amount == eur("10.24")
    assert quote.regime == "nl_commercial"


def test_unknown_debtor_gets_statutory_interest() -> None:
    # statutory 7 %: 30 days x 7 % x 1,000 / 366 = 2,100 / 366 = 5.7377 -> 5.73
    quote = interest(
        country="NL", debtor_kind=DebtorKind.UNKNOWN, principal=eur("1000"), due=date(2024, 3, 31), on=date(2024, 4, 30)
    )
    assert quote.amount == eur("5.73")
    assert quote.regime == "nl_statutory"


@pytest.mark.parametrize("on", [date(2024, 3, 31), date(2024, 3, 1)])
def test_no_interest_until_after_the_due_date(on: date) -> None:
    quote = interest(country="NL", debtor_kind=B, principal=eur("1000"), due=date(2024, 3, 31), on=on)
    assert quote.amount == eur("0")
    assert quote.periods == []


def test_interest_before_the_table_is_refused() -> None:
    with pytest.raises(DataError, match="no nl_commercial interest rate known before 2023-01-01"):
        interest(country="NL", debtor_kind=B, principal=eur("1000"), due=date(2022, 12, 15), on=date(2023, 1, 10))


def test_unpublished_and_computed_rates_are_flagged_with_their_status() -> None:
    quote = interest(country="NL", debtor_kind=B, principal=eur("1000"), due=date(2026, 5, 31), on=date(2026, 8, 1))
    assert quote.rate_status == "unverified"
    assert quote.rate_warnings == [
        "rate 10.15 % from 2026-01-01 is computed: ECB MRO held at 2.15 through December 2025 + 8, art. 6:120(2) BW",
        "rate for days after 2026-06-30 is unverified: not yet published when rules/data/interest.yaml was written; "
        "the last known rate is assumed",
    ]
    assert all(line in quote.explanation for line in quote.rate_warnings)
    computed = interest(country="NL", debtor_kind=B, principal=eur("1000"), due=date(2025, 7, 31), on=date(2025, 8, 30))
    assert computed.rate_status == "computed"
    verified = interest(country="NL", debtor_kind=B, principal=eur("1000"), due=date(2024, 3, 31), on=date(2024, 4, 30))
    assert verified.rate_status == "verified" and verified.rate_warnings == []


def test_the_nl_statutory_rate_from_1_july_2025_is_6_percent_not_4() -> None:
    # No decree changed the rate on 2025-07-01 (BWB version list of BWBR0047640); the table said 4.
    # 1-31 Jul 2025 = 31 days x 6 % x 1,000 / 365 = 1,860 / 365 = 5.0958 -> 5.09
    quote = interest(country="NL", debtor_kind=C, principal=eur("1000"), due=date(2025, 6, 30), on=date(2025, 7, 31))
    assert [(p.rate, p.amount) for p in quote.periods] == [(Decimal("6"), eur("5.09"))]
    assert quote.rate_status == "verified"


def test_negative_principal_is_refused() -> None:
    with pytest.raises(DataError, match="must not be negative"):
        interest(country="BE", debtor_kind=B, principal=eur("-1"), due=date(2024, 3, 31), on=date(2024, 4, 30))


def test_a_leap_year_counts_366_days_and_the_next_year_365() -> None:
    # BE legal interest, simple: 1-31 Dec 2023 = 31 days x 5.25 % x 10,000 / 365 = 16,275 / 365 = 44.5890 -> 44.58;
    # 1 Jan-31 Dec 2024 = 366 days x 5.75 % x 10,000 / 366 = 575.00 exactly (a full leap year, a full year's rate)
    quote = interest(country="BE", debtor_kind=C, principal=eur("10000"), due=date(2023, 11, 30), on=date(2024, 12, 31))
    assert [(p.start, p.days, p.year_days, p.amount) for p in quote.periods] == [
        (date(2023, 12, 1), 31, 365, eur("44.58")),
        (date(2024, 1, 1), 366, 366, eur("575.00")),
    ]
