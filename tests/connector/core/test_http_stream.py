"""``ApiClient.stream``: the body arrives chunk by chunk, with the pacing, errors and retries of a request."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connector.errors import ApiError, NetworkError, ReauthRequired, ServiceUnavailable
from connector.http import ApiClient, PackageHttp, make_client
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


class Body(httpx.SyncByteStream):
    """A body that notes how far it has been read, and may break off after some chunks."""

    def __init__(self, chunks: list[bytes], *, break_after: int | None = None) -> None:
        self.chunks = chunks
        self.break_after = break_after
        self.produced = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for n, chunk in enumerate(self.chunks):
            if self.break_after is not None and n == self.break_after:
                raise httpx.ReadError("connection reset")
            self.produced += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


def test_the_body_is_read_only_as_the_block_asks_for_it_and_closed_after() -> None:
    body = Body([b"<a>", b"<b/>", b"</a>"])
    api = _client(httpx.MockTransport(lambda r: httpx.Response(200, stream=body)))
    with api.stream("POST", "/big", content=b"<q/>", endpoint="big") as chunks:
        assert body.produced == 0
        first = next(chunks)
        assert (first, body.produced) == (b"<a>", 1)
        assert b"".join(chunks) == b"<b/></a>"
    assert body.closed
    assert api.stats.calls == 1 and api.stats.by_endpoint["big"] == 1
    api.close()


@pytest.mark.parametrize(("status", "error"), [(400, ApiError), (401, ReauthRequired), (503, ServiceUnavailable)])
def test_error_statuses_map_onto_the_error_tree_before_the_block_runs(status: int, error: type[Exception]) -> None:
    api = _client(httpx.MockTransport(lambda r: httpx.Response(status, text="nope")))
    entered = False
    with pytest.raises(error), api.stream("GET", "/x"):
        entered = True
    assert not entered
    api.close()


def test_server_errors_are_retried_until_the_stream_opens() -> None:
    answers = iter([httpx.Response(502), httpx.Response(200, stream=Body([b"ok"]))])
    api = _client(httpx.MockTransport(lambda r: next(answers)))
    with api.stream("GET", "/x") as chunks:
        assert b"".join(chunks) == b"ok"
    assert (api.stats.calls, api.stats.retries) == (2, 1)
    api.close()


def test_a_body_that_breaks_off_is_a_network_error_and_is_not_sent_again() -> None:
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        return httpx.Response(200, stream=Body([b"<a>", b"<b/>"], break_after=1))

    api = _client(httpx.MockTransport(handler))
    with pytest.raises(NetworkError, match="broke off"), api.stream("GET", "/x?token=secret") as chunks:
        list(chunks)
    assert sent == [1]
    api.close()


def test_rate_headers_of_a_streamed_answer_feed_the_limiter() -> None:
    def parse(headers: httpx.Headers, now: datetime) -> list[Window]:
        return [Window("minutely", 60, int(headers["remaining"]), NOW + timedelta(seconds=30))]

    limiter = RateLimiter(clock=lambda: NOW, sleep=lambda s: None)
    api = _client(httpx.MockTransport(lambda r: httpx.Response(200, headers={"remaining": "4"}, stream=Body([b"x"]))),
                  limiter, parse_rate_headers=parse)
    with api.stream("GET", "/x") as chunks:
        assert limiter.snapshot("pkg:1")["minutely"].remaining == 4
        list(chunks)
    api.close()


def test_a_stream_sends_no_client_auth_when_told_not_to() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, stream=Body([b"x"]))

    api = _client(httpx.MockTransport(handler))
    api.client.auth = httpx.BasicAuth("user", "pw")
    with api.stream("GET", "/x", auth=None) as chunks:
        list(chunks)
    with api.stream("GET", "/x") as chunks:
        list(chunks)
    assert seen[0] is None and (seen[1] or "").startswith("Basic ")
    api.close()
