"""Fixtures for the Twinfield tests: a small sandbox in-process, a login over its consent page, SOAP helpers."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlparse
from xml.sax.saxutils import escape

import httpx
import pytest

from adapters.twinfield.sandbox import TwinfieldSandbox, default_offices
from connector.cli.demo import press_allow
from connector.sandbox import SandboxClock, transport
from tests.support.paths import TEST_DATA

LOGIN = "http://login.sandbox.test"
CLUSTER = "http://api.accounting.sandbox.test"
CLIENT_ID = "twf-test-client"
SECRET = "twf-test-secret"
REDIRECT = "http://127.0.0.1:8765/callback"
SCOPES = "openid twf.user twf.organisation twf.organisationUser offline_access"
START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
DATA = TEST_DATA / "twinfield"
NL, BE = "NLA000001", "BEA000002"


@dataclass
class Login:
    access_token: str
    refresh_token: str | None


@pytest.fixture
def sandbox() -> TwinfieldSandbox:
    app = TwinfieldSandbox(seed=5, offices=default_offices(2, 30, 150), clock=SandboxClock(START))
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    return app


@pytest.fixture
def http(sandbox: TwinfieldSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport(sandbox), base_url=LOGIN) as client:
        yield client


def basic(client_id: str = CLIENT_ID, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def authorize_url(scope: str = SCOPES, nonce: str | None = "n-123") -> str:
    params = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code", "scope": scope, "state": "s-1"}
    if nonce is not None:
        params["nonce"] = nonce
    return f"{LOGIN}/auth/authentication/connect/authorize?{urlencode(params)}"


def login(http: httpx.Client, scope: str = SCOPES) -> Login:
    landing = press_allow(http, authorize_url(scope))
    code = parse_qs(urlparse(landing).query)["code"][0]
    answer = http.post("/auth/authentication/connect/token", headers=basic(),
                       data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    answer.raise_for_status()
    body = answer.json()
    return Login(body["access_token"], body.get("refresh_token"))


def soap(command: str, token: str, company: str | None = None, *, operation: str = "ProcessXmlString",
         version: str = "1.1") -> tuple[str, dict[str, str]]:
    """A ProcessXml envelope as the research notes' skeleton (§2.1) has it; returns (body, headers)."""
    env = "http://schemas.xmlsoap.org/soap/envelope/" if version == "1.1" else "http://www.w3.org/2003/05/soap-envelope"
    company_xml = f"<CompanyCode>{escape(company)}</CompanyCode>" if company else ""
    payload = f"<![CDATA[{command}]]>" if operation == "ProcessXmlString" else command
    body = (
        f'<soap:Envelope xmlns:soap="{env}"><soap:Header><Header xmlns="http://www.twinfield.com/">'
        f"<AccessToken>{token}</AccessToken>{company_xml}</Header></soap:Header><soap:Body>"
        f'<{operation} xmlns="http://www.twinfield.com/"><xmlRequest>{payload}</xmlRequest></{operation}>'
        "</soap:Body></soap:Envelope>"
    )
    if version == "1.1":
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"http://www.twinfield.com/{operation}"'}
    else:
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="http://www.twinfield.com/{operation}"'}
    return body, headers
