"""The HTTP doorway: failures map onto the error tree, 429s pace, logs are redacted."""

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connector.errors import ApiError, NetworkError, RateLimited, ReauthRequired, ServiceUnavailable
from connector.http import ApiClient, PackageHttp, make_client, redact_url
from connector.ratelimit import RateLimiter, Window
from connector.retry import RetryPolicy

NOW = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)


def _client(handler: httpx.MockTransport, limiter: RateLimiter | None = None, **http: object) -> ApiClient:
    package = PackageHttp(name="Pkg", **http)  # type: ignore[arg-type]
    return ApiClient(
        make_client("https://pkg.test", transport=handler),
        package,
        limiter_key="pkg:1",
        limiter=limiter or RateLimiter(clock=lambda: NOW, sleep=lambda s: None),
        retry=RetryPolicy(attempts=3, sleep=lambda s: None, clock=lambda: NOW),
        clock=lambda: NOW,
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ApiError), (403, ApiError), (404, ApiError), (401, ReauthRequired), (500, ServiceUnavailable), (503, ServiceUnavailable)],
)
def test_statuses_map_onto_the_error_tree(status: int, error: type[Exception]) -> None:
    api = _client(httpx.MockTransport(lambda r: httpx.Response(status, text="nope")))
    with pytest.raises(error):
        api.get("/x")
    api.close()


def test_client_errors_are_sent_once_and_server_errors_retried() -> None:
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        return httpx.Response(400 if request.url.path == "/bad" else 502)

    api = _client(httpx.MockTransport(handler))
    with pytest.raises(ApiError):
        api.get("/bad")
    assert len(seen) == 1
    with pytest.raises(ServiceUnavailable):
        api.get("/down")
    assert len(seen) == 1 + 3
    assert api.stats.retries == 2
    api.close()


def test_network_failures_become_network_errors_without_httpx_leaking() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api = _client(httpx.MockTransport(handler))
    with pytest.raises(NetworkError) as caught:
        api.get("/x?code=secret-code")
    assert "secret-code" not in str(caught.value)
    api.close()


def test_retry_after_as_absolute_epoch_is_read_as_a_time_not_a_delay() -> None:
    # Moneybird sends absolute epoch seconds in Retry-After (docs/reference/moneybird.md; PICQER #200).
    reset = int((NOW + timedelta(seconds=40)).timestamp())
    api = _client(httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": str(reset)})))
    api.retry = RetryPolicy(attempts=1, clock=lambda: NOW)
    with pytest.raises(RateLimited) as caught:
        api.get("/x")
    assert caught.value.retry_at == NOW + timedelta(seconds=40)
    assert api.stats.rate_limited == 1
    api.close()


def test_a_429_marks_the_window_spent_so_the_next_call_waits() -> None:
    slept: list[float] = []
    limiter = RateLimiter(clock=lambda: NOW, sleep=slept.append, reset_slack=timedelta(0))
    responses = iter([httpx.Response(429, headers={"Retry-After": "20"}), httpx.Response(200, json={})])
    api = _client(httpx.MockTransport(lambda r: next(responses)), limiter)
    api.retry = RetryPolicy(attempts=2, sleep=lambda s: None, clock=lambda: NOW)
    api.get("/x")
    assert slept == [20.0]
    api.close()


def test_rate_headers_feed_the_limiter() -> None:
    reset = NOW + timedelta(seconds=30)

    def parse(headers: httpx.Headers, now: datetime) -> list[Window]:
        return [Window("minutely", 60, int(headers["remaining"]), reset)]

    limiter = RateLimiter(clock=lambda: NOW, sleep=lambda s: None)
    api = _client(httpx.MockTransport(lambda r: httpx.Response(200, headers={"remaining": "7"})), limiter, parse_rate_headers=parse)
    api.get("/x")
    assert limiter.snapshot("pkg:1")["minutely"].remaining == 7
    api.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://h.test/cb?code=abc!123&state=xyz", "https://h.test/cb?code=%2A%2A%2A&state=%2A%2A%2A"),
        ("https://u:pw@h.test/a?refresh_token=r&x=1", "https://h.test/a?refresh_token=%2A%2A%2A&x=1"),
        ("https://h.test/api/v1/1/sync/CRM/Accounts?$filter=Timestamp gt 1L", "https://h.test/api/v1/1/sync/CRM/Accounts?$filter=Timestamp+gt+1L"),
    ],
)
def test_urls_are_redacted(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_debug_logs_carry_no_token_code_or_secret(caplog: pytest.LogCaptureFixture) -> None:
    secrets = ["Bearer-AAEAA-very-secret", "code!xyz", "client-secret-123"]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": secrets[0]})

    caplog.set_level(logging.DEBUG)
    client = make_client("https://pkg.test", transport=httpx.MockTransport(handler), headers={"Authorization": f"Bearer {secrets[0]}"})
    client.post(f"/token?code={secrets[1]}", data={"client_secret": secrets[2]})
    client.close()
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "pkg.test/token" in text
    for secret in secrets:
        assert secret not in text
