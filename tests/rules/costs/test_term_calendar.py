"""Terms end by the calendar of the law that sets them, not by the "may we send today" calendar.

NL: Algemene termijnenwet art. 1 (a term ending on a Saturday, Sunday or holiday runs to the next
day that is none of these) and art. 3 (its holidays: 5 May every year, Good Friday, and days a
decree equates with them: Stcrt. 2025, 24713 names 2 Jan 2026, 15 May 2026, 7 May 2027).
BE: Ger.W. art. 53 (a last day on a Saturday, Sunday or legal holiday moves to the next working day).
Postal norm: a letter is assumed delivered on the 2nd delivery day (Tuesday to Saturday) after
posting, and from 2027-07-01 on the 3rd.
"""

from __future__ import annotations

from datetime import date

import pytest

from rules.calendar import is_business_day, is_term_holiday, term_end
from rules.costs import assumed_receipt, consumer_costs_from


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 5, 5), "5 mei"),  # not a lustrum year: the holidays package does not list it
        (date(2027, 5, 5), "5 mei"),
        (date(2026, 4, 3), "Goede Vrijdag"),
        (date(2026, 1, 2), "gelijkgesteld (Stcrt. 2025, 24713)"),
        (date(2026, 5, 15), "gelijkgesteld (Stcrt. 2025, 24713)"),
        (date(2027, 5, 7), "gelijkgesteld (Stcrt. 2025, 24713)"),
        (date(2026, 4, 27), "Koningsdag"),
        (date(2025, 4, 26), "Koningsdag"),  # 27 April 2025 was a Sunday
    ],
)
def test_holidays_of_the_algemene_termijnenwet(day: date, name: str) -> None:
    assert is_term_holiday(day, "NL") == name


def test_ordinary_days_around_them_are_not_holidays() -> None:
    assert is_term_holiday(date(2026, 4, 17), "NL") is None
    assert is_term_holiday(date(2026, 4, 28), "NL") is None
    # the calendar that decides whether we may send today is a different one: 5 May 2026 is a working day there
    assert is_business_day(date(2026, 5, 5), "NL")


def test_nl_14_day_letter_posted_friday_17_april_2026_runs_past_5_may() -> None:
    sent = date(2026, 4, 17)
    # delivery days after Friday: Saturday 18 (1st), Monday 20 is none, Tuesday 21 (2nd)
    assert assumed_receipt(country="NL", sent=sent, channel="letter") == date(2026, 4, 21)
    # 14 days from Wednesday 22 April: the 14th is Tuesday 5 May, a holiday of the Act -> Wednesday 6 May
    assert consumer_costs_from(country="NL", letter_sent=sent, channel="letter") == date(2026, 5, 7)


def test_nl_14_day_letter_posted_tuesday_28_april_2026_runs_past_ascension_and_the_decree_day() -> None:
    sent = date(2026, 4, 28)
    assert assumed_receipt(country="NL", sent=sent, channel="letter") == date(2026, 4, 30)
    # 14 days from Friday 1 May: the 14th is Thursday 14 May (Ascension), Friday 15 May is equated
    # by decree, then the weekend -> the term ends Monday 18 May; costs from Tuesday 19 May
    assert term_end(date(2026, 5, 14), "NL") == date(2026, 5, 18)
    assert consumer_costs_from(country="NL", letter_sent=sent, channel="letter") == date(2026, 5, 19)


def test_postal_norm_of_three_delivery_days_from_1_july_2027() -> None:
    # Monday 28 June 2027, two delivery days: Tuesday 29, Wednesday 30 -> 14 days 1-14 July, costs 15 July
    assert assumed_receipt(country="NL", sent=date(2027, 6, 28), channel="letter") == date(2027, 6, 30)
    assert consumer_costs_from(country="NL", letter_sent=date(2027, 6, 28), channel="letter") == date(2027, 7, 15)
    # Monday 5 July 2027, three delivery days: Tuesday 6, Wednesday 7, Thursday 8 -> 9-22 July, costs 23 July
    assert assumed_receipt(country="NL", sent=date(2027, 7, 5), channel="letter") == date(2027, 7, 8)
    assert consumer_costs_from(country="NL", letter_sent=date(2027, 7, 5), channel="letter") == date(2027, 7, 23)


def test_be_term_ending_on_a_sunday_runs_to_the_monday() -> None:
    # e-mail on Sunday 1 March 2026: 14 days from Monday 2 March end Sunday 15 March -> Monday 16 March
    assert term_end(date(2026, 3, 15), "BE") == date(2026, 3, 16)
    assert consumer_costs_from(country="BE", letter_sent=date(2026, 3, 1), channel="email") == date(2026, 3, 17)
