"""Retries for transient failures only, bounded, honouring when the package says to come back.

Transient means :class:`~connector.errors.TransientError`: 5xx, timeouts, dropped connections
and 429. A 429 carries ``retry_at`` (from ``Retry-After`` or the package's reset headers) and the
wait is at least until then. Anything else (a 4xx, a mapping error, a re-link) is raised at once:
Exact blocks an app after 10 errors per endpoint per hour (docs/reference/exact.md §2.8), so blind
retries of 4xx are harmful.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connector.errors import RateLimited, TransientError

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RetryPolicy:
    """Bounded exponential back-off with jitter; a 429 waits until its reset time."""

    def __init__(
        self,
        *,
        attempts: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        max_rate_limit_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_rate_limit_wait = max_rate_limit_wait
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter

    def delay_for(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        backoff: float = min(self.max_delay, self.base_delay * float(2 ** (attempt - 1)))
        backoff = backoff * (0.5 + 0.5 * self.jitter())
        if isinstance(error, RateLimited) and error.retry_at is not None:
            until_reset = (error.retry_at - self.clock()).total_seconds()
            return max(0.0, min(self.max_rate_limit_wait, until_reset)) + 0.05
        return backoff

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return float(self.delay_for(state.attempt_number, error))

    def gives_up(self, error: BaseException | None) -> bool:
        """True when ``error`` asks to wait longer than this policy ever waits (a 429 with a far reset)."""
        if isinstance(error, RateLimited) and error.retry_at is not None:
            return (error.retry_at - self.clock()) > timedelta(seconds=self.max_rate_limit_wait)
        return False

    def _give_up_on_long_wait(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, RateLimited) and error.retry_at is not None:
            return (error.retry_at - self.clock()) > timedelta(seconds=self.max_rate_limit_wait)
        return False

    def call(self, fn: Callable[[], T], *, on_retry: Callable[[], None] | None = None) -> T:
        def before_sleep(state: RetryCallState) -> None:
            if on_retry is not None:
                on_retry()

        def stop(state: RetryCallState) -> bool:
            return bool(stop_after_attempt(self.attempts)(state)) or self._give_up_on_long_wait(state)

        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop,
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
            before_sleep=before_sleep,
        )
        return retrying(fn)
