"""Pacing under a package's rate limits, fed by the package's own response headers.

Each adapter declares the key its package counts under (Exact: per division, Twinfield: per
organisation, Moneybird: per token) and a parser turning response headers into
:class:`Window` readings (limit, remaining, reset time). Before each call the limiter waits
while any window of that key has nothing left, until that window resets; so a sync uses the
whole allowed rate and does not run into 429s. One call per key is in flight at a time
(Exact asks for sequential paging, docs/reference/exact.md §2.3).

A wait longer than ``max_wait`` (e.g. a daily budget spent) is not slept through: the limiter
raises :class:`~connector.errors.RateLimited` with the reset time, and the scheduler tries later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connector.errors import RateLimited


@dataclass(frozen=True)
class Window:
    """One rate-limit window as the package reported it."""

    name: str  # e.g. "minutely", "daily"
    limit: int | None
    remaining: int
    reset_at: datetime


@dataclass
class _KeyState:
    lock: threading.Lock
    windows: dict[str, Window]


Clock = Callable[[], datetime]
Sleeper = Callable[[float], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RateLimiter:
    """Shared by every client of a process; state per key."""

    def __init__(
        self,
        *,
        clock: Clock = _utcnow,
        sleep: Sleeper = time.sleep,
        reserve: int = 0,
        max_wait: timedelta = timedelta(minutes=5),
        reset_slack: timedelta = timedelta(milliseconds=250),
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        #: calls kept back per window as a margin for other processes of the same app
        self.reserve = reserve
        self.max_wait = max_wait
        #: extra time after a reset before calling again, against clock skew with the server
        self.reset_slack = reset_slack
        self._keys: dict[str, _KeyState] = {}
        self._guard = threading.Lock()
        self.waited_seconds = 0.0

    def _state(self, key: str) -> _KeyState:
        with self._guard:
            state = self._keys.get(key)
            if state is None:
                state = self._keys[key] = _KeyState(threading.Lock(), {})
            return state

    def wait_needed(self, key: str) -> timedelta:
        """How long the next call on ``key`` must wait (zero when it may go now)."""
        state = self._state(key)
        now = self._clock()
        longest = timedelta(0)
        for window in state.windows.values():
            if window.reset_at <= now:
                continue
            if window.remaining <= self.reserve:
                longest = max(longest, window.reset_at - now + self.reset_slack)
        return longest

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        """Hold the key's single in-flight slot for one call, after waiting for the budget."""
        state = self._state(key)
        with state.lock:
            wait = self.wait_needed(key)
            # The slack is ours, not the package's: a full 5-minute window (Moneybird) is still slept.
            if wait > self.max_wait + self.reset_slack:
                raise RateLimited(
                    f"rate limit for {key} is spent until {(self._clock() + wait):%Y-%m-%d %H:%M:%S} UTC",
                    retry_at=self._clock() + wait,
                )
            if wait > timedelta(0):
                self.waited_seconds += wait.total_seconds()
                self._sleep(wait.total_seconds())
            # Count the call locally so that a response without headers cannot overrun the budget.
            now = self._clock()
            for name, window in list(state.windows.items()):
                if window.reset_at > now:
                    state.windows[name] = Window(name, window.limit, window.remaining - 1, window.reset_at)
            yield

    def observe(self, key: str, windows: list[Window]) -> None:
        """Take the package's own reading of its windows (it wins over our local count)."""
        if not windows:
            return
        state = self._state(key)
        for window in windows:
            state.windows[window.name] = window

    def exhausted(self, key: str, window_name: str, reset_at: datetime) -> None:
        """After a 429: mark a window as spent until ``reset_at``."""
        state = self._state(key)
        previous = state.windows.get(window_name)
        state.windows[window_name] = Window(window_name, previous.limit if previous else None, 0, reset_at)

    def snapshot(self, key: str) -> dict[str, Window]:
        return dict(self._state(key).windows)


#: The process-wide limiter every adapter uses unless a test injects its own.
DEFAULT_LIMITER = RateLimiter()
