"""The Twinfield simulator: OpenID Connect login host + cluster host with ProcessXml (docs/architecture.md §8).

Faithful to docs/reference/twinfield.md (section numbers in comments):

* **Login host** (§1): ``/auth/authentication/connect/authorize`` (``nonce`` mandatory, scopes
  ``openid twf.user twf.organisation twf.organisationUser offline_access``; a consent page),
  ``…/token`` (client authentication by HTTP Basic; 1-hour access tokens; refresh tokens live
  25 years and are not rotated), ``…/accesstokenvalidation?token=`` (claims with
  ``twf.clusterUrl`` and ``twf.organisationCode``; HTTP 400 with ``Message`` when invalid) and
  ``…/userinfo``.
* **Cluster host** — a different host name from the login host, so a client must discover it
  (§1.4): on 127.0.0.1 the cluster is ``localhost`` on the same port, on ``*.test`` hosts
  ``cluster.<host>``. ``/webservices/processxml.asmx`` answers ``ProcessXmlString`` and
  ``ProcessXmlDocument`` in SOAP 1.1 and 1.2 (§2); ``/webservices/DeletedTransactionsService.svc``
  answers ``Query`` (§4.5); ``/webservices/finder.asmx`` answers ``Search`` for offices (``OFF``,
  :mod:`adapters.twinfield.sandbox_finder`, §5.4).
* SOAP faults (§6.3): 354 "Access denied. Token invalid." (401), 101 company missing, 108 wrong
  cluster, 102 no access to the office; HTML or empty bodies on an injected 500.
* Fair Use Policy (§6.1): see :mod:`adapters.twinfield.sandbox_limits`.

Counters: ``calls`` per endpoint (from :class:`SandboxApp`), ``office_calls`` and ``credits`` per
(request kind, office) for the benchmarks.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

from adapters.twinfield.sandbox_commands import Commands
from adapters.twinfield.sandbox_data import Line, OfficeBook, OfficeSpec, generate_office
from adapters.twinfield.sandbox_finder import search
from adapters.twinfield.sandbox_limits import FairUse, FairUseLimits, credits_for_action, credits_for_processxml
from adapters.twinfield.sandbox_soap import TWF, SoapCall, SoapRequestError, content_type, envelope, fault, parse_call
from connector.sandbox import (
    DataGenerator,
    Fault,
    Request,
    Response,
    RunningServer,
    SandboxApp,
    SandboxClock,
    TokenError,
    TokenIssuer,
    TokenRules,
    consent_page,
    redirect_with,
    sandbox_parser,
    serve,
    serve_until_interrupted,
)

AUTH = "/auth/authentication/connect"
PROCESSXML = "/webservices/processxml.asmx"
DELETED = "/webservices/DeletedTransactionsService.svc"
FINDER = "/webservices/finder.asmx"
#: §1.2: twf.organisationUser is mandatory to log in; offline_access gives a refresh token.
REQUIRED_SCOPE = "twf.organisationUser"
#: §1.3: 1-hour access tokens; refresh tokens valid 25 years, rotation UNVERIFIED (not rotated here).
TOKEN_RULES = TokenRules(access_lifetime=3600, refresh_single_use=False, rotate_refresh=False,
                         refresh_lifetime=25 * 365 * 24 * 3600)
DELETED_NS = "http://schemas.datacontract.org/2004/07/Twinfield.WebServices.DeletedTransactionsService"

SIZES: dict[str, tuple[int, int, int]] = {
    # offices, customers per office, invoices per office
    "small": (2, 40, 200),
    "medium": (3, 400, 4_000),
    "large": (5, 2_000, 20_000),
}


@dataclass(frozen=True)
class _Session:
    client_id: str
    user: str
    cluster: str
    scope: str


def cluster_url_for(login_base: str) -> str:
    """The cluster host that belongs to a login host: a different name, the same server."""
    parts = urlsplit(login_base)
    host = parts.hostname or ""
    if host == "127.0.0.1":
        cluster = "localhost"
    elif host.startswith("login."):
        cluster = "api.accounting." + host[len("login."):]
    else:
        cluster = "cluster." + host
    netloc = f"{cluster}:{parts.port}" if parts.port else cluster
    return urlunsplit((parts.scheme, netloc, "", "", ""))


def is_cluster_host(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    return host == "localhost" or host.startswith(("cluster.", "api.accounting."))


def default_offices(count: int = 2, customers: int = 40, invoices: int = 200, years: tuple[int, ...] = (2025, 2026)) -> tuple[OfficeSpec, ...]:
    names = ("Groothandel De Vries B.V.", "Bouwbedrijf Peeters BV", "Adviesgroep Bakker B.V.",
             "Transport Maes BV", "Drukkerij Visser B.V.")
    out = []
    for i in range(count):
        country = "BE" if i % 2 else "NL"
        out.append(OfficeSpec(code=f"{'NLA' if country == 'NL' else 'BEA'}00000{i + 1}", name=names[i % len(names)],
                              shortname=names[i % len(names)].split()[0], country=country, customers=customers,
                              invoices=invoices, years=years))
    return tuple(out)


class TwinfieldSandbox(SandboxApp):
    def __init__(
        self,
        seed: int = 42,
        offices: Iterable[OfficeSpec] | None = None,
        *,
        organisation: str = "ARCONNECT-DEMO",
        clock: SandboxClock | None = None,
        limits: FairUseLimits | None = None,
        language: str = "nl",
        accept_secret_in_body: bool = False,
    ) -> None:
        super().__init__(clock=clock)
        self.gen = DataGenerator(seed)
        self.organisation = organisation
        self.language = language
        #: §1.3: php-twinfield sends the secret in the body and "both seem accepted" (UNVERIFIED).
        self.accept_secret_in_body = accept_secret_in_body
        self.issuer = TokenIssuer(TOKEN_RULES, self.clock)
        self.fair_use = FairUse(limits or FairUseLimits.certified())
        now = self.clock.now()
        self.books: dict[str, OfficeBook] = {
            spec.code: generate_office(spec, self.gen, now=now) for spec in (offices or default_offices())
        }
        self.commands = Commands(self.books, now=self.clock.now, language=lambda: self.language,
                                 guid=lambda office, code: self.gen.guid("twf", office, code))
        self.credits: Counter[tuple[str, str]] = Counter()
        self.office_calls: Counter[tuple[str, str]] = Counter()
        #: browse rows (``<tr>``) served per office
        self.rows_served: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self._sessions: dict[str, _Session] = {}
        self._pending: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self.route("GET", f"{AUTH}/authorize", "authorize")(self._authorize)
        self.route("POST", f"{AUTH}/authorize", "authorize.approve")(self._approve)
        self.route("POST", f"{AUTH}/token", "token")(self._token)
        self.route("GET", f"{AUTH}/accesstokenvalidation", "accesstokenvalidation")(self._validation)
        self.route("GET", f"{AUTH}/userinfo", "userinfo")(self._userinfo)
        self.route("POST", PROCESSXML, "processxml")(self._processxml)
        self.route("POST", DELETED, "deletedtransactions")(self._deleted)
        self.route("POST", FINDER, "finder")(self._finder)

    # ------------------------------------------------------------------ test and demo helpers
    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.issuer.register_client(client_id, secret, redirect_uri)

    def book(self, office: str) -> OfficeBook:
        return self.books[office]

    def open_lines(self, office: str) -> list[Line]:
        return self.books[office].open_lines()

    def pay(self, office: str, line: Line, amount: Decimal, on: date | None = None) -> Line:
        with self.state_lock:
            return self.books[office].pay(line, amount, on or self.clock.now().date(), now=self.clock.now())

    def add_invoice(self, office: str, customer: str, amount: Decimal, on: date | None = None) -> Line:
        day = on or self.clock.now().date()
        with self.state_lock:
            return self.books[office].post_invoice(customer, amount, day, day + timedelta(days=30), now=self.clock.now())

    def delete_transaction(self, office: str, code: str, number: int) -> None:
        with self.state_lock:
            self.books[office].delete_transaction(code, number, now=self.clock.now())

    def propose(self, office: str, line: Line) -> None:
        with self.state_lock:
            self.books[office].propose(line, now=self.clock.now())

    def rename(self, office: str, code: str, name: str) -> None:
        with self.state_lock:
            dim = self.books[office].dimensions[code]
            for tag, text in (("name", name), ("modified", self.clock.now().strftime("%Y%m%d%H%M%S"))):
                child = dim.find(tag)
                assert child is not None
                child.text = text

    def dimension(self, office: str, code: str) -> ET.Element:
        return self.books[office].dimensions[code]

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (as after an hour)."""
        self.clock.advance(3601)

    # ------------------------------------------------------------------ hosts
    def _is_cluster(self, request: Request) -> bool:
        return is_cluster_host(request.base_url)

    def not_found(self, request: Request) -> Response:
        return Response.text("<html><body><h1>404 - Not Found</h1></body></html>", 404, "text/html")

    # ------------------------------------------------------------------ OAuth2 / OIDC (§1)
    def _login_only(self, request: Request) -> Response | None:
        return self.not_found(request) if self._is_cluster(request) else None

    def _authorize(self, request: Request) -> Response:
        if (wrong := self._login_only(request)) is not None:
            return wrong
        client_id = request.arg("client_id") or ""
        redirect_uri = request.arg("redirect_uri") or ""
        try:
            self.issuer.check_client(client_id, redirect_uri=redirect_uri)
        except TokenError as exc:
            return Response.text(f"<html><body>Error: {escape(exc.description or exc.error)}</body></html>", 400, "text/html")
        scope = request.arg("scope") or ""
        state = request.arg("state") or ""
        if not request.arg("nonce"):
            # §1.2: nonce is mandatory on every authorize request.
            return Response.text("<html><body>Error: nonce is required</body></html>", 400, "text/html")
        if request.arg("response_type") != "code":
            return Response.redirect(redirect_with(redirect_uri, {"error": "unsupported_response_type", "state": state}))
        if REQUIRED_SCOPE not in scope.split():
            return Response.redirect(redirect_with(redirect_uri, {"error": "invalid_scope", "state": state}))
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[ticket] = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
                                     "state": state}
        offices = [(code, f"{b.spec.name} ({code})") for code, b in self.books.items()]
        page = consent_page(f"Twinfield: {self.organisation} toegang verlenen", f"{AUTH}/authorize",
                            {"ticket": ticket}, None)
        listing = "".join(f"<li>{escape(label)}</li>" for _, label in offices)
        return Response.text(page.replace("</form>", f"</form><ul>{listing}</ul>"), 200, "text/html")

    def _approve(self, request: Request) -> Response:
        form = request.form()
        with self._lock:
            pending = self._pending.pop(form.get("ticket", ""), None)
        if pending is None or not form.get("approve"):
            return Response.text("<html><body>Error: the login has expired</body></html>", 400, "text/html")
        code = self.issuer.issue_code(pending["client_id"], pending["redirect_uri"], user="user", scope=pending["scope"])
        return Response.redirect(redirect_with(pending["redirect_uri"], {"code": code, "state": pending["state"]}))

    def _client_auth(self, request: Request, form: dict[str, str]) -> tuple[str, str]:
        header = request.header("authorization") or ""
        if header[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise TokenError(401, "invalid_client") from None
            return client_id, secret
        if self.accept_secret_in_body and form.get("client_secret"):
            return form.get("client_id", ""), form["client_secret"]
        raise TokenError(401, "invalid_client")

    def _token(self, request: Request) -> Response:
        if (wrong := self._login_only(request)) is not None:
            return wrong
        form = request.form()
        try:
            client_id, secret = self._client_auth(request, form)
            self.issuer.check_client(client_id, secret)
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                grant = self.issuer.exchange_code(form.get("code", ""), client_id, form.get("redirect_uri", ""))
            elif grant_type == "refresh_token":
                grant = self.issuer.refresh(form.get("refresh_token", ""), client_id)
            else:
                raise TokenError(400, "unsupported_grant_type")
        except TokenError as exc:
            # §1.3: RFC 6749 error bodies (exact Twinfield JSON UNVERIFIED).
            return Response.json({"error": exc.error}, status=exc.status if exc.status in (400, 401) else 400)
        with self._lock:
            self._sessions[grant.access_token] = _Session(client_id, grant.user, cluster_url_for(request.base_url), grant.scope)
        payload: dict[str, object] = {"access_token": grant.access_token, "expires_in": 3600, "token_type": "Bearer"}
        if "offline_access" in grant.scope.split():
            payload["refresh_token"] = grant.refresh_token
        return Response.json(payload)

    def _live_session(self, token: str | None) -> _Session | None:
        if not token or self.issuer.user_for(token) is None:
            return None
        return self._sessions.get(token)

    def _validation(self, request: Request) -> Response:
        if (wrong := self._login_only(request)) is not None:
            return wrong
        token = request.arg("token")
        session = self._live_session(token)
        if session is None or token is None:
            # §1.4: HTTP 400 with a JSON ``Message``.
            return Response.json({"Message": "The access token is invalid."}, status=400)
        issued = self.clock.now()
        scopes = session.scope.split()
        claims: dict[str, object] = {
            "aud": "https://login.twinfield.com/auth/authentication/resources",
            "iss": "https://login.twinfield.com/auth/authentication",
            "nbf": str(int(issued.timestamp())),
            "exp": str(int(issued.timestamp()) + 3600),  # §1.4: epoch seconds as strings
            "client_id": session.client_id,
            "scope": scopes,
            "sub": self.gen.guid("user", session.user),
            "auth_time": str(int(issued.timestamp())),
            "idp": "idsrv",
            "amr": ["password"],
            "twf.organisationUserCode": session.user.upper(),
        }
        if "twf.organisation" in scopes:
            claims.update({"twf.organisationCode": self.organisation, "twf.organisationId": self.gen.guid("org", self.organisation),
                           "twf.clusterUrl": session.cluster})
        return Response.json(claims)

    def _userinfo(self, request: Request) -> Response:
        if (wrong := self._login_only(request)) is not None:
            return wrong
        session = self._live_session(request.bearer_token())
        if session is None:
            return Response.json({"error": "invalid_token"}, status=401)
        return Response.json({"sub": self.gen.guid("user", session.user), "twf.organisationCode": self.organisation})

    # ------------------------------------------------------------------ SOAP plumbing
    def fault_response(self, request: Request, endpoint: str, fault_: Fault) -> Response:
        # §6.3 / DESIGN §8: a 500 may come as an HTML page or with no body at all.
        if fault_.body == "empty":
            return Response(status=fault_.status, headers=dict(fault_.headers))
        if fault_.status == 429:
            return Response(status=429, body=b"", headers={"Retry-After": "1", **fault_.headers})
        html = "<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.</h1></body></html>"
        return Response(status=fault_.status, body=html.encode(), headers={"Content-Type": "text/html; charset=utf-8", **fault_.headers})

    def _fault(self, call: SoapCall | None, request: Request, status: int, message: str, code: int, *, client: bool = True) -> Response:
        version = call.version if call else "1.1"
        source = call.operation if call else "ProcessXmlString"
        self.rejections[str(code)] += 1
        body = fault(version, message, code, source, f"{request.base_url}{request.path}?wsdl", client=client)
        return Response(status=status, body=body, headers={"Content-Type": content_type(version)})

    def dispatch(self, request: Request) -> Response:
        # Concurrency (§6.1) is counted before the state lock, where requests really wait.
        session = None
        if request.path in (PROCESSXML, DELETED, FINDER):
            match = re.search(rb"AccessToken>([^<]+)<", request.body)
            session = self._sessions.get(match.group(1).decode()) if match else None
        if session is None:
            return super().dispatch(request)
        if not self.fair_use.enter(session.client_id, self.organisation):
            return self._counted(Response(status=429, body=b"", headers={"Retry-After": "1"}))
        try:
            return super().dispatch(request)
        finally:
            self.fair_use.leave(session.client_id, self.organisation)

    def _authorised(self, request: Request, call: SoapCall, *, needs_company: bool) -> Response | _Session:
        token = call.header.get("AccessToken") or None
        session = self._live_session(token)
        if token is None and not call.header.get("SessionID"):
            return self._fault(call, request, 500, "Access token and company id or session id missing.", 101)
        if session is None:
            # zypp fixture: faultstring "Access denied. Token invalid.", detail code 354 (401, §6.3).
            return self._fault(call, request, 401, "Access denied. Token invalid.", 354)
        if session.cluster != request.base_url:
            return self._fault(call, request, 500, "Cluster invalid.", 108, client=False)
        company = call.header.get("CompanyCode") or ""
        if needs_company and not company and not call.header.get("CompanyId"):
            # php-twinfield comment in getSoapHeaders (§1.5).
            return self._fault(call, request, 500, "Toegang geweigerd. Company ontbreekt in request header.", 101)
        if company and company not in self.books:
            return self._fault(call, request, 403, "Access denied.", 102)
        return session

    def _charge(self, request: Request, session: _Session, kind: str, office: str, cost: int) -> tuple[Response | None, dict[str, str]]:
        verdict = self.fair_use.charge(ip=request.header("x-forwarded-for") or "127.0.0.1", client_id=session.client_id,
                                       organisation=self.organisation, credits=cost, now=self.clock.timestamp())
        headers = {"X-RateLimit-Limit": str(verdict.limit), "X-RateLimit-Remaining": str(verdict.remaining),
                   "X-RateLimit-Credited": str(verdict.credited)}
        if not verdict.allowed:
            headers["Retry-After"] = str(verdict.retry_after)
            return Response(status=429, body=b"Too Many Requests", headers={"Content-Type": "text/plain", **headers}), headers
        self.credits[(kind, office)] += cost
        self.office_calls[(kind, office)] += 1
        return None, headers

    def _processxml(self, request: Request) -> Response:
        if not self._is_cluster(request):
            return self.not_found(request)
        call: SoapCall | None = None
        try:
            call = parse_call(request.body, request.header("content-type") or "")
            if call.operation not in ("ProcessXmlString", "ProcessXmlDocument"):
                raise SoapRequestError(f"Unknown operation {call.operation}")
            action = (request.header("soapaction") or "").strip('"')
            if call.version == "1.1" and action and action != f"{TWF}{call.operation}":
                raise SoapRequestError(f"Server did not recognize the value of HTTP Header SOAPAction: {action}.")
            container = call.body.find(f"{{{TWF}}}xmlRequest")
            if container is None:
                raise SoapRequestError("xmlRequest is missing")
            if call.operation == "ProcessXmlString":
                document = ET.fromstring((container.text or "").strip())
            else:
                if len(container) != 1:
                    raise SoapRequestError("xmlRequest must hold one element")
                # A literal request inherits the envelope's default namespace; the command itself has none.
                document = container[0]
                for element in document.iter():
                    element.tag = element.tag.rsplit("}", 1)[-1]
        except (SoapRequestError, ET.ParseError) as exc:
            return self._fault(call, request, 500, str(exc), 187)
        root = document.tag
        # §1.5: <list><type>offices</type></list> works without CompanyCode.
        offices_list = root == "list" and (document.findtext("type") or "").strip() == "offices"
        checked = self._authorised(request, call, needs_company=not offices_list)
        if isinstance(checked, Response):
            return checked
        company = call.header.get("CompanyCode") or ""
        refused, headers = self._charge(request, checked, root, company or "-", credits_for_processxml(root))
        if refused is not None:
            return refused
        chunks = list(self.commands.run(document, company or None))
        if root == "columns":
            self.rows_served[company] += sum(1 for chunk in chunks if chunk.startswith("<tr>"))
        first_row = next((i for i, chunk in enumerate(chunks) if chunk.startswith("<tr>")), None)
        if root == "columns" and first_row is not None and self.faults.take("processxml", ("malformed",)) is not None:
            chunks[first_row] = _break_row(chunks[first_row])
        inner = "".join(chunks)
        if call.operation == "ProcessXmlString":
            body = f'<ProcessXmlStringResponse xmlns="{TWF}"><ProcessXmlStringResult>{escape(inner)}</ProcessXmlStringResult></ProcessXmlStringResponse>'
        else:
            # The result is literal XML inside the response element (WSDL: mixed content, s:any);
            # the command document is in no namespace.
            inner = re.sub(r"^<([a-z]+)", r'<\1 xmlns=""', inner, count=1)
            body = f'<ProcessXmlDocumentResponse xmlns="{TWF}"><ProcessXmlDocumentResult>{inner}</ProcessXmlDocumentResult></ProcessXmlDocumentResponse>'
        return Response(status=200, body=envelope(call.version, body), headers={"Content-Type": content_type(call.version), **headers})

    def _deleted(self, request: Request) -> Response:
        """§4.5: DeletedTransactionsService ``Query`` with GetDeletedTransactions (a 1-credit query)."""
        if not self._is_cluster(request):
            return self.not_found(request)
        call: SoapCall | None = None
        try:
            call = parse_call(request.body, request.header("content-type") or "")
        except SoapRequestError as exc:
            return self._fault(None, request, 500, str(exc), 187)
        checked = self._authorised(request, call, needs_company=True)
        if isinstance(checked, Response):
            return checked
        values = {el.tag.rsplit("}", 1)[-1]: (el.text or "").strip() for el in call.body.iter()}
        office = values.get("CompanyCode") or call.header.get("CompanyCode") or ""
        refused, headers = self._charge(request, checked, "deletedtransactions", office,
                                        credits_for_action(request.header("soapaction") or "Query"))
        if refused is not None:
            return refused
        book = self.books.get(office)
        if book is None:
            return self._fault(call, request, 403, "Access denied.", 102)
        try:
            since = datetime.fromisoformat(values.get("DateFrom") or "1900-01-01T00:00:00").replace(tzinfo=UTC)
            until = datetime.fromisoformat(values.get("DateTo") or "2999-12-31T23:59:59").replace(tzinfo=UTC)
        except ValueError:
            return self._fault(call, request, 500, "Invalid date.", 187)
        # Result shape: zypp reads Result/DeletedTransactions/DeletedTransaction with TransactionNumber
        # and Daybook (§4.5); the other element names are UNVERIFIED.
        items = "".join(
            f"<b:DeletedTransaction><b:Daybook>{escape(d.code)}</b:Daybook><b:DeletionDate>{d.deleted_at:%Y-%m-%dT%H:%M:%S}"
            f"</b:DeletionDate><b:TransactionNumber>{d.number}</b:TransactionNumber></b:DeletedTransaction>"
            for d in book.deletions if since <= d.deleted_at.astimezone(UTC) <= until
        )
        body = (
            f'<QueryResponse xmlns="{TWF}"><Result xmlns:b="{DELETED_NS}" '
            'xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="b:GetDeletedTransactionsResult">'
            f"<b:DeletedTransactions>{items}</b:DeletedTransactions></Result></QueryResponse>"
        )
        return Response(status=200, body=envelope(call.version, body), headers={"Content-Type": content_type(call.version), **headers})


    def _finder(self, request: Request) -> Response:
        """§5.4: finder ``Search``, a 1-credit query (its SOAP action starts with ``Search``, §6.1)."""
        if not self._is_cluster(request):
            return self.not_found(request)
        try:
            call = parse_call(request.body, request.header("content-type") or "")
            if call.operation != "Search":
                raise SoapRequestError(f"Unknown operation {call.operation}")
        except SoapRequestError as exc:
            return self._fault(None, request, 500, str(exc), 187)
        # Whether the finder needs a CompanyCode for type OFF is UNVERIFIED: the sandbox does not.
        checked = self._authorised(request, call, needs_company=False)
        if isinstance(checked, Response):
            return checked
        company = call.header.get("CompanyCode") or "-"
        refused, headers = self._charge(request, checked, "finder", company,
                                        credits_for_action(request.header("soapaction") or "Search"))
        if refused is not None:
            return refused
        answer = search(self.books, call.body)
        return Response(status=200, body=envelope(call.version, answer), headers={"Content-Type": content_type(call.version), **headers})


def _break_row(row: str) -> str:
    """A malformed record: the first row's booking date is not a date."""
    return re.sub(r'(field="fin\.trs\.head\.date"[^>]*>)[^<]*', r"\g<1>2026-13-45", row, count=1)


def build_twinfield(seed: int = 42, size: str = "small", *, limits: FairUseLimits | None = None,
                    offices: int | None = None, years: tuple[int, ...] = (2025, 2026)) -> TwinfieldSandbox:
    """``size``: small, medium, large, or a number of sales invoices per office (customers a tenth of it)."""
    if size.isdigit():
        count, customers, invoices = 2, max(10, int(size) // 10), int(size)
    else:
        count, customers, invoices = SIZES.get(size, SIZES["small"])
    return TwinfieldSandbox(seed, default_offices(offices or count, customers, invoices, years), limits=limits)


def serve_twinfield(
    port: int,
    seed: int = 42,
    size: str = "small",
    client_id: str = "arconnect-demo",
    client_secret: str = "demo-secret",
    redirect_uri: str = "http://127.0.0.1:8765/callback",
) -> RunningServer:
    """Serve a Twinfield sandbox on 127.0.0.1:``port``; its cluster host is ``localhost`` on the same port."""
    app = build_twinfield(seed, size)
    app.register_client(client_id, client_secret, redirect_uri)
    return serve(app, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = sandbox_parser("twinfield-sandbox", "Twinfield", port=8768,
                            size_help="small, medium, large or a number of invoices per office")
    parser.add_argument("--offices", type=int, default=None, help="number of offices (default: by size)")
    parser.add_argument("--years", default="2025,2026", help="book years with data, oldest first")
    parser.add_argument("--uncertified", action="store_true", help="the Fair Use limits of an uncertified client")
    parser.add_argument("--admin", action="store_true", help="serve /_sandbox/stats and /_sandbox/change (benchmarks)")
    args = parser.parse_args(argv)
    years = tuple(int(y) for y in args.years.split(","))
    app = build_twinfield(args.seed, args.size, offices=args.offices, years=years,
                          limits=FairUseLimits.uncertified() if args.uncertified else FairUseLimits.certified())
    app.register_client(args.client_id, args.client_secret, args.redirect_uri)
    if args.admin:
        from adapters.twinfield.sandbox_admin import install

        install(app)
    serve_until_interrupted(serve(app, port=args.port), "Twinfield", args.client_id)


if __name__ == "__main__":
    main()
