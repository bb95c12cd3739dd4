"""Linking a credential: the OAuth2 authorization-code flow with a redirect to 127.0.0.1.

``arconnect link`` calls :func:`link`. With a browser, the :class:`LoopbackListener` is already
listening on the redirect URI's port when the browser is opened, and returns the redirect URL
the browser lands on; with ``--no-browser`` the URL is shown and the redirect URL pasted back.
Then :func:`parse_redirect` checks ``state`` and :func:`exchange_code` trades the code for tokens
and persists them under the credential's lock.

**Choosing what to connect.** An accountant's grant can reach hundreds of administrations (Exact: every
client division the user card allows, docs/reference/exact.md §1.5), so a person chooses them by number,
by pattern or from a file (``arconnect link --division / --divisions-file / --all``; :func:`choose`):

* an entry without ``*``, ``?`` or ``[`` is an administration's id exactly (Exact: the division number)
  and must be granted;
* an entry with them is a shell-style pattern matched, ignoring case, against the id and the name
  (``--division '12*'``, ``--division '*holding*'``), and must match at least one;
* no entry connects every administration granted (the package's consent page was the choice).
"""

from __future__ import annotations

import base64
import hashlib
import queue
import secrets
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from oauthlib.oauth2 import WebApplicationClient

from connector.auth.endpoint import Clock, TokenEndpoint, scrub
from connector.auth.locks import DEFAULT_LOCK_TIMEOUT, CredentialLocks, default_locks
from connector.auth.oauth2 import utc_now
from connector.auth.profile import OAuthProfile, endpoint_url
from connector.auth.secret_store import SecretStore
from connector.auth.tokens import TokenSet, save_tokens
from connector.config import CredentialConfig
from connector.errors import ConfigError
from connector.model import Administration

DEFAULT_LINK_TIMEOUT = 300.0

CLOSE_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>arconnect</title></head>"
    b"<body><p>arconnect received the answer. You can close this window and return to the terminal.</p>"
    b"</body></html>"
)


def new_state() -> str:
    return secrets.token_urlsafe(24)


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636 §4.1: 43-128 unreserved characters)."""
    return secrets.token_urlsafe(48)


def code_challenge(code_verifier: str) -> str:
    """The S256 challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    credential: CredentialConfig,
    profile: OAuthProfile,
    state: str,
    code_verifier: str | None = None,
    *,
    nonce: str | None = None,
) -> str:
    """The consent URL: oauthlib's ``prepare_request_uri`` with state, scopes, PKCE S256 and the
    profile's extra parameters (Exact ``force_login``, exact.md §1.2; Twinfield ``nonce``, twinfield.md §1.2)."""
    url = endpoint_url(credential, profile.authorize_path)
    extra: dict[str, Any] = dict(profile.extra_authorize_params)
    if profile.nonce:
        extra["nonce"] = nonce or secrets.token_urlsafe(16)
    if profile.pkce and code_verifier:
        extra["code_challenge"] = code_challenge(code_verifier)
        extra["code_challenge_method"] = "S256"
    scope = profile.scope_separator.join(credential.scopes) or None
    # oauthlib refuses http:// (InsecureTransportError). endpoint_url has already allowed plain
    # http for loopback and .test sandboxes only, so build on https and put the scheme back.
    scheme, rest = url.split("://", 1)
    client = WebApplicationClient(credential.client_id)
    built: str = client.prepare_request_uri(
        f"https://{rest}", redirect_uri=credential.redirect_uri, scope=scope, state=state, **extra
    )
    return f"{scheme}://{built.split('://', 1)[1]}"


def parse_redirect(url: str, expected_state: str) -> str:
    """The authorization code from the redirect URL (or its query string), after checking state.

    ``parse_qs`` URL-decodes the code (Exact's codes hold ``!`` sent as ``%21``, exact.md §1.2).
    """
    text = url.strip()
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    params = parse_qs(query, keep_blank_values=True)

    def first(name: str) -> str | None:
        values = params.get(name)
        return values[0] if values else None

    error = first("error")
    if error:
        description = first("error_description")
        reason = scrub(f"{error}: {description}" if description else error, ())
        raise ConfigError(f"the package did not grant access ({reason}); run 'arconnect link' again")
    state = first("state")
    if state is None or not secrets.compare_digest(state.encode("utf-8"), expected_state.encode("utf-8")):
        raise ConfigError("the redirect does not belong to this link attempt (state mismatch); run 'arconnect link' again")
    code = first("code")
    if not code:
        raise ConfigError("the redirect URL carries no authorization code; paste the full address from the browser")
    return code


def exchange_code(
    credential: CredentialConfig,
    profile: OAuthProfile,
    store: SecretStore,
    http_client: httpx.Client,
    code: str,
    code_verifier: str | None = None,
    *,
    clock: Clock = utc_now,
    locks: CredentialLocks | None = None,
) -> TokenSet:
    """Trade the code for tokens and persist them (under the credential's lock, so no refresh interleaves)."""
    endpoint = TokenEndpoint(credential, profile, store, http_client, clock)
    with (locks or default_locks()).hold(credential.name, DEFAULT_LOCK_TIMEOUT):
        tokens = endpoint.exchange_code(code, credential.redirect_uri, code_verifier)
        save_tokens(store, credential.name, tokens)
    return tokens


# --------------------------------------------------------------------------- loopback listener

_LOOPBACK = {"127.0.0.1": ("127.0.0.1", socket.AF_INET), "localhost": ("127.0.0.1", socket.AF_INET),
             "::1": ("::1", socket.AF_INET6)}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    listener: LoopbackListener


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        listener = self.server.listener
        if urlsplit(self.path).path != listener.path:
            self._answer(404, b"not found")
            return
        listener.received(self.path)
        self._answer(200, CLOSE_PAGE)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line carries the authorization code."""


class LoopbackListener:
    """A one-shot HTTP server on the redirect URI's loopback host and port.

    Use as a context manager: it listens from ``__enter__`` (so the browser may be opened inside
    the block, synchronously or from another thread), :meth:`wait` returns the full redirect URL,
    and ``__exit__`` stops it.
    """

    def __init__(self, redirect_uri: str, timeout: float = DEFAULT_LINK_TIMEOUT) -> None:
        parts = urlsplit(redirect_uri)
        host = (parts.hostname or "").lower()
        if parts.scheme != "http" or host not in _LOOPBACK:
            raise ConfigError(
                f"the redirect URI {redirect_uri} must be http on 127.0.0.1 (or use --no-browser)"
            )
        self.redirect_uri = redirect_uri
        self.timeout = timeout
        self.path = parts.path or "/"
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._bind, self._family = _LOOPBACK[host]
        self._port = parts.port or 80
        self._results: queue.Queue[str] = queue.Queue()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackListener:
        server_class = type("_LoopbackServer", (_Server,), {"address_family": self._family})
        try:
            server = server_class((self._bind, self._port), _Handler)
        except OSError:
            raise ConfigError(
                f"cannot listen on {self._bind}:{self._port} for the redirect (port in use?); "
                "close what uses it or link with --no-browser"
            ) from None
        server.listener = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="arconnect-redirect", daemon=True
        )
        self._thread.start()
        return self

    def received(self, path: str) -> None:
        self._results.put(f"{self._origin}{path}")

    def wait(self) -> str:
        """The redirect URL the browser was sent to; ConfigError after ``timeout`` seconds."""
        try:
            return self._results.get(timeout=self.timeout)
        except queue.Empty:
            raise ConfigError(
                f"no answer from the browser within {self.timeout:g} s; link again, or use --no-browser"
            ) from None

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> LoopbackListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- link


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def link(
    credential: CredentialConfig,
    profile: OAuthProfile,
    store: SecretStore,
    http_client: httpx.Client,
    *,
    open_browser: bool = True,
    prompt: Callable[[str], str] = input,
    opener: Callable[[str], object] = webbrowser.open,
    timeout: float = DEFAULT_LINK_TIMEOUT,
    say: Callable[[str], None] = _say,
    clock: Clock = utc_now,
) -> TokenSet:
    """Link ``credential``: consent in a browser, code exchange, tokens persisted; returns them.

    With ``open_browser`` the redirect listener starts first, then ``opener(url)`` runs (it may
    return at once or play the browser itself), and the redirect is awaited for ``timeout`` s.
    Without, the URL is shown through ``prompt``, which returns the pasted redirect URL.
    """
    state = new_state()
    verifier = new_code_verifier() if profile.pkce else None
    url = authorization_url(credential, profile, state, verifier)
    if open_browser:
        with LoopbackListener(credential.redirect_uri, timeout) as listener:
            say(f"Opening a browser to link {credential.name}. If none opens, visit:\n{url}")
            try:
                opener(url)
            except Exception as exc:
                say(f"could not open a browser ({type(exc).__name__}); open the address above yourself")
            redirect = listener.wait()
    else:
        redirect = prompt(
            f"Open this address in a browser and allow access:\n{url}\n"
            f"Then paste the address the browser was sent to (it starts with {credential.redirect_uri})"
        )
    code = parse_redirect(redirect, state)
    return exchange_code(credential, profile, store, http_client, code, verifier, clock=clock)


# --------------------------------------------------------------------------- choosing what to connect

_GLOB = frozenset("*?[")


def is_pattern(entry: str) -> bool:
    return any(ch in _GLOB for ch in entry)


def read_division_file(path: Path) -> list[str]:
    """The entries of a list file: one id or pattern a line; blank lines and ``#`` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the division list ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the division list is not UTF-8 text") from None
    entries: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if any(ch.isspace() for ch in entry) and not is_pattern(entry):
            raise ConfigError(f"{path}:{number}: one division number or pattern a line, got {entry!r}")
        entries.append(entry)
    if not entries:
        raise ConfigError(f"{path}: the division list names no division")
    return entries


def choose(administrations: Sequence[Administration], entries: Iterable[str]) -> list[Administration]:
    """The administrations the entries select, in the order they were read, each once.

    ConfigError names every id that is not granted and every pattern that matches nothing.
    """
    wanted = [e.strip() for e in entries if e.strip()]
    if not wanted:
        return list(administrations)
    by_id = {a.source_id: a for a in administrations}
    chosen: set[str] = set()
    missing: list[str] = []
    empty: list[str] = []
    for entry in wanted:
        if not is_pattern(entry):
            if entry in by_id:
                chosen.add(entry)
            else:
                missing.append(entry)
            continue
        needle = entry.casefold()
        hits = [a.source_id for a in administrations
                if fnmatchcase(a.source_id.casefold(), needle) or fnmatchcase(a.name.casefold(), needle)]
        if hits:
            chosen.update(hits)
        else:
            empty.append(entry)
    problems = []
    if missing:
        problems.append(f"not granted by this link: {', '.join(sorted(set(missing)))}")
    if empty:
        problems.append(f"no administration matches {', '.join(repr(p) for p in empty)}")
    if problems:
        raise ConfigError(f"{'; '.join(problems)} ({len(administrations)} administration(s) granted)")
    return [a for a in administrations if a.source_id in chosen]
