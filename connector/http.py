"""The one HTTP doorway: the only module that imports httpx for talking to packages.

* :func:`make_client` builds an ``httpx.Client`` with timeouts, a user agent and log hooks that
  redact: URLs lose sensitive query values (``code``, tokens, secrets) and headers are never
  logged, so an ``Authorization`` header cannot reach a log.
* :class:`ApiClient` wraps a client for one package: it paces calls through the rate limiter
  (key and header parser declared by the adapter), maps failures onto the error tree
  (:mod:`connector.errors`: no httpx exception escapes), and retries transient failures through
  :mod:`connector.retry`. It counts calls and 429s for the run record. A 2xx that is not what the
  endpoint returns (an HTML maintenance page) is a transient fault, never data. :meth:`ApiClient.stream`
  is the same request with the body left on the wire, read chunk by chunk (big answers parsed as
  a stream, so memory does not grow with the data).
* :class:`NextLinkGuard` and :func:`require_cursor_advance` (at the end): paging that cannot loop,
  for every adapter's paginator.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from connector.errors import (
    ApiError,
    NetworkError,
    PagingError,
    RateLimited,
    ReauthRequired,
    ServiceUnavailable,
    TransientError,
)
from connector.ratelimit import DEFAULT_LIMITER, RateLimiter, Window
from connector.retry import RetryPolicy

T = TypeVar("T")

log = logging.getLogger("arconnect.http")

USER_AGENT = "arconnect/0.1 (+credit management connector)"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

_SENSITIVE_PARAMS = re.compile(
    r"^(code|access_token|refresh_token|id_token|client_secret|token|password|secret|state|code_verifier)$",
    re.IGNORECASE,
)


def redact_url(url: str | httpx.URL) -> str:
    """The URL with sensitive query values replaced by ``***`` (and no user:password part)."""
    parts = urlsplit(str(url))
    query = urlencode(
        [(k, "***" if _SENSITIVE_PARAMS.match(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="$'(),:",
    )
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class _RedactingFilter(logging.Filter):
    """Redacts URLs in httpx's own log lines and drops httpcore's header traces.

    httpx logs every request URL at INFO (``HTTP Request: POST https://…?code=…``), which would
    carry an authorization code; httpcore's DEBUG traces may mention headers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("httpcore") and "header" in str(record.msg).lower():
            return False
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact_url(arg) if isinstance(arg, httpx.URL) or (isinstance(arg, str) and "://" in arg) else arg
                for arg in record.args
            )
        return True


def install_log_redaction() -> None:
    """Attach the redacting filter to the third-party HTTP loggers (idempotent)."""
    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.connection", "httpcore.http2"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
            logger.addFilter(_RedactingFilter())


install_log_redaction()


def _log_request(request: httpx.Request) -> None:
    log.debug("→ %s %s", request.method, redact_url(request.url))


def _log_response(response: httpx.Response) -> None:
    log.debug("← %s %s %s", response.status_code, response.request.method, redact_url(response.request.url))


def make_client(
    base_url: str = "",
    *,
    auth: httpx.Auth | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """An httpx client with our timeouts, user agent and redacting log hooks."""
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        transport=transport,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        event_hooks={"request": [_log_request], "response": [_log_response]},
        follow_redirects=False,
    )


@dataclass
class CallStats:
    """What one client did, for the run record and the benchmarks."""

    calls: int = 0
    rate_limited: int = 0
    retries: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)


RateParser = Callable[[httpx.Headers, datetime], list[Window]]
ErrorText = Callable[[httpx.Response], str]


def _no_windows(headers: httpx.Headers, now: datetime) -> list[Window]:
    return []


def _plain_error_text(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] if text else response.reason_phrase


@dataclass
class PackageHttp:
    """What one package says about its HTTP: how to read rate headers and error bodies."""

    name: str
    parse_rate_headers: RateParser = _no_windows
    error_text: ErrorText = _plain_error_text
    #: when a 429 says nothing usable, which window to consider spent and for how long
    default_429_wait_seconds: float = 60.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ApiClient:
    """One package connection's calls: paced, mapped onto the error tree, retried when transient."""

    def __init__(
        self,
        client: httpx.Client,
        package: PackageHttp,
        *,
        limiter_key: str,
        limiter: RateLimiter = DEFAULT_LIMITER,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.client = client
        self.package = package
        self.limiter_key = limiter_key
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.stats = CallStats()

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, url: str, *, endpoint: str | None = None, **kwargs: Any) -> httpx.Response:
        """Send one logical request; returns a 2xx response or raises from :mod:`connector.errors`."""
        label = endpoint or url.split("?")[0]
        return self.retry.call(lambda: self._once(method, url, label, **kwargs), on_retry=self._count_retry)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    @contextmanager
    def stream(self, method: str, url: str, *, endpoint: str | None = None, **kwargs: Any) -> Iterator[Iterator[bytes]]:
        """Like :meth:`request`, but the 2xx body is not read: the block gets an iterator of its bytes.

        Pacing, the error mapping and retries are those of :meth:`request`: an error status is
        read and raised before the block starts, and only that part is retried. Once the body
        flows, a broken connection is a :class:`NetworkError` (not retried: part of it was used).
        The response is closed when the block ends.
        """
        label = endpoint or url.split("?")[0]
        response = self.retry.call(lambda: self._once(method, url, label, stream=True, **kwargs),
                                   on_retry=self._count_retry)
        try:
            yield self._body(response)
        finally:
            response.close()

    def _body(self, response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes()
        except httpx.TransportError as exc:
            where = redact_url(response.request.url)
            raise NetworkError(f"{self.package.name}: the answer from {where} broke off ({type(exc).__name__})") from None

    def fetch(
        self, method: str, url: str, parse: Callable[[httpx.Response], T], *, endpoint: str | None = None, **kwargs: Any
    ) -> T:
        """One logical request whose answer is read by ``parse`` inside the retry loop.

        A 2xx that ``parse`` cannot read (it raises ``ValueError``, ``KeyError`` or ``TypeError``) is not
        what the endpoint returns: an HTML maintenance page served with 200, a truncated body. That is a
        transient fault (issue 16 point 2): retried with back-off within the budget, then raised as one
        :class:`ServiceUnavailable` line. It never reaches the mapping, so no row is quarantined for it.
        """
        label = endpoint or url.split("?")[0]

        def once() -> T:
            response = self._once(method, url, label, **kwargs)
            try:
                return parse(response)
            except (ValueError, KeyError, TypeError):
                raise ServiceUnavailable(_not_what_it_returns(self.package.name, label, response)) from None

        return self.retry.call(once, on_retry=self._count_retry)

    def create(
        self, method: str, url: str, *, find: Callable[[], T | None], endpoint: str | None = None, **kwargs: Any
    ) -> httpx.Response | T:
        """Send a request that makes something new each time it arrives (a note, a document).

        It is never resent blindly: when an attempt ends without an answer that says it was refused
        (a timeout, a dropped connection, a 5xx), the package may have carried it out anyway, so
        ``find`` looks the record up by its marker first. What ``find`` returns (the record that is
        already there) ends the call; only when it finds nothing is the request sent again. A 429
        was refused before it was carried out and is simply waited for and retried.
        """
        label = endpoint or url.split("?")[0]
        policy = self.retry
        for attempt in range(1, policy.attempts + 1):
            try:
                return self._once(method, url, label, **kwargs)
            except RateLimited as exc:
                error: TransientError = exc
            except TransientError as exc:
                error = exc
                found = self.retry.call(find, on_retry=self._count_retry)
                if found is not None:
                    return found
            if attempt == policy.attempts or policy.gives_up(error):
                raise error
            self._count_retry()
            policy.sleep(policy.delay_for(attempt, error))
        raise AssertionError("unreachable")  # pragma: no cover

    def _count_retry(self) -> None:
        self.stats.retries += 1

    def _once(self, method: str, url: str, label: str, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        with self.limiter.slot(self.limiter_key):
            self.stats.calls += 1
            self.stats.by_endpoint[label] += 1
            try:
                if stream:
                    auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
                    response = self.client.send(self.client.build_request(method, url, **kwargs), auth=auth, stream=True)
                else:
                    response = self.client.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                raise NetworkError(f"{self.package.name}: no answer in time from {redact_url(exc.request.url)}") from None
            except httpx.TransportError as exc:
                where = redact_url(exc.request.url) if _has_request(exc) else self.package.name
                raise NetworkError(f"{self.package.name}: cannot reach {where} ({type(exc).__name__})") from None
            now = self.clock()
            self.limiter.observe(self.limiter_key, self.package.parse_rate_headers(response.headers, now))
        return self._check(response, now, streamed=stream)

    def _check(self, response: httpx.Response, now: datetime, *, streamed: bool = False) -> httpx.Response:
        status = response.status_code
        if status < 400:
            # A streamed body stays on the wire (reading it here would hold it all in memory); the
            # streaming reader (Twinfield's XML) finds a page that is not XML itself.
            if not streamed and _json_expected_but_not_sent(response):
                raise ServiceUnavailable(_not_what_it_returns(self.package.name, None, response))
            return response
        response.read()
        text = self.package.error_text(response)
        if status == 429:
            self.stats.rate_limited += 1
            windows = self.package.parse_rate_headers(response.headers, now)
            spent = [w for w in windows if w.remaining <= 0] or windows
            retry_at = max((w.reset_at for w in spent), default=None)
            retry_after = _retry_after(response.headers, now)
            if retry_after is not None:
                retry_at = max(retry_at, retry_after) if retry_at else retry_after
            if retry_at is None:
                from datetime import timedelta

                retry_at = now + timedelta(seconds=self.package.default_429_wait_seconds)
            for window in spent or [Window("429", None, 0, retry_at)]:
                self.limiter.exhausted(self.limiter_key, window.name, max(window.reset_at, retry_at))
            raise RateLimited(f"{self.package.name}: rate limited until {retry_at:%H:%M:%S} UTC", retry_at=retry_at)
        if status == 401:
            raise ReauthRequired(f"{self.package.name}: the access grant was refused (401): {text}")
        if status >= 500:
            if "html" in response.headers.get("content-type", "").lower():
                text = "an HTML page (maintenance?)"  # one clear line, not the page's markup
            raise ServiceUnavailable(f"{self.package.name}: server error {status}: {text}")
        raise ApiError(f"{self.package.name}: {status} {response.reason_phrase}: {text}", status=status)


def _json_expected_but_not_sent(response: httpx.Response) -> bool:
    """A 2xx with a body, to a request that accepts only JSON, whose content type or first character is not
    JSON's. Exact answers maintenance with an HTML page, with status 200 as well as 503 (issue 16 point 2)."""
    if response.status_code == 204:
        return False
    accept = response.request.headers.get("accept", "").lower() if _has_request_of(response) else ""
    if "application/json" not in accept or "*/*" in accept:
        return False
    response.read()
    body = response.content.lstrip()[:1]
    if not body:
        return False
    content_type = response.headers.get("content-type", "").lower()
    return "json" not in content_type or body == b"<"  # an HTML page labelled JSON


def _not_what_it_returns(package: str, label: str | None, response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    where = label or (redact_url(response.request.url).split("?")[0] if _has_request_of(response) else "the API")
    return (
        f"{package}: {where} answered {response.status_code} with {content_type} that is not what it returns "
        "(a maintenance page?); try again later"
    )


def _has_request_of(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises RuntimeError when no request is attached
    except RuntimeError:
        return False
    return True


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - raises RuntimeError when no request is attached
    except RuntimeError:
        return False
    return True


def _retry_after(headers: httpx.Headers, now: datetime) -> datetime | None:
    """``Retry-After`` as seconds (RFC 9110) or, as Moneybird sends it, an absolute epoch time.

    A value larger than 10**9 can only be an epoch (seconds since 1970), never a delay.
    """
    raw = headers.get("retry-after")
    if raw is None:
        return None
    from datetime import timedelta
    from email.utils import parsedate_to_datetime

    raw = raw.strip()
    if raw.isdigit():
        value = int(raw)
        if value > 10**12:
            return datetime.fromtimestamp(value / 1000, UTC)
        if value > 10**9:
            return datetime.fromtimestamp(value, UTC)
        return now + timedelta(seconds=value)
    try:
        return parsedate_to_datetime(raw).astimezone(UTC)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- paging that cannot loop
#
# Paging that cannot loop: the guard every adapter's paginator uses (issue 15 point 1).
#
# A package that sends the same next link twice (Exact's ``__next``, Moneybird's ``Link: rel="next"``,
# Twinfield's and Adsolut's page numbers or cursors) would otherwise be followed forever, at the
# package's rate limit, burning the day's call budget. A sync cursor that does not move while rows
# keep arriving (Exact's ``Timestamp`` read from a quoted Int64 the adapter could not parse) silently
# turns every incremental sync into a full one. Both stop here with one :class:`PagingError` line.
#
# * :class:`NextLinkGuard` remembers every link or cursor followed in one listing; one that comes back
#   (the link that was just followed, or any earlier one) is refused before it is requested again. So a
#   list that repeats its link costs exactly one repeated call, never more. An optional page ceiling
#   (from a total the package announced) stops a listing whose links do change but never end.
# * :func:`require_cursor_advance` is the check for incremental feeds: rows arrived, so the cursor
#   must be past where it was.


class NextLinkGuard:
    """Follow one listing's next links or cursors, refusing any that repeats."""

    def __init__(self, package: str, endpoint: str, *, max_pages: int | None = None) -> None:
        self.package = package
        self.endpoint = endpoint
        self.max_pages = max_pages
        self.pages = 0
        self._seen: set[Hashable] = set()

    def start(self, first: Hashable) -> None:
        """The first link or cursor of the listing (a next link equal to it is a repeat too)."""
        self._seen.add(first)

    def follow(self, link: Hashable | None) -> Hashable | None:
        """Count one page received; return ``link`` when it may be followed (None ends the listing)."""
        self.pages += 1
        if link is None:
            return None
        if link in self._seen:
            raise PagingError(
                f"{self.package}: {self.endpoint} sent the same next page again after {self.pages} "
                "page(s); stopped instead of reading it forever"
            )
        if self.max_pages is not None and self.pages >= self.max_pages:
            raise PagingError(
                f"{self.package}: {self.endpoint} still had a next page after {self.pages} page(s), more than "
                "its total allows; stopped instead of reading on"
            )
        self._seen.add(link)
        return link


def require_cursor_advance(package: str, endpoint: str, before: object, after: object, rows: int) -> None:
    """An incremental feed returned ``rows`` rows: its cursor must have moved past ``before``."""
    if rows and after == before:
        raise PagingError(
            f"{package}: {endpoint} returned {rows} row(s) but its cursor stayed at {before}; "
            "stopped instead of reading the same rows again"
        )
