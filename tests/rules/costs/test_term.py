"""Business days and the consumer's 14-day term before costs (NL art. 6:96(6) BW, BE Book XIX).

Holidays come from the ``holidays`` package. Weekdays of the dates used are written beside them.
"""

from __future__ import annotations

from datetime import date

import pytest

from connector.errors import DataError
from rules.calendar import add_business_days, is_business_day, next_business_day, roll_to_business_day
from rules.costs import assumed_receipt, consumer_costs_from, term_explanation

# --------------------------------------------------------------------------- calendar


@pytest.mark.parametrize(
    ("day", "country", "expected"),
    [
        (date(2025, 1, 6), "NL", True),  # Monday
        (date(2025, 1, 4), "NL", False),  # Saturday
        (date(2025, 1, 5), "BE", False),  # Sunday
        (date(2025, 4, 21), "NL", False),  # Easter Monday
        (date(2025, 4, 26), "NL", False),  # King's Day (a Saturday anyway)
        (date(2025, 4, 28), "NL", True),  # Monday after King's Day
        (date(2025, 7, 21), "BE", False),  # Belgian National Day, a Monday
        (date(2025, 7, 21), "NL", True),  # an ordinary Monday in NL
        (date(2025, 11, 11), "BE", False),  # Armistice Day, a Tuesday
        (date(2025, 12, 26), "NL", False),  # Second Christmas Day
        (date(2025, 12, 26), "BE", True),  # not a public holiday in BE
    ],
)
def test_is_business_day(day: date, country: str, expected: bool) -> None:
    assert is_business_day(day, country) is expected


def test_next_roll_and_add_business_days() -> None:
    assert next_business_day(date(2025, 1, 3), "NL") == date(2025, 1, 6)  # Friday -> Monday
    assert next_business_day(date(2025, 1, 6), "NL") == date(2025, 1, 7)  # strictly after
    assert next_business_day(date(2025, 12, 24), "NL") == date(2025, 12, 29)  # over 25, 26, weekend
    assert roll_to_business_day(date(2025, 1, 6), "BE") == date(2025, 1, 6)  # a business day stays
    assert roll_to_business_day(date(2025, 7, 19), "BE") == date(2025, 7, 22)  # Sat -> over Sun, 21 Jul -> Tue
    assert add_business_days(date(2025, 1, 6), 3, "BE") == date(2025, 1, 9)  # Mon + 3 = Thu
    assert add_business_days(date(2025, 1, 9), -3, "BE") == date(2025, 1, 6)  # and back
    assert add_business_days(date(2025, 1, 4), 0, "BE") == date(2025, 1, 4)  # 0: the day itself
    assert add_business_days(date(2025, 4, 17), 2, "BE") == date(2025, 4, 22)  # Thu + Fri 18, (weekend, Easter Monday) Tue 22


def test_unknown_country_in_calendar() -> None:
    with pytest.raises(DataError, match="unknown country 'FR'"):
        is_business_day(date(2025, 1, 6), "FR")


# --------------------------------------------------------------------------- assumed receipt and the term

TERMS = [
    # country, channel, sent, assumed receipt, first day costs may be charged
    pytest.param(
        "NL", "letter", date(2025, 1, 2), date(2025, 1, 4), date(2025, 1, 21),
        # posted Thu 2 Jan; delivery days Fri 3 (1st), Sat 4 (2nd) -> receipt Sat 4 Jan;
        # 14 days 5..18 Jan, 18 Jan is a Saturday -> runs to Mon 20 Jan; costs from Tue 21 Jan
        id="nl-letter-term-ends-on-saturday",
    ),
    pytest.param(
        "NL", "letter", date(2025, 1, 3), date(2025, 1, 7), date(2025, 1, 22),
        # posted Fri 3 Jan; Sat 4 (1st), Sun 5 and Mon 6 no delivery, Tue 7 (2nd) -> receipt Tue 7;
        # 14 days 8..21 Jan (Tue) -> costs from Wed 22 Jan
        id="nl-letter-no-delivery-sunday-monday",
    ),
    pytest.param(
        "NL", "registered_letter", date(2025, 1, 3), date(2025, 1, 7), date(2025, 1, 22),
        # same presumption as an ordinary letter
        id="nl-registered-letter",
    ),
    pytest.param(
        "NL", "letter", date(2025, 12, 23), date(2025, 12, 27), date(2026, 1, 13),
        # posted Tue 23 Dec; Wed 24 (1st), 25 and 26 Christmas, Sat 27 (2nd) -> receipt Sat 27 Dec;
        # 14 days 28 Dec..10 Jan (Sat) -> runs to Mon 12 Jan; costs from Tue 13 Jan 2026
        id="nl-letter-over-christmas-and-new-year",
    ),
    pytest.param(
        "NL", "email", date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 22),
        # e-mail Mon 6 Jan, assumed read the next day Tue 7; 14 days 8..21 Jan; costs from Wed 22 Jan
        id="nl-email",
    ),
    pytest.param(
        "NL", "email", date(2025, 4, 10), date(2025, 4, 11), date(2025, 4, 26),
        # e-mail Thu 10 Apr, receipt Fri 11; 14 days 12..25 Apr (Fri, a business day); costs from Sat 26 Apr
        id="nl-email-costs-may-start-on-a-saturday",
    ),
    pytest.param(
        "NL", "email", date(2025, 4, 6), date(2025, 4, 7), date(2025, 4, 23),
        # e-mail Sun 6 Apr, receipt Mon 7; 14 days 8..21 Apr, 21 Apr is Easter Monday -> runs to Tue 22;
        # costs from Wed 23 Apr
        id="nl-email-term-ends-on-easter-monday",
    ),
    pytest.param(
        "BE", "letter", date(2025, 1, 3), date(2025, 1, 8), date(2025, 1, 22),
        # posted Fri 3 Jan; working days Mon 6, Tue 7, Wed 8 -> the term starts Wed 8 Jan;
        # 14 days 8..21 Jan; costs from Wed 22 Jan (19 days after posting, over a weekend)
        id="be-letter-third-working-day",
    ),
    pytest.param(
        "BE", "letter", date(2025, 1, 6), date(2025, 1, 9), date(2025, 1, 23),
        # posted Mon 6 Jan; Tue 7, Wed 8, Thu 9 -> term 9..22 Jan; costs from Thu 23 Jan (17 days: docs/reference/legal-and-kpi.md §3.2)
        id="be-letter-17-days-in-practice",
    ),
    pytest.param(
        "BE", "letter", date(2025, 12, 24), date(2025, 12, 30), date(2026, 1, 13),
        # posted Wed 24 Dec; Thu 25 Christmas, Fri 26 (1st), weekend, Mon 29 (2nd), Tue 30 (3rd);
        # term 30 Dec..12 Jan; costs from Tue 13 Jan 2026
        id="be-letter-over-christmas",
    ),
    pytest.param(
        "BE", "letter", date(2025, 7, 18), date(2025, 7, 24), date(2025, 8, 7),
        # posted Fri 18 Jul; weekend, Mon 21 National Day, Tue 22 (1st), Wed 23 (2nd), Thu 24 (3rd);
        # term 24 Jul..6 Aug; costs from Thu 7 Aug
        id="be-letter-over-national-day",
    ),
    pytest.param(
        "BE", "email", date(2025, 1, 6), date(2025, 1, 6), date(2025, 1, 21),
        # e-mail Mon 6 Jan: term starts the day after, 7..20 Jan; costs from Tue 21 Jan (14 days in practice)
        id="be-email-day-after",
    ),
]


@pytest.mark.parametrize(("country", "channel", "sent", "receipt", "costs_from"), TERMS)
def test_assumed_receipt_and_first_day_of_costs(
    country: str, channel: str, sent: date, receipt: date, costs_from: date
) -> None:
    assert assumed_receipt(country=country, sent=sent, channel=channel) == receipt
    assert consumer_costs_from(country=country, letter_sent=sent, channel=channel) == costs_from


def test_term_explanation_states_receipt_and_first_day() -> None:
    lines = term_explanation(country="BE", letter_sent=date(2025, 1, 6), channel="letter")
    assert lines == [
        "sent 2025-01-06 by letter, assumed receipt 2025-01-09",
        "14-day term ends 2025-01-22; costs from 2025-01-23",
    ]


def test_unknown_channel_is_refused() -> None:
    with pytest.raises(DataError, match="unknown channel 'fax'"):
        consumer_costs_from(country="NL", letter_sent=date(2025, 1, 6), channel="fax")


def test_no_consumer_term_before_the_law_applied() -> None:
    # Book XIX applies from 1 Sep 2023 (docs/reference/legal-and-kpi.md §3.2)
    with pytest.raises(DataError, match="no BE consumer term rule known for 2023-08-31"):
        consumer_costs_from(country="BE", letter_sent=date(2023, 8, 31), channel="letter")
    # first day: posted Fri 1 Sep 2023; Mon 4, Tue 5, Wed 6 -> term 6..19 Sep; costs from Wed 20 Sep
    assert consumer_costs_from(country="BE", letter_sent=date(2023, 9, 1), channel="letter") == date(2023, 9, 20)


def test_a_day_that_is_a_business_day_in_nl_and_be_alike() -> None:
    from rules.calendar import business_day_in_all

    assert business_day_in_all(date(2026, 11, 30), ("NL", "BE")) == date(2026, 11, 30)  # a Monday
    assert business_day_in_all(date(2026, 11, 28), ("NL", "BE")) == date(2026, 11, 30)  # Saturday: Monday
    # 21 July (BE National Day, Tuesday in 2026) is a business day in NL but not in BE
    assert business_day_in_all(date(2026, 7, 21), ("NL", "BE")) == date(2026, 7, 22)
    # 27 April (King's Day, Monday in 2026) is a holiday in NL only
    assert business_day_in_all(date(2026, 4, 27), ("NL", "BE")) == date(2026, 4, 28)
