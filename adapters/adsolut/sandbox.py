"""Adsolut simulator: Wolters Kluwer identity, ``adm`` administrations and ``acc`` Accounting.

Written from the Adsolut reference notes (A1–A9), themselves built from the public clients
servicedesk (C#), ANIMOOH (JS), adsolut-wp (PHP) and omniboost oauth-proxy (Go). Run it
in-process with ``connector.sandbox.transport(AdsolutSandbox())`` or on loopback with
:func:`serve_adsolut` / ``arconnect sandbox adsolut --port 8769``. One host serves the
identity paths and the API paths (the real ones live on ``login.wolterskluwer.eu`` and
``api.adsolut.com``).

What is simulated as documented:

* Identity (A2): ``GET/POST /auth/core/connect/authorize`` (consent page; ``response_type=code``,
  ``client_id``, space-separated ``scope``, ``redirect_uri``, ``state`` echoed; a scope the client
  is not provisioned for redirects with ``error=invalid_scope``). ``POST /auth/core/connect/token``
  authenticates the client with HTTP Basic or with ``client_id``/``client_secret`` in the body.
  Access tokens live 60 minutes; a refresh token is issued only with ``offline_access``, rotates on
  every refresh and lives 30 days from its issue (the sliding window); a reused or expired one is
  ``invalid_grant``.
* Administrations (A3): ``GET /adm/v1/administrations``; ``POST``/``DELETE
  /adm/v1/administrations/{id}/integrations`` activate/deactivate the calling app on a dossier
  (idempotent). Without activation, Accounting lists are empty and single records 404.
* Customers (A4–A7): ``GET /acc/v1/adm/{adm}/customers`` with ``Page`` (1-based), ``Limit``
  (default 50, max 100), ``OrderBy``, ``ModifiedSince``, ``Code``, in the envelope
  ``{items, currentPage, totalPages, totalItems}``; ``GET``/``PUT …/customers/{id}`` and ``POST
  …/customers``. PUT is a **full replace**: every optional field left out is reset; ``number`` is
  immutable (``UpdateCustomerNumberNotValid``); ``active`` is required in PUT and absent from GET.
  POST answers ``{id, validationResults}``; PUT answers 204. ``lastModified`` carries ``+00:00``.
* Errors (A7): 401 for a missing or expired token; **403 with an empty body** when the token
  lacks the scope (``WK.BE.Administrations``; ``WK.BE.Accounting.Read`` to read,
  ``WK.BE.Accounting.Write`` to write). Path segment ``v1`` and ``V1`` both work.

ASSUMED (no public source; every value is a constructor argument):

* **Open items**: ``GET /acc/v1/adm/{adm}/openitems`` (``open_items_path``; ``None`` serves none),
  paged like customers, with ``ModifiedSince``, ``OrderBy``, ``CustomerId`` and ``OpenOnly``. An item
  that gets paid stays in the list with ``openAmount`` 0 and a new ``lastModified``; a deleted one
  simply disappears. Shape: see :func:`adapters.adsolut.sandbox_data.item_json`.
* **Rate limit**: ``rate_limit`` requests per ``rate_window`` seconds per app and dossier (default
  100 per 60 s, deliberately conservative); a refused call is 429 with ``Retry-After`` in seconds and
  an empty body. No rate headers otherwise (none are documented).
* Validation failures are 400 with ``{"validationResults": [{"code", "propertyName", "message"}]}``
  (only the code ``UpdateCustomerNumberNotValid`` is from a source); POST requires ``name`` and a
  ``number`` not used yet; ``Limit`` above 100 is refused the same way; ``ModifiedSince`` is inclusive.
* List items carry the full customer shape (the public parser reads only a few fields of them).
* Token errors use the IdentityServer shape ``{"error": …}`` with status 400.

Test helpers (``pay``, ``add_item``, ``delete_item``, ``rename_customer``, ``delete_customer``) change
the books the way bookkeeping in Adsolut would; ``faults.malformed(endpoint=…)`` makes the first record
of the next list answer carry ``openAmount: "n/a"`` (open items) or no ``name`` (customers).
Endpoint names for faults and call counts: ``identity/authorize``, ``identity/token``,
``administrations``, ``integrations``, ``customers``, ``customers/{id}``, ``openitems``.
"""

from __future__ import annotations

import base64
import math
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from adapters.adsolut.sandbox_data import (
    CENT,
    VAT_PERCENTAGES,
    DossierSpec,
    DossierState,
    OpenItemRec,
    generate,
    item_json,
    stamp,
    structured_communication,
)
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

__all__ = ["AdsolutSandbox", "DossierSpec", "main", "serve_adsolut"]

AUTHORIZE_PATH = "/auth/core/connect/authorize"
TOKEN_PATH = "/auth/core/connect/token"
#: ASSUMED: the open-items endpoint (no public source shows one, reference A8/A9).
DEFAULT_OPEN_ITEMS_PATH = "/acc/v1/adm/{administration}/openitems"

ADMINISTRATIONS_SCOPE = "WK.BE.Administrations"
READ_SCOPE = "WK.BE.Accounting.Read"
WRITE_SCOPE = "WK.BE.Accounting.Write"
#: Scopes seen in public clients (reference A2).
KNOWN_SCOPES = (
    "openid", "profile", "offline_access", ADMINISTRATIONS_SCOPE, READ_SCOPE, WRITE_SCOPE,
    "WK.BE.ERP.Base", "WK.BE.ERP.Webshop", "WK.BE.ERP.Read", "WK.BE.Documents", "WK.GraphAPI.User",
)

ACCESS_LIFETIME = 3600  # A2: 60 minutes
REFRESH_LIFETIME = 30 * 24 * 3600  # A2: sliding ~30 days, renewed by every rotation
MAX_LIMIT = 100  # A4: "max 100"
DEFAULT_LIMIT = 50  # A4: "default 50"

#: A6: the write shape of a customer (PUT UpdateCustomerRequest) and what each field resets to
#: when left out ("every optional field left out is reset to null/default").
WRITE_DEFAULTS: dict[str, Any] = {
    "alphaCode": None, "dueDays": 0, "dueDate": "NotSpecified", "fax": None, "phone": None,
    "mobilePhone": None, "email": None, "postalCode": None, "city": None, "streetName": None,
    "streetNumber": None, "boxNumber": None, "countryId": None, "vatNumber": None,
    "countryPrefixVatNumber": None, "vatSpecificationId": None, "vatPercentageId": None,
    "bankAccountLines": [], "externalId": None, "languageIsoCode": None,
    "financialDiscountPercentage": 0, "financialDiscountDays": 0, "remindersEnabled": False,
    "remarks": None,
}
_PLAIN = (
    "alphaCode", "dueDays", "dueDate", "fax", "phone", "mobilePhone", "email", "postalCode", "city",
    "streetName", "streetNumber", "boxNumber", "vatNumber", "countryPrefixVatNumber", "languageIsoCode",
    "financialDiscountPercentage", "financialDiscountDays", "remindersEnabled", "remarks",
)


class _Refusal(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def validation(code: str, prop: str, message: str, status: int = 400) -> _Refusal:
    return _Refusal(Response.json({"validationResults": [{"code": code, "propertyName": prop, "message": message}]},
                                  status=status))


class _Issuer(TokenIssuer):
    """The shared issuer, plus the scopes of each grant (the API checks them)."""

    def scopes_for(self, access_token: str | None) -> frozenset[str] | None:
        if access_token is None or self.user_for(access_token) is None:
            return None
        with self._lock:
            grant = self._by_access.get(access_token)
            return None if grant is None else frozenset(grant.scope.split())

    def client_for(self, access_token: str) -> str:
        with self._lock:
            grant = self._by_access.get(access_token)
            return "" if grant is None else grant.client_id


class _Window:
    """ASSUMED: a fixed window of ``limit`` calls per ``seconds`` per key."""

    def __init__(self, clock: SandboxClock, limit: int, seconds: int) -> None:
        self.clock, self.limit, self.seconds = clock, limit, seconds
        self._start: dict[str, float] = {}
        self._count: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one call; None when allowed, else the seconds until the window resets."""
        with self._lock:
            now = self.clock.timestamp()
            start = self._start.get(key)
            if start is None or now >= start + self.seconds:
                self._start[key], self._count[key] = now, 0
                start = now
            if self._count[key] >= self.limit:
                return max(1, math.ceil(start + self.seconds - now))
            self._count[key] += 1
            return None


DEFAULT_DOSSIERS = (
    DossierSpec(id="6f1c2a52-3b0e-4f4e-9a51-0c2d3e4f5a61", name="Peeters & Janssens BV", code="PJ01",
                language="nl", customers=60, items=300, kbo="0123456749"),
    DossierSpec(id="7a2d3b63-4c1f-4a5f-8b62-1d3e4f5a6b72", name="Dupont Conseil SRL", code="DC01",
                language="fr", customers=25, items=90, kbo="0456123776"),
)


class AdsolutSandbox(SandboxApp):
    def __init__(
        self,
        *,
        seed: int = 42,
        dossiers: tuple[DossierSpec, ...] = DEFAULT_DOSSIERS,
        clock: SandboxClock | None = None,
        open_items_path: str | None = DEFAULT_OPEN_ITEMS_PATH,
        rate_limit: int = 100,
        rate_window: int = 60,
        administrations_envelope: str = "items",
    ) -> None:
        super().__init__(clock=clock)
        self.generator = DataGenerator(seed)
        rules = TokenRules(access_lifetime=ACCESS_LIFETIME, refresh_single_use=True,
                           refresh_lifetime=REFRESH_LIFETIME, code_lifetime=300)
        self.issuer = _Issuer(rules, self.clock)
        #: client id -> the scopes Wolters Kluwer provisioned for it (A1)
        self.provisioned: dict[str, frozenset[str]] = {}
        self.window = _Window(self.clock, rate_limit, rate_window)
        #: A3: "bare array, {items:[…]} and {data:[…]}" were all seen: "array" | "items" | "data"
        self.administrations_envelope = administrations_envelope
        now = self.clock.now()
        self.dossiers: dict[str, DossierState] = {d.id: generate(self.generator, d, now) for d in dossiers}
        self.open_items_path = open_items_path
        self._cache: dict[tuple[str, str, int, str], list[Any]] = {}
        self._install()

    # ================================================================== routes
    def _install(self) -> None:
        self.add_route("GET", AUTHORIZE_PATH, self._authorize_page, "identity/authorize")
        self.add_route("POST", AUTHORIZE_PATH, self._authorize_post, "identity/authorize")
        self.add_route("POST", TOKEN_PATH, self._token, "identity/token")
        v1 = "[vV]1"
        self.add_route("GET", f"/adm/{v1}/administrations", self._api(self._administrations, ADMINISTRATIONS_SCOPE),
                       "administrations")
        for method in ("POST", "DELETE"):
            self.add_route(method, f"/adm/{v1}/administrations/(?P<adm>[^/]+)/integrations",
                           self._api(self._integration, ADMINISTRATIONS_SCOPE), "integrations")
        base = f"/acc/{v1}/adm/(?P<adm>[^/]+)"
        self.add_route("GET", f"{base}/customers", self._api(self._customers, READ_SCOPE, dossier=True), "customers")
        self.add_route("POST", f"{base}/customers", self._api(self._customer_post, WRITE_SCOPE, dossier=True),
                       "customers")
        self.add_route("GET", f"{base}/customers/(?P<id>[^/]+)",
                       self._api(self._customer_get, READ_SCOPE, dossier=True), "customers/{id}")
        self.add_route("PUT", f"{base}/customers/(?P<id>[^/]+)",
                       self._api(self._customer_put, WRITE_SCOPE, dossier=True), "customers/{id}")
        if self.open_items_path is not None:
            pattern = self.open_items_path.replace("{administration}", "(?P<adm>[^/]+)").replace("/v1/", f"/{v1}/")
            self.add_route("GET", pattern, self._api(self._open_items, READ_SCOPE, dossier=True), "openitems")

    def _api(self, handler: Callable[..., Response], scope: str, *, dossier: bool = False) -> Callable[..., Response]:
        def wrapped(request: Request, adm: str | None = None, **ids: str) -> Response:
            token = request.bearer_token()
            scopes = self.issuer.scopes_for(token)
            if token is None or scopes is None:
                return Response.empty(401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            if scope not in scopes:
                return Response.empty(403)  # A7: 403 with an empty body for a missing scope
            client = self.issuer.client_for(token)
            wait = self.window.hit(f"{client}:{adm or '-'}")
            if wait is not None:
                return Response.empty(429, {"Retry-After": str(wait)})
            try:
                if not dossier:
                    return handler(request, client, adm=adm) if adm is not None else handler(request, client)
                state = self.dossiers.get(adm or "")
                if state is None:
                    return Response.json({"error": "Administration not found"}, status=404)
                return handler(request, state, client in state.integrations, **ids)
            except _Refusal as refusal:
                return refusal.response

        return wrapped

    def fault_response(self, request: Request, endpoint: str, fault: Fault) -> Response:
        if fault.status == 429:
            return Response.empty(429, {"Retry-After": "1", **fault.headers})
        if fault.body is not None:
            return Response.json(fault.body, status=fault.status, headers=fault.headers)
        return Response.empty(fault.status, fault.headers)  # A7: ERP once answered an empty-body 500

    # ================================================================== identity (A2)
    def register_client(self, client_id: str, secret: str, redirect_uri: str,
                        scopes: tuple[str, ...] = KNOWN_SCOPES) -> None:
        """Test helper: the client id/secret Wolters Kluwer provisions, with its scopes (A1)."""
        self.issuer.register_client(client_id, secret, redirect_uri)
        self.provisioned[client_id] = frozenset(scopes)

    def _check_authorize(self, client_id: str | None, redirect_uri: str | None, response_type: str | None) -> str | None:
        known = self.issuer.clients.get(client_id or "")
        if known is None:
            return "unauthorized_client"
        if redirect_uri != known[1]:
            return "invalid_request: redirect_uri"
        if response_type != "code":
            return "unsupported_response_type"
        return None

    def _authorize_page(self, request: Request) -> Response:
        client_id, redirect_uri = request.arg("client_id"), request.arg("redirect_uri")
        problem = self._check_authorize(client_id, redirect_uri, request.arg("response_type"))
        if problem is not None:
            return Response.text(f"<!doctype html><p>Error: {problem}</p>", status=400, content_type="text/html")
        hidden = {"client_id": client_id or "", "redirect_uri": redirect_uri or "", "response_type": "code",
                  "scope": request.arg("scope") or "", "state": request.arg("state") or ""}
        return Response.text(consent_page("Wolters Kluwer: toegang verlenen / autoriser l'accès", AUTHORIZE_PATH, hidden),
                             content_type="text/html")

    def _authorize_post(self, request: Request) -> Response:
        form = request.form()
        problem = self._check_authorize(form.get("client_id"), form.get("redirect_uri"), form.get("response_type"))
        if problem is not None:
            return Response.text(f"<!doctype html><p>Error: {problem}</p>", status=400, content_type="text/html")
        return Response.redirect(self.approve(form["client_id"], form["redirect_uri"], form.get("state") or None,
                                              form.get("scope", ""), approve=form.get("approve") == "1"))

    def approve(self, client_id: str, redirect_uri: str, state: str | None, scope: str, *,
                approve: bool = True, user: str = "boekhouder") -> str:
        """What the person's click does; returns the redirect URL (A1: unprovisioned scope → invalid_scope)."""
        extra = {"state": state} if state else {}
        if not approve:
            return redirect_with(redirect_uri, {"error": "access_denied", **extra})
        wanted = [s for s in scope.replace("+", " ").split() if s]
        if not wanted or any(s not in self.provisioned.get(client_id, frozenset()) for s in wanted):
            return redirect_with(redirect_uri, {"error": "invalid_scope", **extra})
        code = self.issuer.issue_code(client_id, redirect_uri, user=user, scope=" ".join(dict.fromkeys(wanted)))
        return redirect_with(redirect_uri, {"code": code, **extra})

    def _token(self, request: Request) -> Response:
        form = request.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = request.header("authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
            except ValueError:
                return Response.json({"error": "invalid_client"}, status=400)
        try:
            self.issuer.check_client(client_id, secret or "")
        except TokenError:
            return Response.json({"error": "invalid_client"}, status=400)
        assert client_id is not None
        grant_type = form.get("grant_type")
        try:
            if grant_type == "authorization_code":
                grant = self.issuer.exchange_code(form.get("code", ""), client_id, form.get("redirect_uri", ""))
            elif grant_type == "refresh_token":
                grant = self.issuer.refresh(form.get("refresh_token", ""), client_id)
            else:
                return Response.json({"error": "unsupported_grant_type"}, status=400)
        except TokenError:
            return Response.json({"error": "invalid_grant"}, status=400)
        body: dict[str, Any] = {"access_token": grant.access_token, "expires_in": ACCESS_LIFETIME,
                                "token_type": "Bearer", "scope": grant.scope}
        if "offline_access" in grant.scope.split():
            body["refresh_token"] = grant.refresh_token
        return Response.json(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ================================================================== administrations (A3)
    def _administrations(self, request: Request, client: str) -> Response:
        rows = [
            {"id": d.spec.id, "name": d.spec.name, "code": d.spec.code, "identifier": d.spec.code,
             "displayName": f"{d.spec.code} - {d.spec.name}", "language": d.spec.language,
             "companyRegistrationNumber": d.spec.kbo, "companyRegistrationNumberPrefix": "BE",
             "organizationalUnitId": self.generator.guid("ou", d.spec.id), "administrationType": "Accounting",
             "capabilities": ["Accounting"]}
            for d in self.dossiers.values()
        ]
        if self.administrations_envelope == "array":
            return Response.json(rows)
        return Response.json({self.administrations_envelope: rows})

    def _integration(self, request: Request, client: str, adm: str) -> Response:
        state = self.dossiers.get(adm)
        if state is None:
            return Response.json({"error": "Administration not found"}, status=404)
        with self.state_lock:
            if request.method == "POST":
                state.activations += 1
                state.integrations.add(client)
            else:
                state.deactivations += 1
                state.integrations.discard(client)
        return Response.empty(204)  # A3: idempotent; the status code is ASSUMED

    # ================================================================== paging (A4, A7)
    def _paging(self, request: Request) -> tuple[int, int]:
        try:
            page = int(request.arg("Page") or request.arg("page") or 1)
            limit = int(request.arg("Limit") or request.arg("limit") or DEFAULT_LIMIT)
        except ValueError:
            raise validation("InvalidPaging", "Page", "Page and Limit must be whole numbers") from None
        if page < 1:
            raise validation("InvalidPaging", "Page", "Page starts at 1")
        if not 1 <= limit <= MAX_LIMIT:
            raise validation("InvalidPaging", "Limit", f"Limit must be between 1 and {MAX_LIMIT}")
        return page, limit

    def _since(self, request: Request) -> datetime | None:
        raw = request.arg("ModifiedSince") or request.arg("modifiedSince")
        if not raw:
            return None
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise validation("InvalidModifiedSince", "ModifiedSince", "not an ISO 8601 date-time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def _envelope(self, rows: list[Any], page: int, limit: int, render: Callable[[Any], dict[str, Any]],
                  endpoint: str) -> Response:
        total = len(rows)
        chunk = [render(r) for r in rows[(page - 1) * limit: page * limit]]
        if chunk and self.faults.take(endpoint, ("malformed",)) is not None:
            chunk[0] = dict(chunk[0])
            if endpoint == "openitems":
                chunk[0]["openAmount"] = "n/a"
            else:
                chunk[0]["name"] = None
        return Response.json({"items": chunk, "currentPage": page, "totalPages": math.ceil(total / limit),
                              "totalItems": total})

    def _sorted(self, state: DossierState, kind: str, order: str, key: Callable[[Any], Any],
                rows: Callable[[], list[Any]]) -> list[Any]:
        cache_key = (state.spec.id, kind, state.version, order)
        cached = self._cache.get(cache_key)
        if cached is None:
            if len(self._cache) > 32:
                self._cache.clear()
            cached = sorted(rows(), key=key)
            self._cache[cache_key] = cached
        return cached

    # ================================================================== customers (A4–A6)
    def _customers(self, request: Request, state: DossierState, active: bool) -> Response:
        page, limit = self._paging(request)
        since = self._since(request)
        if not active:
            return Response.json({"items": [], "currentPage": page, "totalPages": 0, "totalItems": 0})
        order = (request.arg("OrderBy") or "code").strip()
        field = {"lastmodified": "lastModified", "name": "name", "code": "code"}.get(order.lower())
        if field is None:
            raise validation("InvalidOrderBy", "OrderBy", f"cannot order by {order!r}")
        code = request.arg("Code")
        rows = self._sorted(
            state, f"customers:{since}:{code}", field, lambda c: (str(c.get(field) or ""), str(c["id"])),
            lambda: [c for c in state.customers.values() if (since is None or _when(c["lastModified"]) >= since)
                     and (not code or c.get("code") == code)])
        return self._envelope(rows, page, limit, dict, "customers")

    def _customer(self, state: DossierState, active: bool, ident: str) -> dict[str, Any]:
        customer = state.customers.get(ident) if active else None
        if customer is None:
            raise _Refusal(Response.json({"error": "Customer not found"}, status=404))
        return customer

    def _customer_get(self, request: Request, state: DossierState, active: bool, id: str) -> Response:
        return Response.json(self._customer(state, active, id))

    def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise validation("InvalidBody", "", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise validation("InvalidBody", "", "the body must be a JSON object")
        return body

    def _customer_post(self, request: Request, state: DossierState, active: bool) -> Response:
        if not active:
            raise _Refusal(Response.json({"error": "Administration not found"}, status=404))
        body = self._body(request)
        number = body.get("number")
        if not isinstance(number, str) or not number.strip():
            raise validation("CustomerNumberRequired", "number", "number is required")
        if any(c.get("number") == number for c in state.customers.values()):
            raise validation("CustomerNumberNotUnique", "number", f"number {number} is already used")
        ident = self.generator.guid("adsolut-new-customer", state.spec.id, len(state.customers), number)
        customer: dict[str, Any] = {"code": number, "number": number, "postingRuleLines": [],
                                    "currency": {"id": "00000000-0000-0000-0000-000000000005", "nameNl": "Euro"},
                                    "id": ident, "links": []}
        self._write(state, customer, body, creating=True)
        return Response.json({"id": ident, "validationResults": []})

    def _customer_put(self, request: Request, state: DossierState, active: bool, id: str) -> Response:
        customer = self._customer(state, active, id)
        body = self._body(request)
        if body.get("number") != customer.get("number"):
            # A5/A6: number is immutable after creation; PUT without it fails this way.
            raise validation("UpdateCustomerNumberNotValid", "number", "The customer number cannot be changed")
        self._write(state, customer, body, creating=False)
        return Response.empty(204)

    def _write(self, state: DossierState, customer: dict[str, Any], body: dict[str, Any], *, creating: bool) -> None:
        """A6: full replace from the write shape; what is left out is reset."""
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise validation("NameRequired", "name", "name is required")
        if not creating and not isinstance(body.get("active"), bool):
            raise validation("ActiveRequired", "active", "active is required")
        values = {**WRITE_DEFAULTS, **{k: v for k, v in body.items() if k in WRITE_DEFAULTS}}
        with self.state_lock:
            customer["name"] = name
            for key in _PLAIN:
                customer[key] = values[key]
            customer["country"] = {"id": values["countryId"]} if values["countryId"] else None
            customer["vatSpecification"] = {"id": values["vatSpecificationId"]} if values["vatSpecificationId"] else None
            vat_pct = values["vatPercentageId"]
            customer["vatPercentage"] = ({"id": vat_pct, "percentage": VAT_PERCENTAGES.get(vat_pct)}
                                         if vat_pct else None)
            customer["bankAccounts"] = [dict(line) for line in values["bankAccountLines"] if isinstance(line, dict)]
            state.external_ids[str(customer["id"])] = values["externalId"]
            customer["lastModified"] = stamp(self.clock.now())
            state.customers[str(customer["id"])] = customer
            state.active[str(customer["id"])] = bool(body.get("active", True))
            state.version += 1

    # ================================================================== open items (ASSUMED)
    def _open_items(self, request: Request, state: DossierState, active: bool) -> Response:
        page, limit = self._paging(request)
        since = self._since(request)
        if not active:
            return Response.json({"items": [], "currentPage": page, "totalPages": 0, "totalItems": 0})
        order = (request.arg("OrderBy") or "documentDate").strip().lower()
        keys: dict[str, Callable[[OpenItemRec], Any]] = {
            "lastmodified": lambda i: (i.last_modified, i.id),
            "documentdate": lambda i: (i.document_date, i.id),
            "duedate": lambda i: (i.due_date, i.id),
        }
        if order not in keys:
            raise validation("InvalidOrderBy", "OrderBy", f"cannot order by {order!r}")
        open_only = (request.arg("OpenOnly") or "").lower() == "true"
        customer = request.arg("CustomerId")
        rows = self._sorted(
            state, f"items:{since}:{open_only}:{customer}", order, keys[order],
            lambda: [i for i in state.items.values() if (since is None or i.last_modified >= since)
                     and (not open_only or i.open_amount != 0) and (not customer or i.customer_id == customer)])
        return self._envelope(rows, page, limit, item_json, "openitems")

    # ================================================================== test helpers
    def dossier(self, ident: str) -> DossierState:
        return self.dossiers[ident]

    def customer(self, dossier_id: str, customer_id: str) -> dict[str, Any]:
        return dict(self.dossiers[dossier_id].customers[customer_id])

    def open_amounts(self, dossier_id: str) -> dict[str, Decimal]:
        """Item id → open amount (document currency) of every item with something open."""
        return {i.id: i.open_amount for i in self.dossiers[dossier_id].items.values() if i.open_amount != 0}

    def _touch(self, state: DossierState) -> datetime:
        state.version += 1
        return self.clock.now()

    def pay(self, dossier_id: str, item_id: str, amount: Decimal | str) -> None:
        with self.state_lock:
            state = self.dossiers[dossier_id]
            item = state.items[item_id]
            state.items[item_id] = replace(item, open_amount=(item.open_amount - Decimal(str(amount))).quantize(CENT),
                                           last_modified=self._touch(state))

    def add_item(self, dossier_id: str, customer_id: str, amount: Decimal | str, due: date,
                 document_date: date | None = None) -> str:
        with self.state_lock:
            state = self.dossiers[dossier_id]
            customer = state.customers[customer_id]
            number = len(state.items) + 1
            ident = self.generator.guid("adsolut-added-item", dossier_id, number)
            value = Decimal(str(amount)).quantize(CENT)
            state.items[ident] = OpenItemRec(
                id=ident, customer_id=customer_id, customer_code=str(customer["code"]),
                document_number=f"VF{due:%y}-9{number:05d}", document_type="Invoice",
                document_date=document_date or self.clock.now().date(), due_date=due, currency="EUR",
                rate=Decimal(1), amount=value, open_amount=value,
                reference=structured_communication(900_000_000 + number), last_modified=self._touch(state),
            )
            return ident

    def delete_item(self, dossier_id: str, item_id: str) -> None:
        """A booking removed: the item disappears without any trace in ``ModifiedSince``."""
        with self.state_lock:
            state = self.dossiers[dossier_id]
            del state.items[item_id]
            state.version += 1

    def rename_customer(self, dossier_id: str, customer_id: str, name: str) -> None:
        with self.state_lock:
            state = self.dossiers[dossier_id]
            state.customers[customer_id]["name"] = name
            state.customers[customer_id]["lastModified"] = stamp(self._touch(state))

    def delete_customer(self, dossier_id: str, customer_id: str) -> None:
        """A hard delete: does not bump anything (reference A7, seen for contacts)."""
        with self.state_lock:
            state = self.dossiers[dossier_id]
            del state.customers[customer_id]
            state.active.pop(customer_id, None)
            state.version += 1


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_adsolut(seed: int = 42, size: str = "small", **kwargs: Any) -> AdsolutSandbox:
    """``small``: the two default dossiers; ``medium``/``large``/a number: one dossier of that many
    open items with a fifth as many customers."""
    if size == "small":
        return AdsolutSandbox(seed=seed, **kwargs)
    items = {"medium": 10_000, "large": 100_000}.get(size)
    if items is None:
        items = int(size)
    spec = replace(DEFAULT_DOSSIERS[0], customers=max(20, items // 5), items=items)
    return AdsolutSandbox(seed=seed, dossiers=(spec,), **kwargs)


def serve_adsolut(
    port: int,
    seed: int = 42,
    size: str = "small",
    client_id: str = "arconnect-demo",
    client_secret: str = "demo-secret",
    redirect_uri: str = "http://127.0.0.1:8765/callback",
    **kwargs: Any,
) -> RunningServer:
    """Serve an Adsolut sandbox on 127.0.0.1:``port`` (0 picks a free port) with one provisioned app."""
    app = build_adsolut(seed, size, **kwargs)
    app.register_client(client_id, client_secret, redirect_uri)
    return serve(app, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = sandbox_parser("adsolut-sandbox", "Adsolut", port=8769,
                            size_help="small, medium, large or a number of open items")
    args = parser.parse_args(argv)
    server = serve_adsolut(args.port, args.seed, args.size, args.client_id, args.client_secret, args.redirect_uri)
    serve_until_interrupted(server, "Adsolut", args.client_id)


if __name__ == "__main__":
    main()


