"""Rate limits and the error budget of the Exact Online sandbox (docs/reference/exact.md §8, §2.8).

* Calls count per app (client id) per division: 60 a minute and 5,000 a day by default.
  The minute window resets at the next whole minute, the day window at 00:00 UTC; both resets are
  sent in epoch milliseconds (§8, PQ#609).
* On a 429 only the headers of the exhausted window are sent (§8, PQ README, PQ#646). A refused
  call does not count.
* Error budget (§2.8): at most 10 errors per app, user, division and endpoint per hour; the 10th
  error blocks that endpoint for that combination for an hour from then. The status of a blocked
  call is not documented: the sandbox answers **403** with an OData error body (a permanent
  refusal, so a client stops instead of retrying into a longer block) [UNVERIFIED]. Errors counted
  are 4xx answers other than 429; refused (blocked) calls do not extend the block.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ERRORS_PER_HOUR = 10
BLOCK_SECONDS = 3600


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def next_utc_midnight(now: datetime) -> datetime:
    utc = now.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, tzinfo=UTC) + timedelta(days=1)


@dataclass
class _Window:
    start: datetime | None = None
    used: int = 0


@dataclass
class RateLimiter:
    minutely_limit: int = 60
    daily_limit: int = 5000
    _minute: dict[tuple[str, int], _Window] = field(default_factory=dict)
    _day: dict[tuple[str, int], _Window] = field(default_factory=dict)

    def _windows(self, key: tuple[str, int], now: datetime) -> tuple[_Window, _Window]:
        minute_start = now.replace(second=0, microsecond=0)
        day_start = next_utc_midnight(now) - timedelta(days=1)
        minute = self._minute.setdefault(key, _Window())
        if minute.start != minute_start:
            minute.start, minute.used = minute_start, 0
        day = self._day.setdefault(key, _Window())
        if day.start != day_start:
            day.start, day.used = day_start, 0
        return minute, day

    def try_call(self, client_id: str, division: int, now: datetime) -> str | None:
        """Count one call; returns ``"daily"`` or ``"minutely"`` when that window is exhausted."""
        minute, day = self._windows((client_id, division), now)
        if day.used >= self.daily_limit:
            return "daily"
        if minute.used >= self.minutely_limit:
            return "minutely"
        minute.used += 1
        day.used += 1
        return None

    def headers(self, client_id: str, division: int, now: datetime, only: str | None = None) -> dict[str, str]:
        minute, day = self._windows((client_id, division), now)
        daily = {
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": str(max(0, self.daily_limit - day.used)),
            "X-RateLimit-Reset": str(_ms(next_utc_midnight(now))),
        }
        minutely = {
            "X-RateLimit-Minutely-Limit": str(self.minutely_limit),
            "X-RateLimit-Minutely-Remaining": str(max(0, self.minutely_limit - minute.used)),
            "X-RateLimit-Minutely-Reset": str(_ms(next_minute(now))),
        }
        if only == "daily":
            return daily
        if only == "minutely":
            return minutely
        return {**daily, **minutely}


@dataclass
class ErrorBudget:
    per_hour: int = ERRORS_PER_HOUR
    _errors: dict[tuple[str, str, int, str], deque[datetime]] = field(default_factory=dict)
    _blocked_until: dict[tuple[str, str, int, str], datetime] = field(default_factory=dict)

    def blocked_until(self, key: tuple[str, str, int, str], now: datetime) -> datetime | None:
        until = self._blocked_until.get(key)
        if until is None:
            return None
        if now >= until:
            del self._blocked_until[key]
            self._errors.pop(key, None)
            return None
        return until

    def record_error(self, key: tuple[str, str, int, str], now: datetime) -> None:
        errors = self._errors.setdefault(key, deque())
        errors.append(now)
        while errors and now - errors[0] >= timedelta(hours=1):
            errors.popleft()
        if len(errors) >= self.per_hour:
            self._blocked_until[key] = now + timedelta(seconds=BLOCK_SECONDS)
