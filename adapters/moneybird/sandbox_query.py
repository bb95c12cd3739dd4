"""The ``filter=`` and paging rules of Moneybird list endpoints (docs/reference/moneybird.md §4, §5).

Pure functions: parse a filter string into a :class:`InvoiceFilter` (or raise :class:`QueryError`
carrying the 400 body), resolve named periods against today, and build ``Link`` headers.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

STATES = ("draft", "scheduled", "open", "pending_payment", "reminded", "late", "paid", "uncollectible")


class QueryError(Exception):
    """A 400 with the given Moneybird error body."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.body = body


_INVALID_FILTER = {"error": "Status is not included in the list", "symbolic": {"filter": "invalid"}}
_PERIOD_OPEN = {"error": "Period must have both a start and end date"}


@dataclass
class InvoiceFilter:
    states: frozenset[str] | None = None  # None: all
    period: tuple[date, date] | None = None  # None: no period restriction
    references: frozenset[str] | None = None
    contact_id: str | None = None
    workflow_id: str | None = None
    created_after: datetime | None = None
    updated_after: datetime | None = None


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def named_period(name: str, today: date) -> tuple[date, date] | None:
    week = today - timedelta(days=today.weekday())
    if name.endswith("_week"):
        shift = {"this_week": 0, "prev_week": -7, "next_week": 7}.get(name)
        if shift is None:
            return None
        start = week + timedelta(days=shift)
        return start, start + timedelta(days=6)
    month = date(today.year, today.month, 1)
    steps = {"prev": -1, "this": 0, "next": 1}
    prefix, _, unit = name.partition("_")
    if prefix not in steps:
        return None
    if unit == "month":
        start = _add_months(month, steps[prefix])
        return start, _month_end(start)
    if unit == "quarter":
        start = _add_months(_quarter_start(today), 3 * steps[prefix])
        return start, _month_end(_add_months(start, 2))
    if unit == "year":
        year = today.year + steps[prefix]
        return date(year, 1, 1), date(year, 12, 31)
    return None


def _parse_bound(text: str, *, end: bool) -> date:
    if len(text) == 6:
        start = date(int(text[:4]), int(text[4:]), 1)
        return _month_end(start) if end else start
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def parse_period(value: str, today: date) -> tuple[date, date]:
    """A named period or ``YYYYMM..YYYYMM`` / ``YYYYMMDD..YYYYMMDD``; anything else is a 400."""
    named = named_period(value, today)
    if named is not None:
        return named
    if ".." in value:
        left, _, right = value.partition("..")
        if not left or not right:
            raise QueryError(_PERIOD_OPEN)
        if re.fullmatch(r"\d{6}|\d{8}", left) and re.fullmatch(r"\d{6}|\d{8}", right):
            try:
                return _parse_bound(left, end=False), _parse_bound(right, end=True)
            except ValueError:
                pass
    # A bare YYYYMM is refused by the list endpoints (reference §4, MCP gotcha); message [UNVERIFIED].
    raise QueryError({"error": "Period is not valid", "symbolic": {"period": "invalid"}})


def _parse_time(value: str) -> datetime:
    text = value.strip().replace(" UTC", "").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(_INVALID_FILTER) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def parse_invoice_filter(raw: str | None, today: date, *, defaults: bool) -> InvoiceFilter:
    """reference §4 List filters. Without ``filter`` the list endpoint uses ``state:all,period:this_year``
    (``defaults=True``); any filter replaces the defaults entirely (spec parameter description), so a
    filter without ``period`` has no period restriction. Unknown keys are ignored (§5)."""
    result = InvoiceFilter()
    if raw is None or raw == "":
        if defaults:
            result.period = named_period("this_year", today)
        return result
    for term in raw.split(","):
        key, sep, value = term.partition(":")
        key = key.strip()
        if not sep:
            continue
        if key == "state":
            values = frozenset(v for v in value.split("|") if v)
            if not values or not values <= {*STATES, "all"}:
                raise QueryError(_INVALID_FILTER)
            result.states = None if "all" in values else values
        elif key == "period":
            result.period = parse_period(value, today)
        elif key == "reference":
            result.references = frozenset(value.split("|"))
        elif key == "contact_id":
            result.contact_id = value
        elif key == "workflow_id":
            result.workflow_id = value
        elif key == "created_after":
            result.created_after = _parse_time(value)
        elif key == "updated_after":
            result.updated_after = _parse_time(value)
    return result


def paging(page_arg: str | None, per_page_arg: str | None) -> tuple[int, int]:
    """reference §4 Pagination: ``page`` ≥ 1, ``per_page`` 1..100 (default 100 [UNVERIFIED])."""
    try:
        per_page = int(per_page_arg) if per_page_arg is not None else 100
    except ValueError:
        per_page = 0
    if not 1 <= per_page <= 100:
        raise QueryError({"error": "per_page does not have a valid value"})
    try:
        page = int(page_arg) if page_arg is not None else 1
    except ValueError:
        page = 0
    if page < 1:
        raise QueryError({"error": "page does not have a valid value"})
    return page, per_page


def link_header(url: str, query: dict[str, list[str]], page: int, per_page: int, total: int) -> str:
    """RFC 8288 ``Link`` with ``prev``/``next`` (reference §4: CL:2016-10-26, PICQER follows rel=next)."""
    links = []

    def url_for(number: int) -> str:
        params = {k: v[0] for k, v in query.items() if k not in ("page", "per_page")}
        params.update({"page": str(number), "per_page": str(per_page)})
        return f"{url}?{urlencode(params)}"

    if page > 1:
        links.append(f'<{url_for(page - 1)}>; rel="prev"')
    if page * per_page < total:
        links.append(f'<{url_for(page + 1)}>; rel="next"')
    return ", ".join(links)
