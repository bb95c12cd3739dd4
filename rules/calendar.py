"""Business days in the Netherlands and Belgium.

A business day is a weekday (Monday to Friday) that is not a public holiday of the country, as
the ``holidays`` package lists them (``holidays.country_holidays("NL" | "BE")``). Saturdays are
never business days here; where a legal term counts "working days" (BE Book XIX: "the third
working day after a letter is sent", legal-and-kpi.md §3.2) this is the conservative reading: it
can only make a term end later, never earlier.

Two calendars, on purpose:

* **may we send today** (:func:`is_business_day`): weekdays that are not public holidays of the
  ``holidays`` package; it decides the day a message goes out;
* **when does a legal term end** (:func:`term_end`, :func:`is_term_holiday`): NL follows the
  Algemene termijnenwet (art. 1: a term ending on a Saturday, Sunday or holiday runs to the next
  day that is none of these; art. 3: its holidays, 5 May every year, Good Friday, and the days a
  decree equates with them, from ``rules/data/holidays.yaml``); BE follows Ger.W. art. 53 (a last
  day on a Saturday, Sunday or legal holiday moves to the next working day).

Pure functions; the holiday tables are cached per country and year.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

import holidays
import yaml

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


# --------------------------------------------------------------------------- terms


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _kings_day(year: int) -> date:
    # The day the King's (before 2014 the Queen's) birthday is celebrated: 27 (30) April, the day
    # before when that is a Sunday (Wet van 2014 / KB 1948 as celebrated; Algemene termijnenwet art. 3(1)).
    day = date(year, 4, 27) if year >= 2014 else date(year, 4, 30)
    return day - timedelta(days=1) if day.weekday() == 6 else day


@lru_cache(maxsize=1)
def _term_table() -> dict[str, Any]:
    text = resources.files("rules").joinpath("data", "holidays.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise DataError("rules/data/holidays.yaml is invalid")
    return loaded


@lru_cache(maxsize=256)
def _nl_term_holidays(year: int) -> dict[date, str]:
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1): "Nieuwjaarsdag",
        easter - timedelta(days=2): "Goede Vrijdag",
        easter + timedelta(days=1): "tweede Paasdag",
        _kings_day(year): "Koningsdag",
        date(year, 5, 5): "5 mei",
        easter + timedelta(days=39): "Hemelvaartsdag",
        easter + timedelta(days=50): "tweede Pinksterdag",
        date(year, 12, 25): "eerste Kerstdag",
        date(year, 12, 26): "tweede Kerstdag",
    }
    for decree in _term_table()["nl_termijnenwet"]["decrees"]:
        for day in decree["days"]:
            if day.year == year:
                source = str(decree["source"])
                days.setdefault(day, f"gelijkgesteld ({source[source.find('Stcrt.'):]})")
    return days


def is_term_holiday(day: date, country: str) -> str | None:
    """The holiday name when ``day`` is a holiday for legal terms in ``country``, else None.

    NL: the Algemene termijnenwet (art. 3 and its decrees); BE: the legal holidays (``holidays``).
    """
    if _country(country) == "NL":
        return _nl_term_holidays(day.year).get(day)
    return holiday_name(day, "BE")


def is_term_day(day: date, country: str) -> bool:
    """A day a legal term may end on: not a Saturday, Sunday or term holiday."""
    return day.weekday() < 5 and is_term_holiday(day, country) is None


def term_end(last: date, country: str) -> date:
    """The day a term whose last day is ``last`` really ends: ``last`` itself, or the next day that
    is not a Saturday, Sunday or term holiday (NL: Algemene termijnenwet art. 1; BE: Ger.W. art. 53)."""
    day = last
    while not is_term_day(day, country):
        day += timedelta(days=1)
    return day
