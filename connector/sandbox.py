"""Shared plumbing for the package simulators (docs/architecture.md §8).

Every ``adapters/<package>/sandbox.py`` builds a :class:`SandboxApp` (a plain WSGI application)
and registers its routes on it. This module gives them, once:

* routing with named endpoints, and a per-endpoint call counter (benchmarks read these counts);
* an injectable clock (:class:`SandboxClock`) so tests can move time forward (token expiry,
  rate-limit windows) without sleeping;
* fault switches (:class:`Faults`): the next N calls to an endpoint answer 5xx or 429, are slow,
  drop the connection, or get a malformed record;
* :class:`TokenIssuer`: OAuth2 authorization codes and tokens with per-package rules (lifetimes,
  single-use rotating refresh tokens, minimum age before refresh, refresh-token expiry);
* serving in-process (:func:`transport`, an ``httpx`` transport) or as a real HTTP server on
  127.0.0.1 (:func:`serve`);
* a seeded generator of Dutch and Belgian names, addresses and numbers (:class:`DataGenerator`),
  addressable by index so a million rows can be produced lazily.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import random
import re
import secrets
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

import httpx

# --------------------------------------------------------------------------- requests/responses

HTTP_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class DropConnection(Exception):
    """Raised by a handler (or a fault) to close the connection without any answer."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}

    def bearer_token(self) -> str | None:
        auth = self.header("authorization") or ""
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status=status, body=json.dumps(payload).encode("utf-8"), headers=merged)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        return cls(status=status, body=text.encode("utf-8"), headers={"Content-Type": f"{content_type}; charset=utf-8"})

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(status=302, headers={"Location": location})

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        return cls(status=status, headers=dict(headers or {}))


Handler = Callable[..., Response]


# --------------------------------------------------------------------------- clock


class SandboxClock:
    """Wall-clock time plus an offset that tests move forward with :meth:`advance`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0) if start is None else start - datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)


# --------------------------------------------------------------------------- faults

FaultKind = Literal["status", "slow", "drop", "malformed", "lost"]


@dataclass
class Fault:
    kind: FaultKind
    endpoint: str | None  # None: any endpoint
    remaining: int
    status: int = 503
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    method: str | None = None  # None: any method


class Faults:
    """Fault switches: each fault applies to the next ``times`` matching calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def fail(
        self,
        status: int = 503,
        *,
        endpoint: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        self._add(Fault("status", endpoint, times, status=status, headers=dict(headers or {}), body=body))

    def slow(self, seconds: float, *, endpoint: str | None = None, times: int = 1) -> None:
        self._add(Fault("slow", endpoint, times, delay=seconds))

    def drop(self, *, endpoint: str | None = None, times: int = 1) -> None:
        self._add(Fault("drop", endpoint, times))

    def lose_response(self, *, endpoint: str | None = None, method: str = "POST", times: int = 1) -> None:
        """The next matching call is carried out, then its connection drops before the answer:
        the client cannot tell whether its write happened (a POST in flight when a process died)."""
        self._add(Fault("lost", endpoint, times, method=method.upper()))

    def malformed(self, *, endpoint: str | None = None, times: int = 1) -> None:
        """The next matching list response carries one malformed record (the sandbox decides how)."""
        self._add(Fault("malformed", endpoint, times))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, endpoint: str, kinds: Iterable[FaultKind], method: str | None = None) -> Fault | None:
        """The first armed fault of one of ``kinds`` for ``endpoint`` (and ``method``, when the fault
        names one), consuming one use of it."""
        wanted = set(kinds)
        with self._lock:
            for fault in self._faults:
                if fault.method is not None and fault.method != method:
                    continue
                if fault.kind in wanted and fault.endpoint in (None, endpoint) and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None


# --------------------------------------------------------------------------- app


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Handler


class SandboxApp:
    """A small WSGI application with named routes, call counts and fault switches."""

    def __init__(self, *, clock: SandboxClock | None = None) -> None:
        self.clock = clock or SandboxClock()
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()
        self._routes: list[_Route] = []
        self._count_lock = threading.Lock()
        #: Serialises handlers: the simulated package is one consistent state machine.
        self.state_lock = threading.RLock()

    # ---- routing
    def route(self, method: str, pattern: str, name: str | None = None) -> Callable[[Handler], Handler]:
        compiled = re.compile(f"^{pattern}$")

        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(method.upper(), compiled, name or pattern, handler))
            return handler

        return register

    def add_route(self, method: str, pattern: str, handler: Handler, name: str | None = None) -> None:
        self.route(method, pattern, name)(handler)

    def reset_counts(self) -> None:
        with self._count_lock:
            self.calls.clear()
            self.status_counts.clear()

    def count(self, name: str) -> int:
        with self._count_lock:
            return self.calls[name]

    # ---- hooks a package sandbox may override
    def not_found(self, request: Request) -> Response:
        return Response.json({"error": "not found"}, status=404)

    def method_not_allowed(self, request: Request) -> Response:
        return Response.json({"error": "method not allowed"}, status=405)

    def fault_response(self, request: Request, endpoint: str, fault: Fault) -> Response:
        """How this package answers an injected status fault; packages override for their bodies."""
        if fault.body is not None:
            return Response.json(fault.body, status=fault.status, headers=fault.headers)
        return Response.text(HTTP_REASONS.get(fault.status, "error"), status=fault.status)

    def before(self, request: Request, endpoint: str) -> Response | None:
        """Called before a handler (e.g. rate limiting); a response returned here short-cuts it."""
        return None

    def after(self, request: Request, endpoint: str, response: Response) -> Response:
        """Called after a handler (e.g. to add rate-limit headers)."""
        return response

    # ---- dispatch
    def dispatch(self, request: Request) -> Response:
        allowed = False
        for route in self._routes:
            match = route.pattern.match(request.path)
            if not match:
                continue
            if route.method != request.method:
                allowed = True
                continue
            with self._count_lock:
                self.calls[route.name] += 1
            fault = self.faults.take(route.name, ("drop", "slow", "status", "lost"), request.method)
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault is not None and fault.kind == "drop":
                raise DropConnection(route.name)
            elif fault is not None and fault.kind == "status":
                return self._counted(self.after(request, route.name, self.fault_response(request, route.name, fault)))
            with self.state_lock:
                early = self.before(request, route.name)
                if early is not None:
                    return self._counted(early)
                response = route.handler(request, **match.groupdict())
                if fault is not None and fault.kind == "lost":
                    raise DropConnection(route.name)
                return self._counted(self.after(request, route.name, response))
        return self._counted(self.method_not_allowed(request) if allowed else self.not_found(request))

    def _counted(self, response: Response) -> Response:
        with self._count_lock:
            self.status_counts[response.status] += 1
        return response

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        request = Request(
            method=environ["REQUEST_METHOD"].upper(),
            path=_decode_path(environ.get("PATH_INFO", "/")),
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            body=body,
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
        )
        response = self.dispatch(request)
        reason = HTTP_REASONS.get(response.status, "Unknown")
        out_headers = dict(response.headers)
        out_headers.setdefault("Content-Length", str(len(response.body)))
        start_response(f"{response.status} {reason}", list(out_headers.items()))
        return [response.body]


def _decode_path(raw: str) -> str:
    # WSGI gives PATH_INFO as latin-1 decoded bytes; paths here are ASCII (OData keys use quotes).
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


# --------------------------------------------------------------------------- serving


class _DropAwareTransport(httpx.BaseTransport):
    """In-process transport: a dropped connection becomes the error a real socket would give."""

    def __init__(self, app: SandboxApp, base_url: str) -> None:
        self._inner = httpx.WSGITransport(app=app, raise_app_exceptions=True)
        self._base = httpx.URL(base_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._inner.handle_request(request)
        except DropConnection as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from exc


def transport(app: SandboxApp, base_url: str = "http://sandbox.test") -> httpx.BaseTransport:
    """An httpx transport that runs ``app`` in-process (unit tests)."""
    return _DropAwareTransport(app, base_url)


class _Handler(ServerHandler):
    def handle_error(self) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, DropConnection):
            request_handler = getattr(self, "request_handler", None)
            if request_handler is not None:
                with contextlib.suppress(OSError):
                    request_handler.connection.shutdown(socket.SHUT_RDWR)
            return
        super().handle_error()


class _QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        handler = _Handler(self.rfile, self.wfile,  # type: ignore[arg-type]
            self.get_stderr(), self.get_environ(), multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class RunningServer:
    """A sandbox served on 127.0.0.1 in a background thread."""

    def __init__(self, app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server = make_server(host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietRequestHandler)
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"sandbox:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> RunningServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RunningServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve ``app`` on loopback in a background thread (port 0 picks a free port)."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("sandboxes only listen on loopback")
    return RunningServer(app, host, port).start()


def sandbox_parser(prog: str, title: str, *, port: int, size_help: str) -> argparse.ArgumentParser:
    """The command line every simulator's ``python -m`` entry shares: where to listen, what data, which app."""
    parser = argparse.ArgumentParser(prog=prog, description=f"{title} simulator on 127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", default="small", help=size_help)
    parser.add_argument("--client-id", default="arconnect-demo")
    parser.add_argument("--client-secret", default="demo-secret")
    parser.add_argument("--redirect-uri", default="http://127.0.0.1:8765/callback")
    return parser


def serve_until_interrupted(server: RunningServer, title: str, client_id: str) -> None:
    """Announce the running simulator and keep it up until Ctrl+C (or SIGTERM ends the process)."""
    print(f"{title} sandbox on {server.url} (client id {client_id}); Ctrl+C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def periodic_outage(every: int, call: int, *, at: int, page_200: str, page_503: str) -> Response | None:
    """The HTML page a package serves instead of data on some calls (a sandbox's ``realistic`` switch):
    with status 200 on call ``at`` of every ``every``, and with 503 half a period later; None otherwise."""
    if not every:
        return None
    if call % every == at:
        return Response.text(page_200, status=200, content_type="text/html")
    if call % every == at + every // 2:
        return Response.text(page_503, status=503, content_type="text/html")
    return None


def every_nth(every: int, call: int, *, at: int) -> bool:
    """True on call ``at`` of every ``every`` calls (never when ``every`` is 0)."""
    return bool(every) and call % every == at % every


# --------------------------------------------------------------------------- OAuth2


@dataclass
class TokenRules:
    """One package's documented token rules."""

    access_lifetime: int | None  # seconds; None: access tokens do not expire
    refresh_single_use: bool = True  # a used refresh token is dead (rotation)
    refresh_lifetime: int | None = None  # seconds an unused refresh token stays valid
    min_refresh_age: int = 0  # seconds before a new refresh is allowed
    code_lifetime: int = 180
    rotate_refresh: bool = True


@dataclass
class _Grant:
    client_id: str
    user: str
    scope: str
    access_token: str
    access_issued: float
    refresh_token: str
    refresh_issued: float


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    user: str
    scope: str
    issued: float
    code_challenge: str | None = None


class TokenError(Exception):
    """A token-endpoint refusal: the package sandbox renders it in the package's own error shape."""

    def __init__(self, status: int, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description


class TokenIssuer:
    """Authorization codes, access tokens and refresh tokens under one package's rules."""

    def __init__(self, rules: TokenRules, clock: SandboxClock, clients: dict[str, tuple[str, str]] | None = None) -> None:
        self.rules = rules
        self.clock = clock
        #: client_id -> (client_secret, registered redirect uri)
        self.clients: dict[str, tuple[str, str]] = dict(clients or {})
        self._codes: dict[str, _Code] = {}
        self._by_access: dict[str, _Grant] = {}
        self._by_refresh: dict[str, _Grant] = {}
        self._used_refresh: set[str] = set()
        self._lock = threading.Lock()
        self.token_calls = 0

    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.clients[client_id] = (secret, redirect_uri)

    def check_client(self, client_id: str | None, secret: str | None = None, redirect_uri: str | None = None) -> None:
        known = self.clients.get(client_id or "")
        if known is None:
            raise TokenError(400, "invalid_client", "Unknown client")
        if secret is not None and not secrets.compare_digest(secret, known[0]):
            raise TokenError(400, "invalid_client", "Client authentication failed")
        if redirect_uri is not None and redirect_uri != known[1]:
            raise TokenError(400, "invalid_request", "The redirect uri does not match the registered one")

    def issue_code(self, client_id: str, redirect_uri: str, user: str = "user", scope: str = "",
                   code_challenge: str | None = None) -> str:
        # Exact's codes contain '!' that clients must URL-decode (docs/reference/exact.md §1.2).
        code = "code!" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(client_id, redirect_uri, user, scope, self.clock.timestamp(), code_challenge)
        return code

    def exchange_code(self, code: str, client_id: str, redirect_uri: str, code_verifier: str | None = None) -> _Grant:
        with self._lock:
            self.token_calls += 1
            entry = self._codes.pop(code, None)
            if entry is None:
                raise TokenError(400, "invalid_grant", "The authorization code is invalid or has been used")
            if self.clock.timestamp() - entry.issued > self.rules.code_lifetime:
                raise TokenError(400, "invalid_grant", "The authorization code has expired")
            if entry.client_id != client_id or entry.redirect_uri != redirect_uri:
                raise TokenError(400, "invalid_grant", "The authorization code was issued to another client")
            if entry.code_challenge is not None:
                import base64
                import hashlib

                digest = hashlib.sha256((code_verifier or "").encode("ascii")).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
                if expected != entry.code_challenge:
                    raise TokenError(400, "invalid_grant", "PKCE verification failed")
            return self._new_grant(entry.client_id, entry.user, entry.scope)

    def refresh(self, refresh_token: str, client_id: str) -> _Grant:
        """Rotate a grant. Errors are raised as :class:`TokenError` with a generic shape."""
        with self._lock:
            self.token_calls += 1
            now = self.clock.timestamp()
            if refresh_token in self._used_refresh:
                raise TokenError(401, "unauthorized_client", "Old refresh token used.")
            grant = self._by_refresh.get(refresh_token)
            if grant is None or grant.client_id != client_id:
                raise TokenError(400, "invalid_grant", "Unknown refresh token")
            if self.rules.refresh_lifetime is not None and now - grant.refresh_issued > self.rules.refresh_lifetime:
                expired_at = datetime.fromtimestamp(grant.refresh_issued + self.rules.refresh_lifetime, UTC)
                raise TokenError(400, "invalid_request", f"The refresh token expired at {expired_at:%m/%d/%Y %I:%M:%S %p}")
            if self.rules.min_refresh_age and now - grant.access_issued < self.rules.min_refresh_age:
                raise TokenError(401, "invalid_request", "Access Token not expired")
            if self.rules.refresh_single_use:
                self._used_refresh.add(refresh_token)
            self._by_refresh.pop(refresh_token, None)
            self._by_access.pop(grant.access_token, None)
            keep_refresh = None if self.rules.rotate_refresh else refresh_token
            return self._new_grant(grant.client_id, grant.user, grant.scope, keep_refresh=keep_refresh)

    def _new_grant(self, client_id: str, user: str, scope: str, keep_refresh: str | None = None) -> _Grant:
        now = self.clock.timestamp()
        grant = _Grant(
            client_id=client_id,
            user=user,
            scope=scope,
            access_token="at-" + secrets.token_urlsafe(32),
            access_issued=now,
            refresh_token=keep_refresh or ("rt!" + secrets.token_urlsafe(32)),
            refresh_issued=now,
        )
        self._by_access[grant.access_token] = grant
        self._by_refresh[grant.refresh_token] = grant
        return grant

    def user_for(self, access_token: str | None) -> str | None:
        """The user behind a valid access token, or None when missing, unknown or expired."""
        if not access_token:
            return None
        with self._lock:
            grant = self._by_access.get(access_token)
            if grant is None:
                return None
            lifetime = self.rules.access_lifetime
            if lifetime is not None and self.clock.timestamp() - grant.access_issued >= lifetime:
                return None
            return grant.user

    def expire(self, access_token: str | None) -> bool:
        """The access token lapses now, as if its lifetime (and any minimum age before a refresh) had passed,
        so a refresh is accepted at once (the sandboxes' ``realistic`` switch). False when there is no such
        live token."""
        if access_token is None or self.user_for(access_token) is None:
            return False
        with self._lock:
            grant = self._by_access.pop(access_token, None)
            if grant is None:
                return False
            grant.access_issued -= max(self.rules.access_lifetime or 0, self.rules.min_refresh_age)
        return True

    def revoke_all(self) -> None:
        with self._lock:
            self._by_access.clear()
            self._by_refresh.clear()


def client_authentication(request: Request) -> tuple[str, str | None, str]:
    """(client id, client secret, ``"basic"`` or ``"body"``) of a token-endpoint request.

    RFC 6749 §2.3.1: an authorization server MUST accept HTTP Basic client authentication from clients
    that have a secret (id and secret each form-urlencoded, then ``id:secret`` in base64), and MAY also
    accept ``client_id``/``client_secret`` in the form body; "the client MUST NOT use more than one
    authentication method in each request". Widely used clients (requests-oauthlib among them) send
    Basic, the packages' own documentation shows the body. Both at once, or a Basic header that cannot be
    read, is a :class:`TokenError` 400 ``invalid_request`` (RFC 6749 §5.2: "utilizes more than one
    mechanism for authenticating the client").
    """
    form = request.form()
    header = request.header("authorization") or ""
    if header[:6].lower() != "basic ":
        return form.get("client_id") or "", form.get("client_secret"), "body"
    if "client_secret" in form:
        raise TokenError(400, "invalid_request", "The client used more than one mechanism to authenticate.")
    import base64
    import binascii
    from urllib.parse import unquote_plus

    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise TokenError(400, "invalid_request", "The Authorization header is not valid Basic credentials.") from None
    user, colon, password = decoded.partition(":")
    client_id = unquote_plus(user)
    if not colon or not client_id:
        raise TokenError(400, "invalid_request", "The Authorization header is not valid Basic credentials.")
    if form.get("client_id") not in (None, client_id):
        raise TokenError(400, "invalid_request", "client_id differs from the one in the Authorization header.")
    return client_id, unquote_plus(password), "basic"


def consent_page(title: str, action: str, hidden: dict[str, str], choices: list[tuple[str, str]] | None = None) -> str:
    """A minimal HTML consent form; posting it approves (what a person's click does)."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in hidden.items()
    )
    boxes = "".join(
        f'<label><input type="checkbox" name="division" value="{html.escape(v)}" checked> {html.escape(label)}</label><br>'
        for v, label in (choices or [])
    )
    return (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><form method='post' action='{html.escape(action)}'>{fields}{boxes}"
        "<button type='submit' name='approve' value='1'>Allow</button></form></body></html>"
    )


def redirect_with(uri: str, params: dict[str, str]) -> str:
    joiner = "&" if "?" in uri else "?"
    return f"{uri}{joiner}{urlencode(params)}"


# --------------------------------------------------------------------------- data generation

_FIRST_NAMES = (
    "Jan", "Sanne", "Pieter", "Emma", "Daan", "Julia", "Lars", "Sophie", "Bram", "Lotte", "Thijs", "Anouk",
    "Willem", "Fleur", "Koen", "Noor", "Wout", "Lies", "Jef", "Marie", "Arne", "Elise", "Stijn", "Hanne",
)
_SURNAMES_NL = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
    "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
)
_SURNAMES_BE = (
    "Peeters", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters", "De Smet", "Dubois",
    "Lambert", "Dupont", "Martin", "Vermeulen", "Van Damme", "Desmet", "Lemmens", "Hermans",
)
_TRADES = (
    "Bouw", "Installatietechniek", "Transport", "Bakkerij", "Adviesgroep", "Drukkerij", "Hoveniers",
    "Schilderwerken", "Automatisering", "Metaal", "Groothandel", "Architecten", "Logistiek", "Catering",
)
_CITIES_NL = (
    ("Amsterdam", "1011"), ("Rotterdam", "3011"), ("Utrecht", "3511"), ("Den Haag", "2511"),
    ("Eindhoven", "5611"), ("Groningen", "9711"), ("Zwolle", "8011"), ("Breda", "4811"), ("Arnhem", "6811"),
)
_CITIES_BE = (
    ("Antwerpen", "2000"), ("Gent", "9000"), ("Brussel", "1000"), ("Leuven", "3000"), ("Brugge", "8000"),
    ("Hasselt", "3500"), ("Mechelen", "2800"), ("Liège", "4000"), ("Namur", "5000"),
)
_STREETS = ("Kerkstraat", "Dorpsstraat", "Stationsweg", "Molenweg", "Schoolstraat", "Markt", "Nieuwstraat", "Industrieweg")


@dataclass(frozen=True)
class FakeParty:
    index: int
    name: str
    is_business: bool
    country: str
    language: str
    city: str
    postcode: str
    street: str
    email: str
    phone: str
    vat_number: str | None
    coc_number: str | None
    first_name: str | None
    last_name: str | None


class DataGenerator:
    """Deterministic fake data: the same seed and index always give the same record.

    Records are produced by index (``party(i)``) so a sandbox can hold a million rows without
    materialising them; writes live in the sandbox's own overlay.
    """

    def __init__(self, seed: int = 42) -> None:
        self.seed = seed

    def rng(self, *key: object) -> random.Random:
        return random.Random(f"{self.seed}:" + ":".join(str(k) for k in key))

    def party(self, index: int, be_share: float = 0.3, business_share: float = 0.7) -> FakeParty:
        rng = self.rng("party", index)
        country = "BE" if rng.random() < be_share else "NL"
        is_business = rng.random() < business_share
        first = rng.choice(_FIRST_NAMES)
        last = rng.choice(_SURNAMES_BE if country == "BE" else _SURNAMES_NL)
        city, postcode = rng.choice(_CITIES_BE if country == "BE" else _CITIES_NL)
        if country == "NL":
            postcode = f"{postcode} {rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}"
        street = f"{rng.choice(_STREETS)} {rng.randint(1, 180)}"
        language = "nl" if country == "NL" else ("fr" if city in ("Liège", "Namur") else "nl")
        if is_business:
            suffix = " BV" if country == "BE" else rng.choice((" B.V.", " B.V.", " V.O.F.", ""))
            name = f"{last.replace('van ', 'Van ').replace('de ', 'De ')} {rng.choice(_TRADES)}{suffix}"
            slug = re.sub(r"[^a-z]", "", name.lower())[:16] or "firma"
            email = f"administratie@{slug}.{'be' if country == 'BE' else 'nl'}"
            coc = f"{rng.randint(10_000_000, 99_999_999)}" if country == "NL" else f"0{rng.randint(200_000_000, 999_999_999)}"
            vat = f"NL{rng.randint(100_000_000, 999_999_999)}B01" if country == "NL" else f"BE{coc}"
        else:
            name = f"{first} {last}"
            email = f"{first.lower()}.{re.sub(r'[^a-z]', '', last.lower())}@example.{'be' if country == 'BE' else 'nl'}"
            coc = None
            vat = None
        phone = f"+31 6 {rng.randint(10_000_000, 99_999_999)}" if country == "NL" else f"+32 4{rng.randint(70, 99)} {rng.randint(100_000, 999_999)}"
        return FakeParty(
            index=index,
            name=name,
            is_business=is_business,
            country=country,
            language=language,
            city=city,
            postcode=postcode,
            street=street,
            email=email,
            phone=phone,
            vat_number=vat,
            coc_number=coc,
            first_name=None if is_business else first,
            last_name=None if is_business else last,
        )

    def guid(self, *key: object) -> str:
        """A stable GUID-shaped string for a key (Exact and Adsolut use GUID keys)."""
        rng = self.rng("guid", *key)
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"

    def amount_cents(self, *key: object, low: int = 2_500, high: int = 500_000) -> int:
        """An invoice amount in cents, skewed towards small amounts as real ledgers are."""
        rng = self.rng("amount", *key)
        value = int(low * (high / low) ** (rng.random() ** 1.6))
        return max(low, min(high, value))


def wait_for_port(host: str, port: int, timeout: float = 5.0) -> None:
    """Block until something listens on host:port (used when a sandbox runs in another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port}")
