"""Business days in the Netherlands and Belgium.

A business day is a weekday (Monday to Friday) that is not a public holiday of the country, as
the ``holidays`` package lists them (``holidays.country_holidays("NL" | "BE")``). Saturdays are
never business days here; where a legal term counts "working days" (BE Book XIX: "the third
working day after a letter is sent", legal-and-kpi.md §3.2) this is the conservative reading: it
can only make a term end later, never earlier.

Pure functions; the holiday tables are cached per country and year.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays

from connector.errors import DataError

COUNTRIES = ("NL", "BE")


def _country(country: str) -> str:
    code = country.strip().upper()
    if code not in COUNTRIES:
        raise DataError(f"unknown country {country!r}: use one of {', '.join(COUNTRIES)}")
    return code


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def holiday_name(day: date, country: str) -> str | None:
    """The name of the public holiday on ``day`` (for explanations), or None."""
    code = _country(country)
    if day not in _holidays(code, day.year):
        return None
    name = holidays.country_holidays(code, years=day.year).get(day)
    return str(name) if name is not None else None


def is_business_day(day: date, country: str) -> bool:
    """True on a weekday that is not a public holiday of ``country`` ("NL" or "BE")."""
    code = _country(country)
    return day.weekday() < 5 and day not in _holidays(code, day.year)


def next_business_day(day: date, country: str) -> date:
    """The first business day strictly after ``day``."""
    candidate = day + timedelta(days=1)
    while not is_business_day(candidate, country):
        candidate += timedelta(days=1)
    return candidate


def roll_to_business_day(day: date, country: str) -> date:
    """``day`` itself when it is a business day, else the next business day."""
    return day if is_business_day(day, country) else next_business_day(day, country)


def business_day_in_all(day: date, countries: Iterable[str]) -> date:
    """``day`` or the first day after it that is a business day in every one of ``countries`` (a
    firm with Dutch and Belgian administrations runs its dunning on such a day)."""
    wanted = tuple(countries)
    for _ in range(366):
        if all(is_business_day(day, country) for country in wanted):
            return day
        day += timedelta(days=1)
    raise ValueError(f"no common business day within a year after {day.isoformat()}")


def add_business_days(day: date, n: int, country: str) -> date:
    """The ``n``-th business day after ``day`` (``n`` > 0), or before it (``n`` < 0).

    ``n`` = 0 gives ``day`` itself, business day or not. ``day`` is never counted: the third
    business day after Monday 6 Jan 2025 is Thursday 9 Jan 2025.
    """
    step = 1 if n >= 0 else -1
    result = day
    remaining = abs(n)
    while remaining:
        result += timedelta(days=step)
        if is_business_day(result, country):
            remaining -= 1
    return result
