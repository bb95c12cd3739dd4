"""Moneybird simulator: API v2 (JSON) and OAuth2, per docs/reference/moneybird.md and the official spec.

Run it in-process with ``connector.sandbox.transport(MoneybirdSandbox.small())`` or on loopback with
:func:`serve_moneybird` / ``python -m adapters.moneybird.sandbox --port 8767``.

Decisions where the reference leaves a choice (see also :mod:`adapters.moneybird.sandbox_auth` for
OAuth and rate limiting, :mod:`adapters.moneybird.sandbox_query` for filters and paging):

* §1 paths take ``.json`` or no suffix; ``.xml`` is answered 406 (XML is not simulated).
* §4 ``pause``/``resume`` are ``POST`` (201, the invoice), as the spec says; pausing twice is harmless.
* §5 ``POST …/synchronization`` returns at most 100 records, the first 100 ids given ("Returns a
  maximum of 100 … even if more ids are provided"); it does not refuse more. Unknown ids are skipped.
  Without ``filter`` the sync list has no period restriction (PICQER #168).
* §7 ``send_reminders``: 200 with the JSON integer ``200`` (the spec's ``status_code`` response schema).
  Effect [INFERRED]: ``reminder_count`` + 1, state ``reminded``, ``next_reminder`` moves by the next
  workflow step delay, event ``sales_invoice_send_reminder_email`` or ``…_manually``. Only invoices that
  are open, late or reminded and belong to ``contact_id`` may be in a reminder (422 otherwise), and
  each entry's invoices must carry the entry's ``workflow_id``, ``document_style_id`` and ``identity_id``
  (spec: "Reminders are grouped by workflow, identity and document style"; 422 otherwise, body
  [UNVERIFIED]). The reference says nothing about refusing unknown ids on their own, so an unknown
  workflow is only refused through that rule (no invoice has it).
* Every administration has two invoice workflows, two document styles and two identities (the
  default one only at ``GET /identities/default``; spec: ``GET /identities`` "does not include the
  default identity"). Generated invoices are mostly on the defaults, some on the others, drawn from
  the seed, so one contact can need several reminders (``AdministrationSpec(varied_layouts=False)``
  puts every invoice on the defaults).
* §7 notes: adding a note bumps the invoice's ``updated_at``/``version`` [INFERRED].
* §9 401 without a valid token: ``{"error":"Invalid access token","symbolic":{"access_token":"invalid"}}``
  [UNVERIFIED body]; a missing scope: 401 ``{"error":"No access to sales_invoices"}`` (spec example).
  A suspended administration: 403 ``{"error":"Administration is suspended"}`` [UNVERIFIED].
  An unknown administration: 404 ``{"error":"record not found","symbolic":{"administration_id":"not_found"}}``.
* Injected 5xx (``sandbox.faults.fail(503)``) answer an HTML error page (a client must not assume JSON);
  injected 429s look exactly like real ones (JSON ``"Retry later"`` and epoch headers).
* ``faults.malformed(endpoint=...)`` makes the first record of the next list/sync answer carry
  ``total_unpaid: "n/a"`` (and ``total_price_incl_tax``).
* Time: the sandbox clock; day boundaries in Europe/Amsterdam. Generated data is dated relative to the
  clock's day at construction; states (open → late) follow the clock afterwards.

Fault endpoint names are the route names, e.g. ``"administrations"``, ``"contacts"``,
``"contacts/synchronization"``, ``"sales_invoices"``, ``"sales_invoices/synchronization"``,
``"sales_invoices/{id}"``, ``"sales_invoices/send_reminders"``, ``"oauth/token"``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.moneybird.sandbox_auth import (
    INVALID_CLIENT,
    INVALID_GRANT,
    MoneybirdIssuer,
    RateLimiter,
    make_issuer,
    parse_scope,
    token_error,
)
from adapters.moneybird.sandbox_data import (
    AMSTERDAM,
    CENT,
    DOCUMENT_STYLES,
    IDENTITIES,
    KIND_CONTACT,
    KIND_FIXED,
    KIND_INVOICE,
    KIND_PAYMENT,
    WORKFLOWS,
    AdministrationSpec,
    AdminState,
    ContactRec,
    InvoiceRec,
    PaymentRec,
    at,
)
from adapters.moneybird.sandbox_query import (
    InvoiceFilter,
    QueryError,
    link_header,
    paging,
    parse_invoice_filter,
)
from adapters.moneybird.sandbox_realism import (
    EXPIRED_CHALLENGE,
    Realism,
    maintenance,
    realism_of,
    token_expires,
    vary_contact,
    vary_invoice,
)
from adapters.moneybird.sandbox_render import (
    administration_json,
    contact_json,
    custom_fields_json,
    default_identity_json,
    document_styles_json,
    identities_json,
    invoice_json,
    note_json,
    payment_json,
    users_json,
    version_of,
    workflows_json,
)
from connector.sandbox import (
    Fault,
    Request,
    Response,
    RunningServer,
    SandboxApp,
    SandboxClock,
    TokenError,
    client_authentication,
    consent_page,
    redirect_with,
    sandbox_parser,
    serve,
    serve_until_interrupted,
)

__all__ = ["AdministrationSpec", "MoneybirdSandbox", "main", "serve_moneybird"]

_FMT = r"(?P<fmt>\.json|\.xml)?"
_ANY_SCOPE = frozenset({"estimates", "sales_invoices", "documents", "bank", "settings"})
_UNPAID = ("open", "late", "reminded", "pending_payment")


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def _not_found(key: str = "id") -> ApiError:
    return ApiError(404, {"error": "record not found", "symbolic": {key: "not_found"}})


def _invalid(field: str, message: str, code: str) -> ApiError:
    return ApiError(422, {"error": {field: [message]}, "details": {field: [{"error": code}]}})


def _decimal(value: Any) -> Decimal | None:
    """§1 request money: a number or a string, a comma allowed as decimal separator."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).replace(",", ".")).quantize(CENT)
    except InvalidOperation:
        return None


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


class MoneybirdSandbox(SandboxApp):
    """The Moneybird API v2 and OAuth2 on one WSGI app."""

    def __init__(
        self,
        *,
        seed: int = 42,
        administrations: Iterable[AdministrationSpec] = (
            AdministrationSpec(id="123456789012345678", name="Parkietje B.V."),
        ),
        clock: SandboxClock | None = None,
        limit: int = 150,
        window_seconds: int = 300,
        access_lifetime: int | None = None,
        rotate_refresh: bool = True,
        realistic: bool | Realism = False,
    ) -> None:
        super().__init__(clock=clock)
        self.seed = seed
        #: Issue 16 point 5: vary answers the way production does (:mod:`adapters.moneybird.sandbox_realism`).
        self.realism = realism_of(realistic)
        self._gets = 0
        anchor = self.today()
        self.admins: dict[str, AdminState] = {
            spec.id: AdminState(spec, number + 1, seed, anchor) for number, spec in enumerate(administrations)
        }
        self.issuer: MoneybirdIssuer = make_issuer(self.clock, access_lifetime, rotate_refresh)
        self.limiter = RateLimiter(self.clock, limit, window_seconds)
        self._install()

    @classmethod
    def small(cls, seed: int = 42, *, clock: SandboxClock | None = None, **kwargs: Any) -> MoneybirdSandbox:
        """Two administrations (NL and BE), 40 + 25 contacts, 150 + 60 sales invoices, varied layouts."""
        return cls(
            seed=seed,
            clock=clock,
            administrations=(
                AdministrationSpec(id="123456789012345678", name="Parkietje B.V.", contacts=40, invoices=150),
                AdministrationSpec(id="223456789012345678", name="Kanarie BV", contacts=25, invoices=60,
                                   country="BE", language="nl-be"),
            ),
            **kwargs,
        )

    # ================================================================== time
    def today(self) -> date:
        return self.clock.now().astimezone(AMSTERDAM).date()

    def now(self) -> datetime:
        return self.clock.now()

    # ================================================================== routing
    def _install(self) -> None:
        self.add_route("GET", "/oauth/authorize", self._authorize_page, "oauth/authorize")
        self.add_route("POST", "/oauth/authorize", self._authorize_post, "oauth/authorize")
        self.add_route("POST", "/oauth/token", self._token, "oauth/token")
        self.add_route("GET", f"/api/v2/administrations{_FMT}", self._api(self._administrations, None),
                       "administrations")
        routes: list[tuple[str, str, str, Callable[..., Any], frozenset[str] | None]] = [
            ("GET", "contacts", "contacts", self._contacts, _ANY_SCOPE),
            ("GET", "contacts/synchronization", "contacts/synchronization", self._contacts_sync_list, _ANY_SCOPE),
            ("POST", "contacts/synchronization", "contacts/synchronization", self._contacts_sync_fetch, _ANY_SCOPE),
            ("GET", r"contacts/(?P<id>\d+)", "contacts/{id}", self._contact_get, _ANY_SCOPE),
            ("PATCH", r"contacts/(?P<id>\d+)", "contacts/{id}", self._contact_patch, _ANY_SCOPE),
            ("POST", r"contacts/(?P<id>\d+)/notes", "contacts/{id}/notes", self._contact_note, _ANY_SCOPE),
            ("GET", "sales_invoices", "sales_invoices", self._invoices, frozenset({"sales_invoices"})),
            ("GET", "sales_invoices/synchronization", "sales_invoices/synchronization", self._invoices_sync_list,
             frozenset({"sales_invoices"})),
            ("POST", "sales_invoices/synchronization", "sales_invoices/synchronization", self._invoices_sync_fetch,
             frozenset({"sales_invoices"})),
            ("POST", "sales_invoices/send_reminders", "sales_invoices/send_reminders", self._send_reminders,
             frozenset({"sales_invoices"})),
            ("GET", r"sales_invoices/(?P<id>\d+)", "sales_invoices/{id}", self._invoice_get,
             frozenset({"sales_invoices"})),
            ("POST", r"sales_invoices/(?P<id>\d+)/pause", "sales_invoices/{id}/pause", self._pause,
             frozenset({"sales_invoices"})),
            ("POST", r"sales_invoices/(?P<id>\d+)/resume", "sales_invoices/{id}/resume", self._resume,
             frozenset({"sales_invoices"})),
            ("PATCH", r"sales_invoices/(?P<id>\d+)/mark_as_uncollectible", "sales_invoices/{id}/mark_as_uncollectible",
             self._mark_uncollectible, frozenset({"sales_invoices"})),
            ("PATCH", r"sales_invoices/(?P<id>\d+)/mark_as_dubious", "sales_invoices/{id}/mark_as_dubious",
             self._mark_dubious, frozenset({"sales_invoices"})),
            ("POST", r"sales_invoices/(?P<id>\d+)/payments", "sales_invoices/{id}/payments", self._payment_post,
             frozenset({"sales_invoices"})),
            ("DELETE", r"sales_invoices/(?P<id>\d+)/payments/(?P<sub>\d+)", "sales_invoices/{id}/payments/{id}",
             self._payment_delete, frozenset({"sales_invoices"})),
            ("POST", r"sales_invoices/(?P<id>\d+)/notes", "sales_invoices/{id}/notes", self._invoice_note,
             frozenset({"sales_invoices"})),
            ("DELETE", r"sales_invoices/(?P<id>\d+)/notes/(?P<sub>\d+)", "sales_invoices/{id}/notes/{id}",
             self._invoice_note_delete, frozenset({"sales_invoices"})),
            ("GET", r"payments/(?P<id>\d+)", "payments/{id}", self._payment_get, None),
            ("GET", "custom_fields", "custom_fields", self._simple(custom_fields_json), _ANY_SCOPE),
            ("GET", "workflows", "workflows", self._simple(workflows_json), _ANY_SCOPE),
            ("GET", r"workflows/(?P<id>\d+)", "workflows/{id}", self._workflow_get, _ANY_SCOPE),
            ("GET", "document_styles", "document_styles", self._simple(document_styles_json),
             frozenset({"settings", "sales_invoices", "estimates"})),
            ("GET", "identities", "identities", self._simple(identities_json), frozenset({"settings"})),
            ("GET", "identities/default", "identities/default", self._simple(default_identity_json),
             frozenset({"settings"})),
            ("GET", "users", "users", self._simple(users_json), frozenset({"settings"})),
        ]
        for method, path, name, handler, scopes in routes:
            self.add_route(method, rf"/api/v2/(?P<adm>\d+)/{path}{_FMT}", self._api(handler, scopes, admin=True), name)

    def _api(self, handler: Callable[..., Any], scopes: frozenset[str] | None, *, admin: bool = False
             ) -> Callable[..., Response]:
        def wrapped(request: Request, fmt: str | None = None, adm: str | None = None, **ids: str) -> Response:
            token = request.bearer_token()
            granted = self.issuer.scopes_for(token)
            try:
                if fmt == ".xml":
                    raise ApiError(406, {"error": "XML is not supported by this sandbox"})
                if scopes is not None and granted is not None and not granted & scopes:
                    raise ApiError(401, {"error": f"No access to {' or '.join(sorted(scopes))}"})
                args: list[Any] = [request]
                if admin:
                    state = self.admins.get(adm or "")
                    if state is None:
                        raise _not_found("administration_id")
                    if state.spec.suspended:
                        raise ApiError(403, {"error": "Administration is suspended"})
                    args.append(state)
                result = handler(*args, **ids)
            except QueryError as exc:
                return Response.json(exc.body, status=400)
            except ApiError as exc:
                return Response.json(exc.body, status=exc.status)
            if isinstance(result, Response):
                return result
            return Response.json(result)

        return wrapped

    def _simple(self, render: Callable[[AdminState], Any]) -> Callable[..., Any]:
        def handler(request: Request, admin: AdminState) -> Any:
            return render(admin)

        return handler

    # ---- hooks: auth, rate limit, faults
    def before(self, request: Request, endpoint: str) -> Response | None:
        if not request.path.startswith("/api/"):
            return None
        token = request.bearer_token()
        if self.realism is not None and (request.method == "GET" or request.path.endswith("/synchronization.json")):
            # Reads only (a synchronization POST reads too): a write met by a maintenance page is not retried.
            self._gets += 1
            answer = maintenance(self.realism, self._gets)
            if answer is not None:
                return answer
            if token_expires(self.realism, self._gets) and self.issuer.expire(token):
                return Response.json({"error": "Invalid access token", "symbolic": {"access_token": "expired"}},
                                     status=401, headers={"WWW-Authenticate": EXPIRED_CHALLENGE})
        if self.issuer.user_for(token) is None or token is None:
            return Response.json({"error": "Invalid access token", "symbolic": {"access_token": "invalid"}},
                                 status=401, headers={"WWW-Authenticate": 'Bearer realm="Moneybird", error="invalid_token"'})
        if not self.limiter.hit(token):
            return self.limiter.too_many(token)
        return None

    def after(self, request: Request, endpoint: str, response: Response) -> Response:
        token = request.bearer_token()
        if request.path.startswith("/api/") and token and response.status != 401:
            for key, value in self.limiter.headers(token).items():
                response.headers.setdefault(key, value)
        return response

    def fault_response(self, request: Request, endpoint: str, fault: Fault) -> Response:
        if fault.body is not None:
            return Response.json(fault.body, status=fault.status, headers=fault.headers)
        if fault.status == 429:
            headers = self.limiter.headers(request.bearer_token() or "-")
            headers["Retry-After"] = headers["RateLimit-Reset"]
            return Response.json("Retry later", status=429, headers={**headers, **fault.headers})
        page = ("<!DOCTYPE html><html><head><title>Moneybird</title></head><body>"
                "<h1>We're sorry, but something went wrong.</h1></body></html>")
        response = Response.text(page, status=fault.status, content_type="text/html")
        response.headers.update(fault.headers)
        return response

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": "record not found", "symbolic": {"path": "not_found"}}, status=404)

    def method_not_allowed(self, request: Request) -> Response:
        return Response.json({"error": "Method not allowed"}, status=405)

    # ================================================================== OAuth (§2)
    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        """Test helper: an application registered at moneybird.com/user/applications/new."""
        self.issuer.register_client(client_id, secret, redirect_uri)

    def _check_authorize(self, client_id: str | None, redirect_uri: str | None, response_type: str | None) -> None:
        known = self.issuer.clients.get(client_id or "")
        if known is None:
            raise ValueError("Client authentication failed due to unknown client.")
        if redirect_uri != known[1]:
            raise ValueError("The requested redirect uri is malformed or doesn't match client redirect URI.")
        if response_type != "code":
            raise ValueError("The authorization server does not support this response type.")

    def approve(self, client_id: str, redirect_uri: str, state: str | None = None,
                scope: str = "sales_invoices settings", user: str | None = None) -> str:
        """Test helper: what a person's click on "Allow" does; returns the redirect URL."""
        self._check_authorize(client_id, redirect_uri, "code")
        extra = {"state": state} if state is not None else {}
        scopes = parse_scope(scope)
        if scopes is None:
            return redirect_with(redirect_uri, {"error": "invalid_scope", **extra})
        code = self.issuer.issue_code(client_id, redirect_uri, user=user or "owner", scope=" ".join(scopes))
        return redirect_with(redirect_uri, {"code": code, **extra})

    def _authorize_page(self, request: Request) -> Response:
        client_id, redirect_uri = request.arg("client_id"), request.arg("redirect_uri")
        try:
            self._check_authorize(client_id, redirect_uri, request.arg("response_type"))
        except ValueError as exc:
            return Response.text(f"<!doctype html><p>{exc}</p>", status=400, content_type="text/html")
        hidden = {"client_id": client_id or "", "redirect_uri": redirect_uri or "", "response_type": "code",
                  "scope": request.arg("scope") or "", "state": request.arg("state") or ""}
        return Response.text(consent_page("Moneybird: toegang verlenen", "/oauth/authorize", hidden),
                             content_type="text/html")

    def _authorize_post(self, request: Request) -> Response:
        form = request.form()
        try:
            self._check_authorize(form.get("client_id"), form.get("redirect_uri"), form.get("response_type"))
        except ValueError as exc:
            return Response.text(f"<!doctype html><p>{exc}</p>", status=400, content_type="text/html")
        state = form.get("state") or None
        if form.get("approve") != "1":
            extra = {"state": state} if state else {}
            return Response.redirect(redirect_with(form["redirect_uri"], {"error": "access_denied", **extra}))
        return Response.redirect(self.approve(form["client_id"], form["redirect_uri"], state, form.get("scope", "")))

    def _token(self, request: Request) -> Response:
        form = request.form()
        try:  # RFC 6749 §2.3.1: form body or HTTP Basic, never both
            client_id, secret, _ = client_authentication(request)
        except TokenError as exc:
            return token_error(400, exc.error, exc.description or INVALID_CLIENT)
        try:
            self.issuer.check_client(client_id, secret or "")
        except TokenError:
            return token_error(401, "invalid_client", INVALID_CLIENT)
        assert client_id is not None
        grant_type = form.get("grant_type")
        try:
            if grant_type == "authorization_code":
                if not form.get("code"):
                    return token_error(400, "invalid_request", "Missing required parameter: code.")
                grant = self.issuer.exchange_code(form["code"], client_id, form.get("redirect_uri", ""))
                rotated = True
            elif grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    return token_error(400, "invalid_request", "Missing required parameter: refresh_token.")
                grant = self.issuer.refresh(form["refresh_token"], client_id)
                rotated = self.issuer.rules.rotate_refresh
            else:
                return token_error(400, "unsupported_grant_type",
                                   "The authorization grant type is not supported by the authorization server.")
        except TokenError:
            return token_error(400, "invalid_grant", INVALID_GRANT)
        body: dict[str, Any] = {"access_token": grant.access_token, "token_type": "bearer"}
        if rotated:
            body["refresh_token"] = grant.refresh_token
        body["scope"] = grant.scope
        body["created_at"] = int(grant.access_issued)
        if self.issuer.rules.access_lifetime is not None:
            body["expires_in"] = self.issuer.rules.access_lifetime
        return Response.json(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ================================================================== administrations (§3)
    def _administrations(self, request: Request) -> Any:
        return [administration_json(admin) for admin in self.admins.values()]

    # ================================================================== contacts (§8)
    def _contact(self, admin: AdminState, ident: str, *, write: bool = False) -> ContactRec:
        index = admin.index_of(KIND_CONTACT, ident)
        rec = None if index is None else (admin.contact_for_write(index) if write else admin.contact(index))
        if rec is None:
            raise _not_found()
        return rec

    def _contacts(self, request: Request, admin: AdminState) -> Response:
        page, per_page = paging(request.arg("page"), request.arg("per_page"))
        query = (request.arg("query") or "").lower()
        archived = (request.arg("include_archived") or "false").lower() == "true"
        matches: list[ContactRec] = []
        for index in admin.live_contact_indexes():
            rec = admin.contact(index)
            if rec is None or (rec.archived and not archived):
                continue
            if query and not all(
                any(word in (v or "").lower() for v in (rec.company_name, rec.firstname, rec.lastname, rec.address1,
                    rec.zipcode, rec.city, rec.country, rec.email, rec.phone, rec.customer_id, rec.tax_number,
                    rec.chamber_of_commerce))
                for word in query.split()
            ):
                continue
            matches.append(rec)
        chunk = matches[(page - 1) * per_page: page * per_page]
        return self._paged([self._vary_contact(contact_json(admin, rec)) for rec in chunk], request, page, per_page,
                           len(matches))

    def _vary_contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        return contact if self.realism is None else vary_contact(self.realism, contact)

    def _paged(self, rows: list[Any], request: Request, page: int, per_page: int, total: int) -> Response:
        link = link_header(request.base_url + request.path, request.query, page, per_page, total)
        return Response.json(rows, headers={"Link": link} if link else {})

    def _contacts_sync_list(self, request: Request, admin: AdminState) -> Any:
        archived = (request.arg("include_archived") or "false").lower() == "true"
        result = []
        for index in admin.live_contact_indexes():
            rec = admin.contact(index)
            if rec is not None and (archived or not rec.archived):
                result.append({"id": rec.id, "version": version_of(rec.updated_at)})
        return result

    def _sync_ids(self, request: Request) -> list[str]:
        try:
            body = json.loads(request.body.decode("utf-8") or "null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or "ids" not in body:
            raise ApiError(400, {"error": "Ids is required", "symbolic": {"ids": "required"}})
        ids = body["ids"]
        if not isinstance(ids, list):
            raise ApiError(400, {"error": "Ids isn't an array", "symbolic": {"ids": "array"}})
        return [str(i) for i in ids][:100]

    def _contacts_sync_fetch(self, request: Request, admin: AdminState) -> Any:
        rows = []
        for ident in self._sync_ids(request):
            index = admin.index_of(KIND_CONTACT, ident)
            rec = None if index is None else admin.contact(index)
            if rec is not None:
                rows.append(self._vary_contact(contact_json(admin, rec)))
        return rows

    def _contact_get(self, request: Request, admin: AdminState, id: str) -> Any:
        return contact_json(admin, self._contact(admin, id))

    def _contact_patch(self, request: Request, admin: AdminState, id: str) -> Any:
        rec = self._contact(admin, id, write=True)
        body = self._json_body(request)
        fields = body.get("contact") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise ApiError(400, {"error": "Contact is required", "symbolic": {"contact": "required"}})
        if "is_trusted" in fields:
            raise ApiError(400, {"error": "An contact can only be trusted during the approval of a payment.",
                                 "symbolic": {"is_trusted": "permission"}})
        self._apply_contact_fields(admin, rec, fields)
        return contact_json(admin, rec)

    def _apply_contact_fields(self, admin: AdminState, rec: ContactRec, fields: dict[str, Any]) -> None:
        custom = fields.get("custom_fields_attributes")
        entries: list[Any] = []
        if isinstance(custom, dict):
            entries = list(custom.values())
        elif isinstance(custom, list):
            entries = custom
        known = {admin.fixed_id(100 + n) for n in (1, 2, 3)}
        updates: dict[str, str] = {}
        for entry in entries:
            field_id = str(entry.get("id", "")) if isinstance(entry, dict) else ""
            if field_id not in known:
                raise ApiError(404, {"error": f"Custom field with id {field_id} not found for administration",
                                     "symbolic": {"custom_fields_attributes": "not_found"}})
            updates[field_id] = str(entry.get("value", ""))
        name = {key: fields[key] for key in ("company_name", "firstname", "lastname") if key in fields}
        after = {"company_name": rec.company_name, "firstname": rec.firstname, "lastname": rec.lastname, **name}
        if not (after["company_name"] or (after["firstname"] or after["lastname"])):
            raise ApiError(422, {"error": {k: ["is required"] for k in ("firstname", "lastname", "company_name")},
                                 "details": {k: [{"error": "is required"}] for k in ("firstname", "lastname",
                                                                                    "company_name")}})
        for key in ("company_name", "firstname", "lastname", "address1", "zipcode", "city", "country", "phone",
                    "tax_number", "chamber_of_commerce", "customer_id", "delivery_method"):
            if key in fields:
                value = fields[key]
                setattr(rec, key, None if value == "" and key not in ("country", "customer_id") else value)
        if "send_invoices_to_email" in fields:
            rec.email = str(fields["send_invoices_to_email"])
        rec.custom_fields.update(updates)
        rec.updated_at = max(self.now(), rec.updated_at + timedelta(seconds=1))

    def _contact_note(self, request: Request, admin: AdminState, id: str) -> Response:
        rec = self._contact(admin, id, write=True)
        note = self._make_note(request, admin, rec.id, "Contact")
        rec.notes.append(note)
        return Response.json(note, status=201)

    # ================================================================== sales invoices (§4, §5)
    def _invoice(self, admin: AdminState, ident: str, *, write: bool = False) -> InvoiceRec:
        index = admin.index_of(KIND_INVOICE, ident)
        rec = None if index is None else (admin.invoice_for_write(index) if write else admin.invoice(index))
        if rec is None:
            raise _not_found()
        return rec

    def _matches(self, rec: InvoiceRec, flt: InvoiceFilter, today: date) -> bool:
        if flt.states is not None and rec.state(today) not in flt.states:
            return False
        if flt.period is not None:
            start, end = flt.period
            day = rec.invoice_date
            if day is None:  # undated drafts match only a period containing today (spec)
                if not start <= today <= end:
                    return False
            elif not start <= day <= end:
                return False
        if flt.references is not None and rec.reference not in flt.references:
            return False
        if flt.contact_id is not None and flt.contact_id != self._contact_id(rec):
            return False
        if flt.workflow_id is not None and flt.workflow_id != self._admin_of(rec).fixed_id(rec.workflow):
            return False
        if flt.created_after is not None and not rec.created_at > flt.created_after:
            return False
        return not (flt.updated_after is not None and not rec.effective_updated_at(today) > flt.updated_after)

    def _admin_of(self, rec: InvoiceRec) -> AdminState:
        for admin in self.admins.values():
            if admin.index_of(KIND_INVOICE, rec.id) is not None:
                return admin
        raise KeyError(rec.id)

    def _contact_id(self, rec: InvoiceRec) -> str:
        return self._admin_of(rec).make_id(KIND_CONTACT, rec.contact_index)

    def _select(self, admin: AdminState, flt: InvoiceFilter) -> list[InvoiceRec]:
        today = self.today()
        result = []
        for index in admin.live_invoice_indexes():
            rec = admin.invoice(index)
            if rec is not None and self._matches(rec, flt, today):
                result.append(rec)
        return result

    def _render_list(self, admin: AdminState, recs: list[InvoiceRec], endpoint: str) -> list[dict[str, Any]]:
        today = self.today()
        bad = bool(recs) and self.faults.take(endpoint, ("malformed",)) is not None
        rows = [invoice_json(admin, rec, today, malformed=bad and n == 0) for n, rec in enumerate(recs)]
        if self.realism is not None:
            rows = [vary_invoice(self.realism, row) for row in rows]
        return rows

    def _invoices(self, request: Request, admin: AdminState) -> Response:
        flt = parse_invoice_filter(request.arg("filter"), self.today(), defaults=True)
        page, per_page = paging(request.arg("page"), request.arg("per_page"))
        recs = self._select(admin, flt)
        chunk = recs[(page - 1) * per_page: page * per_page]
        return self._paged(self._render_list(admin, chunk, "sales_invoices"), request, page, per_page, len(recs))

    def _invoices_sync_list(self, request: Request, admin: AdminState) -> Any:
        today = self.today()
        flt = parse_invoice_filter(request.arg("filter"), today, defaults=False)
        return [{"id": rec.id, "version": version_of(rec.effective_updated_at(today))}
                for rec in self._select(admin, flt)]

    def _invoices_sync_fetch(self, request: Request, admin: AdminState) -> Any:
        recs = []
        for ident in self._sync_ids(request):
            index = admin.index_of(KIND_INVOICE, ident)
            rec = None if index is None else admin.invoice(index)
            if rec is not None:
                recs.append(rec)
        return self._render_list(admin, recs, "sales_invoices/synchronization")

    def _invoice_get(self, request: Request, admin: AdminState, id: str) -> Any:
        return invoice_json(admin, self._invoice(admin, id), self.today())

    def _touch(self, rec: InvoiceRec, action: str, data: dict[str, Any] | None = None) -> None:
        moment = max(self.now(), rec.effective_updated_at(self.today()) + timedelta(seconds=1))
        rec.updated_at = moment
        rec.events.append((action, moment, data or {}))

    def _pause(self, request: Request, admin: AdminState, id: str) -> Response:
        rec = self._invoice(admin, id, write=True)
        if not rec.paused:
            rec.paused = True
            self._touch(rec, "sales_invoice_paused")
        return Response.json(invoice_json(admin, rec, self.today()), status=201)

    def _resume(self, request: Request, admin: AdminState, id: str) -> Response:
        rec = self._invoice(admin, id, write=True)
        if rec.paused:
            rec.paused = False
            self._touch(rec, "sales_invoice_unpaused")
        return Response.json(invoice_json(admin, rec, self.today()), status=201)

    def _markable(self, rec: InvoiceRec, message: str) -> None:
        today = self.today()
        if (rec.state(today) not in ("open", "late", "reminded") or rec.original_sales_invoice_id is not None
                or rec.total < 0 or (rec.invoice_date is not None and rec.invoice_date > today)):
            raise ApiError(400, {"error": message, "symbolic": {"invoice": "not_open"}})

    def _mark_uncollectible(self, request: Request, admin: AdminState, id: str) -> Any:
        rec = self._invoice(admin, id)
        self._markable(rec, "Sales invoice should be open, late or due, not a credit invoice and cannot have a "
                            "invoice date in the future")
        body = self._json_body(request, allow_empty=True)
        day = _iso_date(body.get("uncollectible_date")) if isinstance(body, dict) else None
        rec = self._invoice(admin, id, write=True)
        rec.uncollectible_on = day or self.today()
        self._touch(rec, "sales_invoice_state_changed_to_uncollectible")
        rec.events.append(("sales_invoice_marked_as_uncollectible", rec.updated_at, {}))
        return invoice_json(admin, rec, self.today())

    def _mark_dubious(self, request: Request, admin: AdminState, id: str) -> Any:
        rec = self._invoice(admin, id)
        self._markable(rec, "Invoice should be open, late or due, not a credit invoice and cannot have an invoice "
                            "date in the future")
        body = self._json_body(request, allow_empty=True)
        day = _iso_date(body.get("dubious_date")) if isinstance(body, dict) else None
        rec = self._invoice(admin, id, write=True)
        rec.dubious_on = day or self.today()
        self._touch(rec, "sales_invoice_marked_as_dubious")
        return invoice_json(admin, rec, self.today())

    # ---- payments (§6)
    def _payment_post(self, request: Request, admin: AdminState, id: str) -> Response:
        rec = self._invoice(admin, id)
        body = self._json_body(request)
        fields = body.get("payment") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise ApiError(400, {"error": "Payment is required", "symbolic": {"payment": "required"}})
        day = _iso_date(fields.get("payment_date"))
        price = _decimal(fields.get("price"))
        errors: dict[str, list[str]] = {}
        details: dict[str, list[dict[str, Any]]] = {}
        if day is None:
            errors["payment_date"] = ["can't be blank", "is not a valid date"]
            details["payment_date"] = [{"error": "blank"}, {"error": "is not a valid date"}]
        if price is None:
            errors["price"] = ["can't be blank", "is not a number"]
            details["price"] = [{"error": "blank"}, {"error": "not_a_number", "value": None}]
        price_base = _decimal(fields.get("price_base"))
        if price is not None and price_base is None:
            if rec.currency != admin.spec.currency:
                errors["price_base"] = ["can't be blank"]
                details["price_base"] = [{"error": "blank"}]
            else:
                price_base = price
        if errors:
            raise ApiError(422, {"error": errors, "details": details})
        if rec.draft:  # CL:2017-08-15: only after the invoice has been sent
            raise _invalid("invoice", "must be sent before a payment can be registered", "not_sent")
        assert day is not None and price is not None and price_base is not None
        rec = self._invoice(admin, id, write=True)
        payment = PaymentRec(
            id=admin.new_payment_id(), price=price, price_base=price_base, payment_date=day, created_at=self.now(),
            transaction_identifier=fields.get("transaction_identifier"),
            manual_payment_action=fields.get("manual_payment_action"),
        )
        before = rec.state(self.today())
        rec.payments.append(payment)
        self._touch(rec, "payment_registered")
        if rec.state(self.today()) == "paid" and before != "paid":
            rec.events.append(("sales_invoice_state_changed_to_paid", rec.updated_at, {}))
        return Response.json(payment_json(admin, rec, payment), status=201)

    def _payment_delete(self, request: Request, admin: AdminState, id: str, sub: str) -> Response:
        rec = self._invoice(admin, id, write=True)
        kept = [p for p in rec.payments if p.id != sub]
        if len(kept) == len(rec.payments):
            raise _not_found()
        rec.payments = kept
        self._touch(rec, "payment_destroyed")
        return Response.empty(204)

    def _payment_get(self, request: Request, admin: AdminState, id: str) -> Any:
        hint = payment_index_hint(admin, id)
        candidates = list(admin.invoices) if hint is None else [hint]
        for index in candidates:
            rec = admin.invoice(index)
            for payment in rec.payments if rec is not None else []:
                if payment.id == id:
                    assert rec is not None
                    return payment_json(admin, rec, payment)
        raise _not_found()

    # ---- notes (§7)
    def _make_note(self, request: Request, admin: AdminState, entity_id: str, entity_type: str) -> dict[str, Any]:
        body = self._json_body(request)
        fields = body.get("note") if isinstance(body, dict) else None
        if not isinstance(fields, dict) or not str(fields.get("note") or "").strip():
            raise ApiError(422, {"error": {"note": ["can't be blank"]}, "details": {"note": [{"error": "blank"}]}})
        assignee = fields.get("assignee_id")
        assignee_id = None if assignee in (None, "") else str(assignee)
        if assignee_id is not None and assignee_id not in {u["id"] for u in users_json(admin)}:
            raise _invalid("assignee", "must exist", "blank")
        todo_raw = fields.get("todo")
        todo = assignee_id is not None or todo_raw is True or str(todo_raw).lower() == "true"
        return note_json(admin, admin.new_note_id(), entity_id, entity_type, str(fields["note"]),
                         assignee_id, todo, self.now())

    def _invoice_note(self, request: Request, admin: AdminState, id: str) -> Response:
        self._invoice(admin, id)
        note = self._make_note(request, admin, id, "SalesInvoice")
        rec = self._invoice(admin, id, write=True)
        rec.notes.append(note)
        self._touch(rec, "note_created")
        return Response.json(note, status=201)

    def _invoice_note_delete(self, request: Request, admin: AdminState, id: str, sub: str) -> Response:
        rec = self._invoice(admin, id, write=True)
        kept = [n for n in rec.notes if n["id"] != sub]
        if len(kept) == len(rec.notes):
            raise _not_found()
        rec.notes = kept
        self._touch(rec, "note_destroyed")
        return Response.empty(204)

    # ---- reminders (§7)
    def _send_reminders(self, request: Request, admin: AdminState) -> Any:
        body = self._json_body(request)
        items = body.get("sales_invoice_reminders") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ApiError(400, {"error": "Sales invoice reminders is required",
                                 "symbolic": {"sales_invoice_reminders": "required"}})
        today = self.today()
        plan: list[tuple[InvoiceRec, str, str, str | None]] = []
        for item in items:
            if not isinstance(item, dict):
                raise ApiError(400, {"error": "Sales invoice reminders isn't an array of objects",
                                     "symbolic": {"sales_invoice_reminders": "invalid"}})
            for key in ("contact_id", "workflow_id", "document_style_id", "identity_id", "sales_invoice_ids"):
                if item.get(key) in (None, "", []):
                    label = key.replace("_", " ").capitalize()
                    raise ApiError(400, {"error": f"{label} is required", "symbolic": {key: "required"}})
            method = item.get("delivery_method") or "Email"
            if method not in ("Email", "Manual"):
                raise _invalid("delivery_method", "is not included in the list", "inclusion")
            contact_id = str(item["contact_id"])
            layout = (str(item["workflow_id"]), str(item["document_style_id"]), str(item["identity_id"]))
            for ident in item["sales_invoice_ids"]:
                rec = self._invoice(admin, str(ident))
                # Spec ``sales_invoice_ids``: "Sales invoices of this contact to include in the reminder."
                if self._contact_id(rec) != contact_id:
                    raise _invalid("sales_invoice_ids", "must belong to the contact", "invalid")
                # Spec send_reminders description: "Reminders are grouped by workflow, identity and
                # document style ... Only by grouping reminders like this, we can assure the right content
                # and layout" — so an entry's invoices carry the entry's own three ids (reference §7).
                # Status 422 is one the spec lists for this endpoint; the body is [UNVERIFIED].
                own = (admin.fixed_id(rec.workflow), admin.fixed_id(rec.document_style), admin.fixed_id(rec.identity))
                if own != layout:
                    raise _invalid("sales_invoice_ids", "must have the workflow, document style and identity of "
                                                        "the reminder", "invalid")
                if rec.state(today) not in ("open", "late", "reminded"):
                    raise _invalid("sales_invoice_ids", "contains an invoice that cannot be reminded", "invalid")
                plan.append((rec, method, contact_id, item.get("email_address")))
        for rec, method, contact_id, email in plan:
            rec = self._invoice(admin, rec.id, write=True)
            rec.reminders.append(today)
            action = "sales_invoice_send_reminder_email" if method == "Email" else "sales_invoice_send_reminder_manually"
            self._touch(rec, action, {"email_address": email} if email else {})
            admin.reminder_log.append({"sales_invoice_id": rec.id, "contact_id": contact_id,
                                       "delivery_method": method, "date": today})
        return 200

    # ---- helpers
    def _json_body(self, request: Request, *, allow_empty: bool = False) -> Any:
        raw = request.body.decode("utf-8").strip()
        if not raw:
            if allow_empty:
                return {}
            raise ApiError(400, {"error": "Body is required", "symbolic": {"body": "required"}})
        try:
            return json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise ApiError(400, {"error": "Body is not valid JSON", "symbolic": {"body": "invalid"}}) from None

    def _workflow_get(self, request: Request, admin: AdminState, id: str) -> Any:
        for workflow in workflows_json(admin):
            if workflow["id"] == id:
                return workflow
        raise _not_found()

    # ================================================================== test helpers
    def admin(self, administration_id: str) -> AdminState:
        return self.admins[administration_id]

    def invoice(self, administration_id: str, invoice_id: str) -> dict[str, Any]:
        """The invoice exactly as the API would render it now."""
        admin = self.admin(administration_id)
        with self.state_lock:
            return invoice_json(admin, self._invoice(admin, invoice_id), self.today())

    def contact(self, administration_id: str, contact_id: str) -> dict[str, Any]:
        admin = self.admin(administration_id)
        with self.state_lock:
            return contact_json(admin, self._contact(admin, contact_id))

    def invoice_ids(self, administration_id: str, *, states: Iterable[str] | None = None) -> list[str]:
        admin = self.admin(administration_id)
        wanted = None if states is None else frozenset(states)
        with self.state_lock:
            return [rec.id for rec in self._select(admin, InvoiceFilter(states=wanted))]

    def open_invoices(self, administration_id: str) -> list[str]:
        """Ids of the invoices in state open, late, reminded or pending_payment (truth for tests)."""
        return self.invoice_ids(administration_id, states=_UNPAID)

    def notes(self, administration_id: str, invoice_id: str) -> list[dict[str, Any]]:
        admin = self.admin(administration_id)
        with self.state_lock:
            return list(self._invoice(admin, invoice_id).notes)

    def reminders_sent(self, administration_id: str) -> list[dict[str, Any]]:
        """Every reminder ``send_reminders`` recorded: sales_invoice_id, contact_id, delivery_method, date."""
        return list(self.admin(administration_id).reminder_log)

    def pay(self, administration_id: str, invoice_id: str, amount: Decimal | str, day: date | None = None) -> str:
        """A payment arrives (as if booked in Moneybird); returns the payment id."""
        admin = self.admin(administration_id)
        with self.state_lock:
            rec = self._invoice(admin, invoice_id, write=True)
            price = Decimal(str(amount)).quantize(CENT)
            payment = PaymentRec(id=admin.new_payment_id(), price=price,
                                 price_base=(price * rec.rate).quantize(CENT), payment_date=day or self.today(),
                                 created_at=self.now())
            rec.payments.append(payment)
            self._touch(rec, "payment_registered")
            return payment.id

    def add_invoice(
        self,
        administration_id: str,
        *,
        contact_id: str | None = None,
        amount: Decimal | str = Decimal("121.00"),
        invoice_date: date | None = None,
        due_date: date | None = None,
        currency: str | None = None,
        reference: str = "Nieuwe factuur",
        workflow_id: str | None = None,
        document_style_id: str | None = None,
        identity_id: str | None = None,
    ) -> str:
        """A new sent (open) invoice; ``amount`` is the total incl. 21% VAT. Returns its id.

        ``workflow_id``/``document_style_id``/``identity_id`` default to the administration's defaults
        and must be one of the ids ``GET /workflows``, ``/document_styles``, ``/identities[/default]`` list.
        """
        admin = self.admin(administration_id)

        def fixed(ident: str | None, options: tuple[int, ...]) -> int:
            number = options[0] if ident is None else admin.index_of(KIND_FIXED, ident)
            if number not in options:
                raise KeyError(ident)
            assert number is not None
            return number

        workflow = fixed(workflow_id, WORKFLOWS)
        style = fixed(document_style_id, DOCUMENT_STYLES)
        identity = fixed(identity_id, IDENTITIES)
        with self.state_lock:
            total = Decimal(str(amount)).quantize(CENT)
            excl = (total / Decimal("1.21")).quantize(CENT)
            day = invoice_date or self.today()
            contact_index = 0 if contact_id is None else admin.index_of(KIND_CONTACT, contact_id)
            if contact_index is None or admin.contact(contact_index) is None:
                raise KeyError(contact_id)
            moment = max(self.now(), at(day, 9))
            rec = InvoiceRec(
                index=0, id="", contact_index=contact_index, invoice_number=None, invoice_date=day,
                due_date=due_date or day + timedelta(days=14), currency=currency or admin.spec.currency,
                excl=excl, tax=total - excl, reference=reference, created_at=moment, updated_at=moment,
                events=[("sales_invoice_created", moment, {}), ("sales_invoice_state_changed_to_open", moment, {})],
                workflow=workflow, document_style=style, identity=identity,
            )
            admin.add_invoice(rec)
            rec.invoice_number = f"{day.year}-{rec.index + 1:05d}"
            return rec.id

    def update_contact(self, administration_id: str, contact_id: str, **fields: Any) -> None:
        """Change a contact as a user in Moneybird would (bumps its version)."""
        admin = self.admin(administration_id)
        with self.state_lock:
            self._apply_contact_fields(admin, self._contact(admin, contact_id, write=True), fields)

    def delete_invoice(self, administration_id: str, invoice_id: str) -> None:
        """Delete an invoice: reads and synchronization stop listing it."""
        admin = self.admin(administration_id)
        with self.state_lock:
            rec = self._invoice(admin, invoice_id)
            admin.deleted_invoices.add(rec.index)
            admin.invoices.pop(rec.index, None)


def payment_index_hint(admin: AdminState, payment_id: str) -> int | None:
    """Generated payment ids encode their invoice (index * 4 + n); later ones do not."""
    index = admin.index_of(KIND_PAYMENT, payment_id)
    if index is None or index >= 4 * 10**10:
        return None
    return index // 4


def build_moneybird(seed: int = 42, size: str = "small", *, realistic: bool | Realism = False) -> MoneybirdSandbox:
    if size == "small":
        return MoneybirdSandbox.small(seed, realistic=realistic)
    count = {"medium": 10_000, "large": 100_000}.get(size)
    if count is None:
        count = int(size)
    return MoneybirdSandbox(seed=seed, realistic=realistic, administrations=(
        AdministrationSpec(id="123456789012345678", name="Parkietje B.V.", contacts=max(40, count // 4),
                           invoices=count),))


def serve_moneybird(
    port: int,
    seed: int = 42,
    size: str = "small",
    client_id: str = "arconnect-demo",
    client_secret: str = "demo-secret",
    redirect_uri: str = "http://127.0.0.1:8765/callback",
    *,
    realistic: bool | Realism = False,
) -> RunningServer:
    """Serve a Moneybird sandbox on 127.0.0.1:``port`` (0 picks a free port) with one registered app."""
    app = build_moneybird(seed, size, realistic=realistic)
    app.register_client(client_id, client_secret, redirect_uri)
    return serve(app, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = sandbox_parser("moneybird-sandbox", "Moneybird", port=8767,
                            size_help="small, medium, large or a number of sales invoices")
    args = parser.parse_args(argv)
    server = serve_moneybird(args.port, args.seed, args.size, args.client_id, args.client_secret, args.redirect_uri)
    serve_until_interrupted(server, "Moneybird", args.client_id)


if __name__ == "__main__":
    main()
