"""Invariants of the cost and interest rules, checked with hypothesis."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import DebtorKind, Money
from rules.calendar import add_business_days, is_business_day, next_business_day, roll_to_business_day
from rules.costs import assumed_receipt, collection_costs, consumer_costs_from, interest
from rules.references import be_structured_reference, is_valid_reference, rf_reference

ON = date(2025, 6, 2)
cents = st.integers(min_value=1, max_value=300_000_000).map(lambda c: Decimal(c) / 100)  # 0.01 .. 3,000,000.00
kinds = st.sampled_from(list(DebtorKind))
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


def eur(amount: Decimal) -> Money:
    return Money(amount=amount, currency="EUR")


def costs(country: str, kind: DebtorKind, principal: Decimal, reminder: int = 2) -> Decimal:
    quote = collection_costs(country=country, debtor_kind=kind, principal=eur(principal), on=ON, reminder_number=reminder)
    return quote.costs.amount


@settings(max_examples=200, deadline=None)
@given(country=st.sampled_from(["NL", "BE"]), kind=kinds, a=cents, b=cents)
def test_costs_never_decrease_as_the_principal_grows(country: str, kind: DebtorKind, a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert costs(country, kind, low) <= costs(country, kind, high)


@settings(max_examples=200, deadline=None)
@given(kind=kinds, principal=cents)
def test_nl_costs_stay_between_40_and_6775(kind: DebtorKind, principal: Decimal) -> None:
    assert Decimal(40) <= costs("NL", kind, principal) <= Decimal(6775)


@settings(max_examples=200, deadline=None)
@given(principal=cents, reminder=st.integers(min_value=2, max_value=6))
def test_be_consumer_damages_stay_within_the_cap(principal: Decimal, reminder: int) -> None:
    # damages between 20 and 2,000 whatever the reminder: no fee on an ordinary debt, and the cap covers all
    assert Decimal(20) <= costs("BE", DebtorKind.CONSUMER, principal, reminder) <= Decimal(2000)


@settings(max_examples=100, deadline=None)
@given(principal=cents, kind=st.sampled_from([DebtorKind.CONSUMER, DebtorKind.UNKNOWN]), clause=st.booleans())
def test_be_consumer_first_reminder_is_always_free(principal: Decimal, kind: DebtorKind, clause: bool) -> None:
    quote = collection_costs(country="BE", debtor_kind=kind, principal=eur(principal), on=ON, has_clause=clause)
    assert quote.costs.amount == 0
    assert not quote.allowed


@settings(max_examples=100, deadline=None)
@given(
    country=st.sampled_from(["NL", "BE"]),
    channel=st.sampled_from(["email", "letter", "registered_letter"]),
    sent=days,
)
def test_costs_never_start_before_14_full_days_after_receipt(country: str, channel: str, sent: date) -> None:
    receipt = assumed_receipt(country=country, sent=sent, channel=channel)
    start = consumer_costs_from(country=country, letter_sent=sent, channel=channel)
    if country == "NL":
        # receipt at the earliest the day after sending; 14 full days after the receipt day
        assert receipt > sent
        assert start >= receipt + timedelta(days=15)
    elif channel == "email":
        # term starts the day after sending: 14 days (longer when the 14th is a Saturday, Sunday or holiday)
        assert start >= sent + timedelta(days=15)
        assert (start - timedelta(days=1)).weekday() < 5
    else:
        # term starts the third working day after posting (at least 3 days later)
        assert receipt >= sent + timedelta(days=3)
        assert start >= receipt + timedelta(days=14)
        assert (start - timedelta(days=1)).weekday() < 5


@settings(max_examples=100, deadline=None)
@given(country=st.sampled_from(["NL", "BE"]), kind=kinds, principal=cents, due=days, extra=st.integers(1, 800))
def test_interest_periods_cover_every_late_day_once(
    country: str, kind: DebtorKind, principal: Decimal, due: date, extra: int
) -> None:
    on = due + timedelta(days=extra)
    quote = interest(country=country, debtor_kind=kind, principal=eur(principal), due=due, on=on)
    assert sum(p.days for p in quote.periods) == extra
    assert quote.periods[0].start == due + timedelta(days=1)
    assert quote.periods[-1].end == on
    assert quote.amount.amount == sum((p.amount.amount for p in quote.periods), Decimal(0))
    for before, after in zip(quote.periods, quote.periods[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
        assert after.principal.amount >= before.principal.amount


@settings(max_examples=100, deadline=None)
@given(day=days, n=st.integers(min_value=1, max_value=30), country=st.sampled_from(["NL", "BE"]))
def test_business_day_arithmetic(day: date, n: int, country: str) -> None:
    later = add_business_days(day, n, country)
    assert is_business_day(later, country)
    assert later > day
    back = add_business_days(later, -n, country)
    assert is_business_day(back, country)
    assert back == day if is_business_day(day, country) else back < day < roll_to_business_day(day, country)
    assert next_business_day(day, country) == add_business_days(day, 1, country)


@settings(max_examples=200, deadline=None)
@given(base=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=21), number=st.integers(0, 9_999_999_999))
def test_generated_references_validate(base: str, number: int) -> None:
    assert is_valid_reference(rf_reference(base))
    assert is_valid_reference(be_structured_reference(number))


@settings(max_examples=100, deadline=None)
@given(country=st.sampled_from(["NL", "BE"]), kind=kinds, principal=cents, due=days, a=st.integers(0, 800), b=st.integers(0, 800))
def test_interest_never_decreases_with_time(
    country: str, kind: DebtorKind, principal: Decimal, due: date, a: int, b: int
) -> None:
    early, late = sorted((a, b))
    first = interest(country=country, debtor_kind=kind, principal=eur(principal), due=due, on=due + timedelta(days=early))
    second = interest(country=country, debtor_kind=kind, principal=eur(principal), due=due, on=due + timedelta(days=late))
    assert first.amount.amount <= second.amount.amount
