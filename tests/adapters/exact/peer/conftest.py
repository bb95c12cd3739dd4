"""Fixtures for the peer check: the Exact sandbox served over TLS on 127.0.0.1, and the unmodified
``exactonline`` client (ossobv, PyPI 0.4.0) configured against it.

Why TLS: the client only speaks HTTPS. ``exactonline.rawapi`` sends every token and REST call with
``opt_secure`` (``protocols = ('https',)``, ``verify_cert = True``), so the plain-HTTP server of
:func:`connector.sandbox.serve` is refused before a byte is sent (``BadProtocol``; see
``test_client_refuses_the_plain_http_sandbox``). Reference §0/§1.1: the real API is HTTPS only. So these
fixtures serve the *same* :class:`ExactSandbox` WSGI app over TLS with a throw-away self-signed
certificate for 127.0.0.1, and make the client trust it the ordinary way, through ``SSL_CERT_FILE``
(read by ``ssl.create_default_context()``, which the client uses). The client's code is not touched.

The sandbox clock starts at a fixed moment in the past: the data are then the same on every run, and
the client's rate limiter (which compares the sandbox's ``X-RateLimit-*-Reset`` to its own wall clock)
never has a reason to sleep.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from exactonline.api import ExactApi  # type: ignore[import-untyped]
from exactonline.storage.ini import IniStorage  # type: ignore[import-untyped]

from adapters.exact.sandbox import DivisionSpec, ExactSandbox
from connector.sandbox import SandboxApp, SandboxClock

CLIENT_ID = "3f2b8c1e-7d4a-4e59-a0b6-9c8d7e6f5a41"
SECRET = "peer-check-secret"
#: ossobv sends ``base_url`` from its [application] section as the redirect_uri.
REDIRECT = "https://peer.example/exact/callback"
START = datetime(2025, 3, 12, 10, 15, 5, tzinfo=UTC)
#: One division with more than 60 accounts and open terms, so ``__next`` paging is exercised.
DIVISION = 301
PEER_DIVISION = DivisionSpec(code=DIVISION, description="Peer Check B.V.", accounts=130, terms=300, country="NL")


# --------------------------------------------------------------------------- TLS serving


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def _self_signed(directory: Path) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arconnect exact sandbox (peer check)")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(directory / "sandbox-cert.pem", directory / "sandbox-key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _TLSWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server with each accepted connection wrapped in TLS (in its own thread).

    ``HTTPS=on`` in the base environ makes ``wsgi.url_scheme`` https, so the sandbox writes https
    ``__next`` and ``__metadata.uri`` links, as the real host does.
    """

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(("127.0.0.1", 0), _QuietHandler)

    def setup_environ(self) -> None:
        super().setup_environ()
        self.base_environ["HTTPS"] = "on"

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self.context.wrap_socket(request, server_side=True) as tls:
            _QuietHandler(tls, client_address, self)


@dataclass
class TLSSandbox:
    app: ExactSandbox
    url: str
    cert: Path


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return _self_signed(tmp_path_factory.mktemp("exact-peer-tls"))


def serve_tls(app: SandboxApp, certificate: Certificate) -> tuple[_TLSWSGIServer, str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    server = _TLSWSGIServer(context)
    server.set_app(app)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="exact-peer-tls",
                     daemon=True).start()
    return server, f"https://127.0.0.1:{server.server_port}"


@pytest.fixture
def app() -> ExactSandbox:
    sandbox = ExactSandbox(divisions=(PEER_DIVISION,), clock=SandboxClock(START))
    sandbox.register_client(CLIENT_ID, SECRET, REDIRECT)
    return sandbox


@pytest.fixture
def sandbox(app: ExactSandbox, certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Iterator[TLSSandbox]:
    # The client verifies certificates with ssl.create_default_context(): trust ours through the
    # standard OpenSSL environment variable (undone after the test).
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    server, url = serve_tls(app, certificate)
    try:
        yield TLSSandbox(app, url, certificate.cert)
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- the peer client


def write_ini(path: Path, base: str) -> Path:
    """The client's documented IniStorage format (exactonline/storage/ini.py), pointed at the sandbox."""
    path.write_text(
        "[server]\n"
        f"auth_url = {base}/api/oauth2/auth\n"
        f"rest_url = {base}/api\n"
        f"token_url = {base}/api/oauth2/token\n"
        "\n"
        "[application]\n"
        f"base_url = {REDIRECT}\n"
        f"client_id = {CLIENT_ID}\n"
        f"client_secret = {SECRET}\n"
        "iteration_limit = 50\n",
        encoding="utf-8",
    )
    return path


def consent(browser: httpx.Client, auth_request_url: str, divisions: list[str] | None = None) -> str:
    """What a person does: open the consent page, tick divisions, submit; returns the redirect Location."""
    page = browser.get(auth_request_url)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    offered = re.findall(r'name="division" value="(\d+)"', page.text)
    action = re.search(r"<form method='post' action='([^']+)'", page.text)
    assert action is not None, page.text
    answer = browser.post(
        urljoin(auth_request_url, action.group(1)),
        data={**hidden, "division": divisions if divisions is not None else offered, "approve": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def code_from(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def browser_for(sandbox: TLSSandbox) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=str(sandbox.cert)), timeout=10)


@pytest.fixture
def api(sandbox: TLSSandbox, tmp_path: Path) -> ExactApi:
    """The unmodified client, authorised through the consent page and its own code exchange."""
    client = ExactApi(storage=IniStorage(str(write_ini(tmp_path / "exactonline.ini", sandbox.url))))
    with browser_for(sandbox) as browser:
        location = consent(browser, client.create_auth_request_url())
    client.request_token(code_from(location))
    client.set_division(DIVISION)
    return client
