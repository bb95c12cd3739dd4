"""Pacing by the package's own headers, and retries for transient failures only."""

from datetime import UTC, datetime, timedelta

import pytest

from connector.errors import ApiError, RateLimited, ServiceUnavailable
from connector.ratelimit import RateLimiter, Window
from connector.retry import RetryPolicy

T0 = datetime(2026, 11, 24, 8, 18, 25, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def test_limiter_goes_at_once_while_budget_remains() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep, reset_slack=timedelta(0))
    limiter.observe("exact:1", [Window("minutely", 60, 5, T0 + timedelta(seconds=35))])
    with limiter.slot("exact:1"):
        pass
    assert t.slept == []


def test_limiter_waits_for_the_reset_when_the_window_is_spent() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep, reset_slack=timedelta(0))
    limiter.observe("exact:1", [Window("minutely", 60, 0, T0 + timedelta(seconds=35))])
    with limiter.slot("exact:1"):
        pass
    assert t.slept == [35.0]


def test_limiter_counts_calls_locally_between_readings() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep, reset_slack=timedelta(0))
    limiter.observe("k", [Window("minutely", 60, 2, T0 + timedelta(seconds=10))])
    for _ in range(2):
        with limiter.slot("k"):
            pass
    assert t.slept == []
    with limiter.slot("k"):
        pass
    assert t.slept == [10.0]


def test_keys_are_counted_apart() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    limiter.observe("exact:1", [Window("minutely", 60, 0, T0 + timedelta(seconds=35))])
    with limiter.slot("exact:2"):
        pass
    assert t.slept == []


def test_a_spent_daily_budget_is_reported_not_slept_through() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    limiter.observe("exact:1", [Window("daily", 5000, 0, T0 + timedelta(hours=15))])
    with pytest.raises(RateLimited) as caught, limiter.slot("exact:1"):
        pass
    assert caught.value.retry_at is not None
    assert caught.value.retry_at > T0 + timedelta(hours=14)
    assert t.slept == []


def test_retry_repeats_transient_errors_until_success() -> None:
    t = FakeTime()
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ServiceUnavailable("503")
        return "ok"

    policy = RetryPolicy(sleep=t.sleep, clock=t.clock, jitter=lambda: 1.0, base_delay=1.0)
    assert policy.call(flaky) == "ok"
    assert len(calls) == 3
    assert t.slept == [1.0, 2.0]


def test_retry_never_repeats_a_client_error() -> None:
    t = FakeTime()
    calls: list[int] = []

    def bad_request() -> None:
        calls.append(1)
        raise ApiError("400 Bad Request", status=400)

    with pytest.raises(ApiError):
        RetryPolicy(sleep=t.sleep, clock=t.clock).call(bad_request)
    assert len(calls) == 1
    assert t.slept == []


def test_retry_waits_until_the_rate_limit_resets() -> None:
    t = FakeTime()
    calls: list[int] = []

    def limited() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RateLimited("429", retry_at=T0 + timedelta(seconds=35))
        return "ok"

    assert RetryPolicy(sleep=t.sleep, clock=t.clock).call(limited) == "ok"
    assert t.slept == [pytest.approx(35.05)]


def test_retry_gives_up_after_the_bounded_number_of_attempts() -> None:
    t = FakeTime()
    calls: list[int] = []

    def down() -> None:
        calls.append(1)
        raise ServiceUnavailable("503")

    with pytest.raises(ServiceUnavailable):
        RetryPolicy(attempts=4, sleep=t.sleep, clock=t.clock).call(down)
    assert len(calls) == 4
