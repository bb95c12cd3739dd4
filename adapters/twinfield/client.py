"""Twinfield transport: OAuth profile, cluster discovery, ProcessXml envelopes, Fair Use headers, faults.

Facts from the Twinfield research notes (docs/reference/twinfield.md, section numbers in comments).
Envelopes are built by hand with the standard library's XML (as every public client does, §7);
nothing here imports zeep or requests.
"""

from __future__ import annotations

import hashlib
import math
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

import httpx

from connector.auth import CredentialAuth, OAuthProfile
from connector.auth.profile import check_transport
from connector.errors import ApiError, MappingError, ReauthRequired
from connector.http import ApiClient, PackageHttp
from connector.ratelimit import Window

#: §1.1: one login host for every organisation; the cluster comes from token validation (§1.4).
LOGIN_HOST = "https://login.twinfield.com"
HOSTS: dict[str, str] = {"nl": LOGIN_HOST, "be": LOGIN_HOST}
AUTH_PATH = "/auth/authentication/connect"
#: §1.2: twf.organisationUser is mandatory, twf.organisation gives the cluster claim,
#: offline_access the refresh token.
SCOPES = ("openid", "twf.user", "twf.organisation", "twf.organisationUser", "offline_access")

#: §1.2–§1.3: authorization code flow with a mandatory nonce, client secret as HTTP Basic,
#: 1-hour access tokens, refresh tokens valid 25 years (rotation UNVERIFIED: we store whatever comes back).
OAUTH = OAuthProfile(
    authorize_path=f"{AUTH_PATH}/authorize",
    token_path=f"{AUTH_PATH}/token",
    secret_in="basic",
    nonce=True,
    refresh_margin_seconds=60,
    default_access_lifetime_seconds=3600,
    refresh_token_lifetime_seconds=25 * 365 * 24 * 3600,
)

TWF = "http://www.twinfield.com/"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
PROCESSXML = "/webservices/processxml.asmx"
DELETED = "/webservices/DeletedTransactionsService.svc"
FINDER = "/webservices/finder.asmx"
DELETED_SHARED_NS = "http://schemas.datacontract.org/2004/07/Twinfield.WebServices.Shared"
DELETED_NS = "http://schemas.datacontract.org/2004/07/Twinfield.WebServices.DeletedTransactionsService"
#: §6.3: the fault that means "refresh the token" (zypp refreshes on this text).
TOKEN_INVALID_CODE = "354"
#: §6.1: the most a single request costs; pacing keeps this many credits in hand.
MAX_CREDITS = 3


#: Clusters known per (login host, SHA-256 of the access token): a process syncing many offices of
#: one grant validates its token once (§1.4), not once per office. Tokens themselves are not kept.
_CLUSTERS: dict[str, str] = {}
_CLUSTERS_LOCK = threading.Lock()
CLUSTER_CACHE_SIZE = 256


def parse_rate_headers(headers: httpx.Headers, now: datetime) -> list[Window]:
    """§6.1 (CodeMill, UNVERIFIED): ``X-RateLimit-Limit``/``-Remaining`` credits per minute.

    No reset time is sent. Credits come back over the minute, so the window is read as "spent"
    when fewer than :data:`MAX_CREDITS` remain, and it resets once enough have come back
    (limit/60 a second). The limiter then waits instead of running into a 429.
    """
    limit, remaining = headers.get("x-ratelimit-limit"), headers.get("x-ratelimit-remaining")
    if not (limit and remaining and limit.isdigit() and remaining.isdigit()) or int(limit) == 0:
        return []
    per_second = int(limit) / 60.0
    missing = max(0, MAX_CREDITS - int(remaining))
    reset_at = now + timedelta(seconds=math.ceil(missing / per_second * 10) / 10)
    return [Window("fair-use", int(limit), int(remaining) - MAX_CREDITS + 1, reset_at)]


def error_text(response: httpx.Response) -> str:
    """§6.3: a SOAP fault's ``faultstring`` and detail code; HTML pages and empty bodies say little."""
    if not response.content:
        return response.reason_phrase or str(response.status_code)
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return response.reason_phrase or str(response.status_code)
    message = next((el.text for el in root.iter() if local(el.tag) in ("faultstring", "Text")), None)
    code = next((el.text for el in root.iter() if local(el.tag) == "code"), None)
    if message:
        return f"{message.strip()} (code {code})" if code else message.strip()
    return response.reason_phrase or str(response.status_code)


TWINFIELD_HTTP = PackageHttp(name="Twinfield", parse_rate_headers=parse_rate_headers, error_text=error_text,
                             default_429_wait_seconds=5.0)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def business_errors(root: ET.Element) -> list[str]:
    """§6.2: ``result="0"`` and ``msgtype="error"`` with ``msg`` (several joined with ``//``)."""
    messages: list[str] = []
    for element in root.iter():
        if element.get("msgtype") == "error" and element.get("msg"):
            messages.extend(part.strip() for part in (element.get("msg") or "").split("//") if part.strip())
    if not messages and root.get("result") == "0":
        messages.append(f"{local(root.tag)} was refused")
    return messages


def _envelope(operation: str, payload: str, token: str, company: str | None) -> bytes:
    """§2.1 skeleton: SOAP 1.1, ``Header`` with ``AccessToken`` and (per office) ``CompanyCode``.

    ``CompanyId`` goes as ``xsi:nil``: the WSDL has it minOccurs=1 nillable, CodeMill reports a 400
    without it, zypp/murb/php-twinfield omit it and work (§1.5, a conflict): the nil element is
    harmless and keeps the request valid against the WSDL.
    """
    company_xml = f"<CompanyCode>{escape(company)}</CompanyCode>" if company else ""
    company_xml += '<CompanyId xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}"><soap:Header>'
        f'<Header xmlns="{TWF}"><AccessToken>{escape(token)}</AccessToken>{company_xml}</Header></soap:Header>'
        f'<soap:Body><{operation} xmlns="{TWF}"><xmlRequest>{payload}</xmlRequest></{operation}></soap:Body>'
        "</soap:Envelope>"
    ).encode()


def _check_no_dtd(content: bytes) -> None:
    # Package data is hostile input: no document type declarations (entity expansion).
    if b"<!DOCTYPE" in content[:4096].upper():
        raise MappingError("Twinfield: the answer carries a DTD; refused")


class TwinfieldClient:
    """ProcessXml calls for one organisation: token in the SOAP header, cluster discovered per token."""

    def __init__(self, api: ApiClient, login_host: str | None = None) -> None:
        self.api = api
        self.login_host = (login_host or str(api.client.base_url)).rstrip("/")
        self._cluster: tuple[str, str] | None = None  # (access token, cluster url)

    # ---- tokens and discovery (§1.4)
    def _auth(self) -> CredentialAuth:
        auth = self.api.client.auth
        if not isinstance(auth, CredentialAuth):
            raise ReauthRequired("Twinfield: no credential attached to this client")
        return auth

    def token(self) -> str:
        return self._auth().current_token()

    def cluster(self, token: str) -> str:
        """``twf.clusterUrl`` from access-token validation, asked once per access token: every
        office synced with the same token (one grant, one organisation) shares the answer."""
        if self._cluster is not None and self._cluster[0] == token:
            return self._cluster[1]
        key = f"{self.login_host} {hashlib.sha256(token.encode()).hexdigest()}"
        with _CLUSTERS_LOCK:
            known = _CLUSTERS.get(key)
        if known is not None:
            self._cluster = (token, known)
            return known
        response = self.api.get(f"{self.login_host}{AUTH_PATH}/accesstokenvalidation", params={"token": token},
                                auth=None, endpoint="accesstokenvalidation")
        try:
            claims = response.json()
        except ValueError:
            raise MappingError("Twinfield: token validation did not answer JSON") from None
        url = claims.get("twf.clusterUrl") if isinstance(claims, dict) else None
        if not isinstance(url, str) or not url:
            raise ReauthRequired("Twinfield: the grant has no twf.organisation scope (no cluster URL); re-link")
        check_transport(url)  # the token goes there: https only (loopback and .test sandboxes excepted)
        self._cluster = (token, url.rstrip("/"))
        with _CLUSTERS_LOCK:
            _CLUSTERS[key] = self._cluster[1]
            while len(_CLUSTERS) > CLUSTER_CACHE_SIZE:
                _CLUSTERS.pop(next(iter(_CLUSTERS)))
        return self._cluster[1]

    # ---- calls
    def _post(self, path: str, operation: str, build: Callable[[str], bytes], *, action: str) -> httpx.Response:
        """Post with the current token; a refused token (401, fault 354) is refreshed once."""
        token = self.token()
        for attempt in (1, 2):
            url = self.cluster(token) + path
            try:
                return self.api.request(
                    "POST", url, content=build(token), auth=None, endpoint=f"{operation}",
                    headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'},
                )
            except ReauthRequired:
                if attempt == 2:
                    raise
                token = self._auth().token_rejected(token)
        raise AssertionError("unreachable")

    def process(self, command: str, office: str | None) -> ET.Element:
        """``ProcessXmlString``: the command as a string; the answer is an escaped string parsed again (§2)."""
        response = self._post(
            PROCESSXML, "ProcessXmlString",
            lambda token: _envelope("ProcessXmlString", f"<![CDATA[{command}]]>", token, office),
            action=f"{TWF}ProcessXmlString",
        )
        _check_no_dtd(response.content)
        try:
            envelope = ET.fromstring(response.content)
            result = envelope.find(f".//{{{TWF}}}ProcessXmlStringResult")
            if result is None or not (result.text or "").strip():
                raise MappingError("Twinfield: ProcessXmlString answered without a result")
            text = result.text or ""
            _check_no_dtd(text.encode())
            return ET.fromstring(text.strip())
        except ET.ParseError as exc:
            raise MappingError(f"Twinfield: unreadable ProcessXml answer ({exc})") from None

    def checked(self, command: str, office: str | None) -> ET.Element:
        root = self.process(command, office)
        problems = business_errors(root)
        if problems:
            raise ApiError("Twinfield: " + " // ".join(problems))
        return root

    @contextmanager
    def document(self, command: str, office: str | None) -> Iterator[Iterator[bytes]]:
        """``ProcessXmlDocument``: the answer is literal XML in the SOAP body, so it is parsed as it
        arrives (:func:`iter_xml`), never held whole and never parsed twice (§2). The block gets
        the body's bytes; a refused token (401, fault 354) is refreshed once before it starts."""
        with ExitStack() as stack:
            token = self.token()
            for attempt in (1, 2):
                try:
                    chunks = stack.enter_context(self.api.stream(
                        "POST", self.cluster(token) + PROCESSXML, content=_envelope("ProcessXmlDocument", command, token, office),
                        auth=None, endpoint="ProcessXmlDocument",
                        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{TWF}ProcessXmlDocument"'},
                    ))
                    break
                except ReauthRequired:
                    if attempt == 2:
                        raise
                    token = self._auth().token_rejected(token)
            yield chunks

    def finder(self, kind: str, *, company: str | None, pattern: str = "*", first_row: int = 1,
               max_rows: int = 100) -> tuple[int, list[list[str]]]:
        """§5.5 finder ``Search``: (TotalRows, the items as lists of strings in column order).

        Errors come as messages in ``SearchResult`` (``Type``/``Text``/``Code``, §5.5).
        """
        body = (f'<Search xmlns="{TWF}"><type>{escape(kind)}</type><pattern>{escape(pattern)}</pattern><field>0</field>'
                f"<firstRow>{first_row}</firstRow><maxRows>{max_rows}</maxRows><options/></Search>")

        def build(token: str) -> bytes:
            company_xml = f"<CompanyCode>{escape(company)}</CompanyCode>" if company else ""
            return (
                f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}"><soap:Header>'
                f'<Header xmlns="{TWF}"><AccessToken>{escape(token)}</AccessToken>{company_xml}</Header></soap:Header>'
                f"<soap:Body>{body}</soap:Body></soap:Envelope>"
            ).encode()

        response = self._post(FINDER, "Search", build, action=f"{TWF}Search")
        _check_no_dtd(response.content)
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise MappingError(f"Twinfield: unreadable finder answer ({exc})") from None
        errors = [(el.findtext(f"{{{TWF}}}Text") or el.findtext(f"{{{TWF}}}Code") or "").strip()
                  for el in root.iter(f"{{{TWF}}}MessageOfErrorCodes")
                  if (el.findtext(f"{{{TWF}}}Type") or "").strip().lower() == "error"]
        if errors:
            raise ApiError(f"Twinfield: finder {kind} refused: " + " // ".join(e for e in errors if e))
        total_text = (root.findtext(f".//{{{TWF}}}TotalRows") or "0").strip()
        rows = [[(s.text or "").strip() for s in item.iter(f"{{{TWF}}}string")]
                for item in root.iterfind(f".//{{{TWF}}}Items/{{{TWF}}}ArrayOfString")]
        return (int(total_text) if total_text.isdigit() else len(rows)), rows

    def deleted_transactions(self, office: str, since: datetime, until: datetime) -> list[tuple[str, str]]:
        """§4.5: (daybook, transaction number) of transactions deleted in [since, until]."""
        query = (
            f'<Query xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="b:GetDeletedTransactions" '
            f'xmlns="{TWF}" xmlns:b="{DELETED_NS}"><b:CompanyCode>{escape(office)}</b:CompanyCode>'
            f"<b:DateFrom>{since:%Y-%m-%dT%H:%M:%S}</b:DateFrom><b:DateTo>{until:%Y-%m-%dT%H:%M:%S}</b:DateTo></Query>"
        )

        def build(token: str) -> bytes:
            return (
                f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP11}"><soap:Header>'
                f'<h:Authentication xmlns:h="{TWF}" xmlns="{DELETED_SHARED_NS}"><AccessToken>{escape(token)}</AccessToken>'
                f"<CompanyCode>{escape(office)}</CompanyCode></h:Authentication></soap:Header>"
                f"<soap:Body>{query}</soap:Body></soap:Envelope>"
            ).encode()

        response = self._post(DELETED, "DeletedTransactions", build, action=f"{TWF}DeletedTransactionsService/Query")
        _check_no_dtd(response.content)
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise MappingError(f"Twinfield: unreadable deleted-transactions answer ({exc})") from None
        out = []
        for item in root.iter():
            if local(item.tag) == "DeletedTransaction":
                fields = {local(child.tag): (child.text or "").strip() for child in item}
                if fields.get("Daybook") and fields.get("TransactionNumber"):
                    out.append((fields["Daybook"], fields["TransactionNumber"]))
        return out


def iter_xml(chunks: Iterable[bytes], *, release: Collection[str]) -> Iterator[tuple[str, ET.Element]]:
    """``(event, element)`` for every start and end of a streamed answer, parsed as the bytes arrive.

    An element whose local name is in ``release`` is emptied and taken from its parent once its
    end event has been handled, so memory stays flat however many rows the answer has. A start
    event's element has its attributes but no children yet.
    """
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    stack: list[ET.Element] = []
    head = b""

    def events() -> Iterator[tuple[str, ET.Element]]:
        for item in parser.read_events():
            if len(item) != 2 or not isinstance(item[1], ET.Element):
                continue
            event, element = item[0], item[1]
            if event == "start":
                stack.append(element)
                yield event, element
                continue
            stack.pop()
            yield event, element
            if local(element.tag) in release:
                element.clear()
                if stack:
                    stack[-1].remove(element)

    try:
        for chunk in chunks:
            if len(head) < 4096:
                head += chunk[:4096]
                _check_no_dtd(head)
            parser.feed(chunk)
            yield from events()
        parser.close()
        yield from events()
    except ET.ParseError as exc:
        raise MappingError(f"Twinfield: unreadable answer ({exc})") from None


def iter_elements(chunks: Iterable[bytes], tag: str) -> Iterator[ET.Element]:
    """Each complete ``tag`` element of a streamed answer (any namespace), released after use."""
    for event, element in iter_xml(chunks, release=(tag,)):
        if event == "end" and local(element.tag) == tag:
            yield element
