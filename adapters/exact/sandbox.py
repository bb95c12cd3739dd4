"""Exact Online simulator: the REST API (verbose OData v2 JSON) and OAuth2, per docs/reference/exact.md.

Run it in-process with ``connector.sandbox.transport(ExactSandbox.small())`` or on loopback with
:func:`serve_exact` / ``python -m adapters.exact.sandbox --port 8766``.

Decisions where the reference leaves a choice (each also noted where it is implemented):

* §1.4 early refresh (before 9.5 minutes): **401** ``{"error":"invalid_request","error_description":
  "Access Token not expired"}`` (the reason text is ossobv's quote of the docs; the error code is ours).
* §1.3 the client secret is taken from the form body (Exact's docs) or from HTTP Basic, which RFC 6749
  §2.3.1 requires a token endpoint to accept and one public SDK sends (CPSDK); both at once is 400
  ``invalid_request`` (RFC 6749 §5.2), a wrong Basic secret 401 ``invalid_client``.
  Only ``response_type=code`` is simulated (no implicit grant).
* §1.4 a wrong client id or secret: 400 ``{"error":"invalid_request"}`` with no description (PQ#553).
  More than 200 token calls per client and user per UTC day: **429** ``{"error":"invalid_request",
  "error_description":"Maximum number of token requests per day exceeded."}`` [UNVERIFIED shape].
* §2.1 ``Accept``: ``application/json`` (or ``$format=json``) gives JSON; ``application/xml`` alone is
  refused with **406**; anything else (no header, ``*/*``, Atom) gets **Atom XML**, the OData default.
  Error bodies are always JSON.
* §2.8 401 without/with an invalid or expired bearer token: OData error body, no rate-limit headers.
* §1.2/§2.8 a division the user did not tick (or that does not exist): **403** with header
  ``Reason: NoDivisionAccess``. The other documented reasons (``BlockedUser``, ``InactiveUser``,
  ``BlockedCustomer``, ``LicenseExpired``, ``DivisionBlocked``; PQ PR#451) are switched on with
  :meth:`ExactSandbox.refuse`: every REST call (of one division, or of all) then answers **403** with that
  ``Reason`` header and an OData error body until :meth:`ExactSandbox.allow` [UNVERIFIED message texts].
* §2.8 error budget: see :mod:`adapters.exact.sandbox_limits` (403 while blocked).
* §8 ``Retry-After`` on a 429 (issue 16 point 6): the reference marks it [UNVERIFIED] ("one project's code
  reads it, with no evidence that Exact sends it") and documents the ``X-RateLimit-(Minutely-)Reset``
  headers instead. The sandbox takes that reading: a 429 carries the reset headers of the spent window
  (epoch ms) and **no** ``Retry-After``. arconnect's client waits for the reset either way and would also
  honour a ``Retry-After`` if Exact ever sent one (:func:`connector.http._retry_after`).
* §2.4 ``$select`` is required (``$top=1`` also passes, as the error text says) on bulk and sync
  endpoints and on ``cashflow/Receivables``: otherwise 400 ``Please add a $select or a $top=1 statement
  to the query string.``. An unknown field in ``$select`` or ``$filter`` is a 400; ``$select=*`` counts
  as no ``$select``.
* §6 PUT on ``crm/Accounts``: a partial body; read-only fields (e.g. ``IsSales``, ``Modified``) are
  **ignored**, unknown fields and wrong types are a 400 [UNVERIFIED]. 204 with an empty body.
* §7 POST on Tasks, CommunicationNotes, Documents, DocumentAttachments: 201 ``{"d":{…}}`` with the new
  ``ID`` and every property (with or without ``Prefer: return=representation``), plus ``Location``.
  A reference to an account or document that does not exist in the division is a 400 (the sandbox
  does not simulate the reported silent drop to null).
* Paging (§2.3): sync feeds are ordered by ``Timestamp`` and their ``__next`` carries
  ``$skiptoken=<last Timestamp>L``; regular and bulk lists are in the sandbox's natural order and carry
  ``$skiptoken=guid'<last ID>'`` (``<HID>L`` for ReceivablesList). ``__next`` is present only when at
  least one more row follows. ``__count`` (``$inlinecount=allpages``) is a string, as in OData v2.
* §3.1 ReceivablesList: 60 rows a page [UNVERIFIED]; ``Amount`` is the open amount of the term in its own
  currency (``CurrencyCode``), positive for an invoice and negative for a credit note or receipt
  [UNVERIFIED sign]; ``AmountInTransit`` equals ``Amount`` for terms in collection (Status 30/40).
* §3.2 signs: see :mod:`adapters.exact.sandbox_data`.
* Not simulated: ``$orderby``, ``$expand``, ``$count`` paths, webhooks, scopes, SyncTimestamp.

Fault endpoint names (for ``sandbox.faults``) are the route names: ``"oauth2/token"``, ``"current/Me"``,
``"system/Divisions"``, ``"system/AllDivisions"``, ``"hrm/Divisions"``, ``"crm/Accounts"``, ``"crm/Accounts(key)"``, ``"sync/CRM/Accounts"``,
``"sync/Cashflow/PaymentTerms"``, ``"sync/Deleted"``, ``"read/financial/ReceivablesList"``,
``"bulk/Cashflow/Receivables"``, ``"cashflow/Receivables"``, ``"activities/CommunicationNotes"``,
``"activities/Tasks"``, ``"documents/Documents"``, ``"documents/DocumentAttachments"``,
``"users/UserHasRights"``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

from adapters.exact.sandbox_data import DivisionSpec, DivisionState, Row, Table
from adapters.exact.sandbox_limits import ErrorBudget, RateLimiter
from adapters.exact.sandbox_odata import (
    ODataError,
    atom,
    check_filter,
    error_response,
    int_bounds,
    json_response,
    parse_filter,
    parse_select,
    predicate,
    render,
)
from adapters.exact.sandbox_realism import EXPIRED_CHALLENGE, Realism, maintenance, realism_of, token_expires, vary_row
from adapters.exact.sandbox_schema import (
    ACCOUNTS,
    ALL_DIVISIONS,
    ATTACHMENTS,
    BULK_RECEIVABLES,
    DELETED,
    DIVISIONS,
    DOCUMENTS,
    GUID,
    HRM_DIVISIONS,
    ME,
    NOTES,
    RECEIVABLES,
    RECEIVABLES_LIST,
    SYNC_ACCOUNTS,
    SYNC_TERMS,
    TASK_WRITE_ONLY,
    TASKS,
    Entity,
)
from connector.sandbox import (
    HTTP_REASONS,
    Fault,
    Request,
    Response,
    RunningServer,
    SandboxApp,
    SandboxClock,
    TokenError,
    TokenIssuer,
    TokenRules,
    client_authentication,
    consent_page,
    redirect_with,
    sandbox_parser,
    serve,
    serve_until_interrupted,
)

__all__ = ["DivisionSpec", "ExactSandbox", "Realism", "UserSpec", "main", "serve_exact"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SELECT_REQUIRED = "Please add a $select or a $top=1 statement to the query string."
#: §1.4 token rules.
EXACT_TOKEN_RULES = TokenRules(
    access_lifetime=600, refresh_single_use=True, refresh_lifetime=30 * 24 * 3600, min_refresh_age=570,
    code_lifetime=180, rotate_refresh=True,
)
PAGE_REGULAR, PAGE_BULK = 60, 1000  # §2.3
#: §2.8: the documented values of the ``Reason`` header on a 403 (PQ PR#451 quoting Exact's docs), with the
#: message the sandbox sends alongside [UNVERIFIED texts].
REFUSAL_REASONS: dict[str, str] = {
    "BlockedUser": "Forbidden: the user is blocked.",
    "InactiveUser": "Forbidden: the user is inactive.",
    "BlockedCustomer": "Forbidden: the customer (licence holder) is blocked.",
    "LicenseExpired": "Forbidden: the licence has expired.",
    "DivisionBlocked": "Forbidden: the division is blocked.",
    "NoDivisionAccess": "Forbidden: no access to this division.",
}
_DIV = r"/api/v1/(?P<division>\d+)/"
_KEY = r"\(guid'(?P<key>[^']*)'\)"
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class UserSpec:
    """A user of the simulated Exact environment."""

    user_id: str
    full_name: str
    email: str
    user_name: str
    divisions: tuple[int, ...] | None = None  # None: every division of the sandbox (user card)
    can_write: bool = True
    language: str = "NL"


DEFAULT_USERS = (
    UserSpec("5d6a4f1e-2b7c-4e8a-9a41-0c3b6d2e7f10", "Demo Boekhouder", "boekhouder@example.nl", "demo"),
)


def _exact_time(moment: datetime) -> str:
    """§1.4 WS#23 style: ``10/11/2022 9:18:20 PM``."""
    hour = moment.hour % 12 or 12
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment:%M:%S} {'AM' if moment.hour < 12 else 'PM'}"


class ExactTokenIssuer(TokenIssuer):
    """TokenIssuer plus the look-ups the Exact sandbox needs (which grant, which user)."""

    def grant_client_and_user(self, access_token: str | None) -> tuple[str, str, str] | None:
        """(client id, user, scope) of a valid access token, else None."""
        if self.user_for(access_token) is None or access_token is None:
            return None
        grant = self._by_access.get(access_token)
        return None if grant is None else (grant.client_id, grant.user, grant.scope)

    def user_of_code(self, code: str) -> str | None:
        entry = self._codes.get(code)
        return None if entry is None else entry.user

    def user_of_refresh(self, refresh_token: str) -> str | None:
        grant = self._by_refresh.get(refresh_token)
        return None if grant is None else grant.user

    def refresh(self, refresh_token: str, client_id: str) -> Any:
        issued = self._by_refresh.get(refresh_token)
        try:
            return super().refresh(refresh_token, client_id)
        except TokenError as exc:
            if exc.description and exc.description.startswith("The refresh token expired") and issued is not None:
                lifetime = self.rules.refresh_lifetime or 0
                expired = datetime.fromtimestamp(issued.refresh_issued + lifetime, UTC)
                exc.description = (
                    f"The refresh token expired at {_exact_time(expired)} and it is now {_exact_time(self.clock.now())}."
                )
            raise


@dataclass
class _Ctx:
    client_id: str
    user: UserSpec
    granted: tuple[int, ...]
    division: int | None


def _oauth_error(status: int, error: str, description: str | None = None) -> Response:
    body: dict[str, str] = {"error": error}
    if description:
        body["error_description"] = description
    return Response.json(body, status=status, headers={"Cache-Control": "no-store"})


def _error_page(message: str) -> Response:
    page = f"<!doctype html><html><head><title>Exact Online</title></head><body><h1>Error</h1><p>{message}</p></body></html>"
    return Response.text(page, status=400, content_type="text/html")


class ExactSandbox(SandboxApp):
    """The simulated Exact Online host (one country host; every path of docs/reference/exact.md)."""

    def __init__(
        self,
        *,
        seed: int = 42,
        divisions: tuple[DivisionSpec, ...] = (DivisionSpec(code=101, description="Demo B.V."),),
        clock: SandboxClock | None = None,
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        users: tuple[UserSpec, ...] = DEFAULT_USERS,
        today: date | None = None,
        token_daily_limit: int = 200,
        realistic: bool | Realism = False,
    ) -> None:
        super().__init__(clock=clock)
        self.seed = seed
        #: Issue 16 point 5: vary answers the way production does (see :mod:`adapters.exact.sandbox_realism`).
        self.realism = realism_of(realistic)
        self._gets = 0
        self.issuer = ExactTokenIssuer(EXACT_TOKEN_RULES, self.clock)
        self.limiter = RateLimiter(minutely_limit=minutely_limit, daily_limit=daily_limit)
        self.budget = ErrorBudget()
        self.token_daily_limit = token_daily_limit
        self.token_calls: Counter[tuple[str, str, date]] = Counter()
        self.users = {u.user_id: u for u in users}
        self._first_user = users[0]
        anchor = today or self.clock.now().astimezone(AMSTERDAM).date()
        people = [(u.user_id, u.full_name) for u in users]
        self.divisions: dict[int, DivisionState] = {
            spec.code: DivisionState(spec, seed, anchor, people) for spec in divisions
        }
        self._ctx: _Ctx | None = None
        self._skip_budget = False
        #: Rows each list endpoint returned (the benchmark checks that an incremental sync reads only changes).
        self.rows_served: Counter[str] = Counter()
        #: §2.8 refusals switched on by :meth:`refuse`: division (None: every call) → Reason.
        self.refusals: dict[int | None, str] = {}
        self._register_routes()

    def reset_counts(self) -> None:
        super().reset_counts()
        self.rows_served.clear()

    @classmethod
    def small(cls, seed: int = 42, *, clock: SandboxClock | None = None, **kwargs: Any) -> ExactSandbox:
        """Two divisions (NL and BE) of 40 accounts and 150 payment terms each."""
        return cls(
            seed=seed,
            divisions=(
                DivisionSpec(code=101, description="Demo Groothandel B.V.", accounts=40, terms=150, country="NL"),
                DivisionSpec(code=202, description="Demo Services BV", accounts=40, terms=150, country="BE"),
            ),
            clock=clock,
            **kwargs,
        )

    # ================================================================== routes
    def _register_routes(self) -> None:
        def r(method: str, pattern: str, handler: Callable[..., Response], name: str) -> None:
            self.add_route(method, pattern, self._safe(handler), name)

        r("GET", "/api/oauth2/auth", self._auth_page, "oauth2/auth")
        r("POST", "/api/oauth2/auth", self._auth_consent, "oauth2/auth")
        r("POST", "/api/oauth2/token", self._token, "oauth2/token")
        r("GET", "/api/v1/current/Me", self._me, "current/Me")
        r("GET", _DIV + "system/Divisions", self._divisions, "system/Divisions")
        r("GET", _DIV + "hrm/Divisions", self._hrm_divisions, "hrm/Divisions")
        r("GET", _DIV + "system/AllDivisions", self._all_divisions, "system/AllDivisions")
        r("GET", _DIV + "crm/Accounts", self._accounts, "crm/Accounts")
        r("GET", _DIV + "crm/Accounts" + _KEY, self._account_get, "crm/Accounts(key)")
        r("PUT", _DIV + "crm/Accounts" + _KEY, self._account_put, "crm/Accounts(key)")
        r("DELETE", _DIV + "crm/Accounts" + _KEY, self._account_delete, "crm/Accounts(key)")
        r("GET", _DIV + "sync/CRM/Accounts", self._sync_accounts, "sync/CRM/Accounts")
        r("GET", _DIV + "sync/Cashflow/PaymentTerms", self._sync_terms, "sync/Cashflow/PaymentTerms")
        r("GET", _DIV + "sync/Deleted", self._sync_deleted, "sync/Deleted")
        r("GET", _DIV + "read/financial/ReceivablesList", self._receivables_list, "read/financial/ReceivablesList")
        r("GET", _DIV + "bulk/Cashflow/Receivables", self._bulk_receivables, "bulk/Cashflow/Receivables")
        r("GET", _DIV + "cashflow/Receivables", self._receivables, "cashflow/Receivables")
        r("GET", _DIV + "cashflow/Receivables" + _KEY, self._receivable_get, "cashflow/Receivables(key)")
        r("PUT", _DIV + "cashflow/Receivables" + _KEY, self._receivable_put, "cashflow/Receivables(key)")
        for path, entity, table in (
            ("activities/CommunicationNotes", NOTES, "notes"),
            ("activities/Tasks", TASKS, "tasks"),
            ("documents/Documents", DOCUMENTS, "documents"),
            ("documents/DocumentAttachments", ATTACHMENTS, "attachments"),
        ):
            r("GET", _DIV + path, self._write_once_list(path, entity, table), path)
            r("POST", _DIV + path, self._write_once_post(path, entity, table), path)
            r("GET", _DIV + path + _KEY, self._write_once_get(path, entity, table), path + "(key)")
        r("GET", _DIV + "users/UserHasRights", self._user_has_rights, "users/UserHasRights")

    # ================================================================== hooks
    def not_found(self, request: Request) -> Response:
        return error_response(404, "Resource not found.")

    def method_not_allowed(self, request: Request) -> Response:
        return error_response(405, f"The HTTP method '{request.method}' is not allowed for this resource.")

    def fault_response(self, request: Request, endpoint: str, fault: Fault) -> Response:
        """Injected faults in Exact's shapes: 429 with minutely headers only, 500 OData, 502–504 HTML."""
        headers = dict(fault.headers)
        if fault.body is not None:
            return json_response(fault.body, status=fault.status, headers=headers)
        if fault.status == 429:
            ctx = self._lookup(request)
            if ctx is not None and ctx.division is not None:
                limit = self.limiter.headers(ctx.client_id, ctx.division, self.clock.now(), only="minutely")
                limit["X-RateLimit-Minutely-Remaining"] = "0"
                headers = {**limit, **headers}
            return error_response(429, "API rate limit exceeded.", headers)
        if fault.status >= 502:
            reason = HTTP_REASONS.get(fault.status, "Error")
            page = f"<html><head><title>{fault.status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
            response = Response.text(page, status=fault.status, content_type="text/html")
            response.headers.update(headers)
            return response
        return error_response(fault.status, "An error has occurred.", headers)

    def _lookup(self, request: Request) -> _Ctx | None:
        found = self.issuer.grant_client_and_user(request.bearer_token())
        if found is None:
            return None
        client_id, user_id, scope = found
        user = self.users.get(user_id, self._first_user)
        granted = tuple(int(d) for d in scope.split(",") if d)
        match = re.match(r"^/api/v1/(\d+)/", request.path)
        division = int(match.group(1)) if match else self._current_division(user, granted)
        return _Ctx(client_id, user, granted, division)

    def _reachable(self, user: UserSpec, granted: tuple[int, ...]) -> list[int]:
        """Divisions the user may reach (user card) and ticked on the consent screen (§1.5)."""
        return [
            code for code in self.divisions
            if code in granted and (user.divisions is None or code in user.divisions)
        ]

    def _current_division(self, user: UserSpec, granted: tuple[int, ...]) -> int | None:
        reachable = self._reachable(user, granted)
        return reachable[0] if reachable else None

    def before(self, request: Request, endpoint: str) -> Response | None:
        self._ctx = None
        self._skip_budget = False
        if endpoint.startswith(("oauth2/", "_sandbox/")):
            return None  # OAuth has its own rules; _sandbox/ is the benchmark's control API, not Exact's
        if self.realism is not None and request.method == "GET":
            self._gets += 1
            answer = maintenance(self.realism, self._gets)
            if answer is not None:
                return answer
            if token_expires(self.realism, self._gets) and self.issuer.expire(request.bearer_token()):
                return error_response(401, "The access token has expired.", {"WWW-Authenticate": EXPIRED_CHALLENGE})
        ctx = self._lookup(request)
        if ctx is None:
            # §2.8: 401 for a missing, invalid or expired token.
            return error_response(401, "The access token is missing, invalid or has expired.",
                                  {"WWW-Authenticate": 'Bearer realm="Exact Online"'})
        accept = (request.header("accept") or "").lower()
        if "application/xml" in accept and "json" not in accept and "atom" not in accept and "*/*" not in accept:
            return error_response(406, "The requested format 'application/xml' is not supported; use application/json.")
        self._ctx = ctx
        if ctx.division is None or ctx.division not in self._reachable(ctx.user, ctx.granted):
            return error_response(403, REFUSAL_REASONS["NoDivisionAccess"], {"Reason": "NoDivisionAccess"})
        refusal = self.refusals.get(None) or self.refusals.get(ctx.division)
        if refusal is not None:
            return error_response(403, REFUSAL_REASONS[refusal], {"Reason": refusal})
        now = self.clock.now()
        until = self.budget.blocked_until(self._budget_key(ctx, endpoint), now)
        if until is not None:
            self._skip_budget = True
            return error_response(
                403,
                f"Too many errors on this endpoint: access is blocked until {until:%Y-%m-%dT%H:%M:%SZ}.",
            )
        exhausted = self.limiter.try_call(ctx.client_id, ctx.division, now)
        if exhausted is not None:
            # §8: the spent window's reset headers and no Retry-After (see the module docstring).
            return error_response(
                429, "API rate limit exceeded.", self.limiter.headers(ctx.client_id, ctx.division, now, only=exhausted)
            )
        return None

    def _budget_key(self, ctx: _Ctx, endpoint: str) -> tuple[str, str, int, str]:
        return (ctx.client_id, ctx.user.user_id, ctx.division or 0, endpoint)

    def after(self, request: Request, endpoint: str, response: Response) -> Response:
        with self.state_lock:
            skip = self._skip_budget
            self._skip_budget = False
            if endpoint.startswith(("oauth2/", "_sandbox/")):
                return response
            ctx = self._ctx if self._ctx is not None else self._lookup(request)
            self._ctx = None
            if ctx is None or ctx.division is None or ctx.division not in self._reachable(ctx.user, ctx.granted):
                if ctx is not None and 400 <= response.status < 500 and response.status != 429:
                    self.budget.record_error(self._budget_key(ctx, endpoint), self.clock.now())
                return response
            now = self.clock.now()
            if response.status != 429:
                for key, value in self.limiter.headers(ctx.client_id, ctx.division, now).items():
                    response.headers.setdefault(key, value)
            if 400 <= response.status < 500 and response.status != 429 and not skip:
                self.budget.record_error(self._budget_key(ctx, endpoint), now)
            return response

    @staticmethod
    def _safe(handler: Callable[..., Response]) -> Callable[..., Response]:
        """An :class:`ODataError` raised by a handler becomes its error response (then ``after`` runs)."""

        def wrapped(request: Request, **kwargs: str) -> Response:
            try:
                return handler(request, **kwargs)
            except ODataError as exc:
                return error_response(exc.status, exc.message, exc.headers)

        return wrapped

    # ================================================================== OAuth (§1)
    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        """Test helper: an app registered in the App Center."""
        self.issuer.register_client(client_id, secret, redirect_uri)

    def _check_authorize(self, client_id: str | None, redirect_uri: str | None, response_type: str | None) -> None:
        known = self.issuer.clients.get(client_id or "")
        if known is None:
            raise ValueError("Unknown client_id.")
        if redirect_uri != known[1]:
            raise ValueError("The redirect_uri does not match the one registered for this app.")
        if response_type != "code":
            raise ValueError("Unsupported response_type (the sandbox only simulates 'code').")

    def approve(
        self, client_id: str, redirect_uri: str, state: str, divisions: list[int] | tuple[int, ...],
        user: str | None = None,
    ) -> str:
        """Test helper: what a person's click on the consent screen does; returns the redirect URL."""
        self._check_authorize(client_id, redirect_uri, "code")
        person = self.users.get(user or "") or next((u for u in self.users.values() if u.user_name == user),
                                                     self._first_user)
        chosen = [d for d in divisions if d in self.divisions and (person.divisions is None or d in person.divisions)]
        if not chosen:
            return redirect_with(redirect_uri, {"error": "access_denied", "state": state})
        code = self.issuer.issue_code(client_id, redirect_uri, user=person.user_id,
                                      scope=",".join(str(d) for d in chosen))
        return redirect_with(redirect_uri, {"code": code, "state": state})

    def _auth_page(self, request: Request) -> Response:
        """§1.2 GET /api/oauth2/auth: a consent page where the user ticks divisions."""
        client_id, redirect_uri = request.arg("client_id"), request.arg("redirect_uri")
        try:
            self._check_authorize(client_id, redirect_uri, request.arg("response_type"))
        except ValueError as exc:
            return _error_page(str(exc))
        user = self._first_user
        choices = [
            (str(code), f"{code} {state.spec.description}") for code, state in self.divisions.items()
            if user.divisions is None or code in user.divisions
        ]
        hidden = {
            "client_id": client_id or "", "redirect_uri": redirect_uri or "", "response_type": "code",
            "state": request.arg("state", "") or "", "user": user.user_id,
        }
        return Response.text(consent_page("Exact Online: toegang verlenen", "/api/oauth2/auth", hidden, choices),
                             content_type="text/html")

    def _auth_consent(self, request: Request) -> Response:
        form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)

        def one(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        try:
            self._check_authorize(one("client_id"), one("redirect_uri"), one("response_type") or "code")
        except ValueError as exc:
            return _error_page(str(exc))
        divisions = [int(d) for d in form.get("division", []) if d.isdigit()]
        return Response.redirect(
            self.approve(one("client_id") or "", one("redirect_uri") or "", one("state") or "", divisions, one("user"))
        )

    def _token(self, request: Request) -> Response:
        """§1.3/§1.4 POST /api/oauth2/token: the secret in the form body (Exact's docs) or as HTTP Basic
        (RFC 6749 §2.3.1 requires a token endpoint to accept it; issue 16 point 6), never both."""
        form = request.form()
        try:
            client_id, secret, method = client_authentication(request)
        except TokenError as exc:
            return _oauth_error(exc.status, exc.error, exc.description)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            user = self.issuer.user_of_code(form.get("code") or "")
        else:
            user = self.issuer.user_of_refresh(form.get("refresh_token") or "")
        day = self.clock.now().astimezone(UTC).date()
        key = (client_id, user or "?", day)
        self.token_calls[key] += 1
        if self.token_calls[key] > self.token_daily_limit:
            return _oauth_error(429, "invalid_request", "Maximum number of token requests per day exceeded.")
        try:
            self.issuer.check_client(client_id, secret or "")
        except TokenError:
            if method == "basic":
                # RFC 6749 §5.2: a client that authenticated with the Authorization header gets 401
                # invalid_client with a WWW-Authenticate challenge.
                response = _oauth_error(401, "invalid_client")
                response.headers["WWW-Authenticate"] = 'Basic realm="Exact Online"'
                return response
            return _oauth_error(400, "invalid_request")  # PQ#553: no description
        try:
            if grant_type == "authorization_code":
                grant = self.issuer.exchange_code(form.get("code") or "", client_id, form.get("redirect_uri") or "")
            elif grant_type == "refresh_token":
                grant = self.issuer.refresh(form.get("refresh_token") or "", client_id)
            else:
                return _oauth_error(400, "unsupported_grant_type")
        except TokenError as exc:
            return _oauth_error(exc.status, exc.error, exc.description)
        return Response.json(
            {"access_token": grant.access_token, "token_type": "bearer", "expires_in": "600",
             "refresh_token": grant.refresh_token},
            headers={"Cache-Control": "no-store"},
        )

    # ================================================================== helpers for REST handlers
    @property
    def ctx(self) -> _Ctx:
        assert self._ctx is not None
        return self._ctx

    def division(self, code: int | str) -> DivisionState:
        state = self.divisions.get(int(code))
        if state is None:
            raise KeyError(f"no division {code}")
        return state

    def _ok(self, request: Request, d: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        accept = (request.header("accept") or "").lower()
        if "application/json" in accept or (request.arg("$format") or "").lower() == "json":
            return json_response({"d": d}, status=status, headers=headers)
        body = atom(d).encode("utf-8")
        return Response(status=status, body=body,
                        headers={"Content-Type": "application/atom+xml;type=feed;charset=utf-8", **(headers or {})})

    def _base(self, request: Request, division: int | str) -> str:
        return f"{request.base_url}/api/v1/{division}/"

    def _fields(self, request: Request, entity: Entity, *, required: bool, hidden: frozenset[str] = frozenset()) -> list[str]:
        visible = [n for n in entity.names if n not in hidden]
        raw = request.arg("$select")
        selected = parse_select(raw, visible, entity.type_name)
        if selected is None:
            if required and request.arg("$top") != "1":
                raise ODataError(400, SELECT_REQUIRED)
            return visible
        return selected

    def _top(self, request: Request) -> int | None:
        raw = request.arg("$top")
        if raw is None:
            return None
        if not raw.isdigit():
            raise ODataError(400, f"Invalid $top value '{raw}'.")
        return int(raw)

    def _next_url(self, request: Request, skiptoken: str, top: int | None) -> str:
        parts: list[str] = []
        for key, values in request.query.items():
            if key in ("$skiptoken", "$skip", "$top"):
                continue
            for value in values:
                parts.append(f"{quote(key, safe='$')}={quote(value, safe=chr(36) + chr(39) + '(),:*')}")
        if top is not None:
            parts.append(f"$top={top}")
        parts.append(f"$skiptoken={quote(skiptoken, safe=chr(39) + '-')}")
        return f"{request.base_url}{quote(request.path, safe='/()' + chr(39))}?{'&'.join(parts)}"

    def _malform(self, endpoint: str, rows: list[Row]) -> None:
        """Fault ``malformed``: one row of the page gets a non-numeric AmountDC or loses its ID."""
        if not rows or self.faults.take(endpoint, ("malformed",)) is None:
            return
        row = rows[len(rows) // 2]
        if "AmountDC" in row:
            row["AmountDC"] = "1.234,56"
        elif "ID" in row:
            del row["ID"]
        else:
            first = next(k for k in row if k != "__metadata")
            row[first] = "#garbled#"

    def _page(
        self, request: Request, endpoint: str, rows: Iterator[Row], *, size: int, fields: list[str],
        entity: Entity, uri: Callable[[Row], str], token: Callable[[Row], str], count: Callable[[], int] | None,
    ) -> Response:
        top = self._top(request)
        limit = size if top is None else min(size, top)
        page: list[Row] = []
        more = False
        for row in rows:
            if len(page) >= limit:
                more = True
                break
            page.append(row)
        d: dict[str, Any] = {"results": [render(row, fields, uri(row), entity.type_name) for row in page]}
        if self.realism is not None:
            selected = request.arg("$select") is not None
            d["results"] = [vary_row(self.realism, r, entity.type_name, n, selected) for n, r in enumerate(d["results"])]
        self.rows_served[endpoint] += len(page)
        self._malform(endpoint, d["results"])
        if (request.arg("$inlinecount") or "") == "allpages" and count is not None:
            d["__count"] = str(count())
        if more and page and (top is None or top > len(page)):
            d["__next"] = self._next_url(request, token(page[-1]), None if top is None else top - len(page))
        return self._ok(request, d)

    def _filter(self, request: Request, entity: Entity, known: list[str]) -> Any:
        expr = parse_filter(request.arg("$filter"))
        check_filter(expr, known, None if entity.filterable is None else set(entity.filterable), entity.type_name)
        return expr

    def _sync(self, request: Request, division: str, endpoint: str, table: Table, entity: Entity,
              keep: Callable[[Row], bool] = lambda row: True) -> Response:
        """§4 sync feeds: $select mandatory, only Timestamp filters, 1000 rows a page in Timestamp order."""
        fields = self._fields(request, entity, required=True)
        expr = self._filter(request, entity, entity.names)
        test = predicate(expr, entity.guid_fields)
        after, before = int_bounds(expr, "Timestamp")
        token = request.arg("$skiptoken")
        if token is not None:
            match = re.fullmatch(r"(\d+)L?", token.strip())
            if not match:
                raise ODataError(400, f"Invalid $skiptoken '{token}'.")
            after = max(after or 0, int(match.group(1)))

        def rows(lo: int | None) -> Iterator[Row]:
            return (r for r in table.by_timestamp(lo, before) if keep(r) and test(r))

        base = self._base(request, division) + endpoint
        return self._page(
            request, endpoint, rows(after), size=PAGE_BULK, fields=fields, entity=entity,
            uri=lambda r: f"{base}({r['Timestamp']}L)", token=lambda r: f"{r['Timestamp']}L",
            count=lambda: sum(1 for _ in rows(int_bounds(expr, "Timestamp")[0])),
        )

    def _natural(self, request: Request, division: str, endpoint: str, table: Table, entity: Entity, *,
                 size: int, required: bool, keep: Callable[[Row], bool] = lambda row: True,
                 transform: Callable[[Row], Row] | None = None, hidden: frozenset[str] = frozenset()) -> Response:
        """Regular and bulk lists: natural order, ``$skiptoken=guid'<last ID>'``."""
        fields = self._fields(request, entity, required=required, hidden=hidden)
        expr = self._filter(request, entity, [n for n in entity.names if n not in hidden])
        test = predicate(expr, entity.guid_fields)
        start = 0
        token = request.arg("$skiptoken")
        key_field = entity.key
        if token is not None:
            start = self._skip_position(table, token, entity) + 1
        skip = request.arg("$skip")
        if skip is not None and not skip.isdigit():
            raise ODataError(400, f"Invalid $skip value '{skip}'.")

        def rows(first: int, skip_n: int) -> Iterator[Row]:
            for _, raw in table.natural(first):
                if not keep(raw):
                    continue
                row = transform(raw) if transform else raw
                if test(row):
                    if skip_n > 0:
                        skip_n -= 1
                        continue
                    yield row

        base = self._base(request, division) + endpoint
        if key_field == "HID":
            def uri(r: Row) -> str:
                return f"{base}({r['HID']}L)"

            def tok(r: Row) -> str:
                return f"{r['HID']}L"
        else:
            def uri(r: Row) -> str:
                return f"{base}(guid'{r['ID']}')"

            def tok(r: Row) -> str:
                return f"guid'{r['ID']}'"

        return self._page(
            request, endpoint, rows(start, int(skip or 0)), size=size, fields=fields, entity=entity, uri=uri,
            token=tok, count=lambda: sum(1 for _ in rows(0, 0)),
        )

    def _skip_position(self, table: Table, token: str, entity: Entity) -> int:
        token = token.strip()
        if entity.key == "HID":
            match = re.fullmatch(r"(\d+)L?", token)
            if match:
                return int(match.group(1)) - 1
        else:
            match = re.fullmatch(r"guid'([^']*)'", token)
            if match:
                pos = table.position(match.group(1))
                if pos is not None:
                    return pos
        raise ODataError(400, f"Invalid $skiptoken '{token}'.")

    def _single(self, request: Request, division: str, endpoint: str, entity: Entity, row: Row | None,
                hidden: frozenset[str] = frozenset()) -> Response:
        if row is None:
            raise ODataError(404, "Object not found.")
        fields = self._fields(request, entity, required=False, hidden=hidden)
        uri = f"{self._base(request, division)}{endpoint}(guid'{row['ID']}')"
        return self._ok(request, render(row, fields, uri, entity.type_name))

    def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError as exc:
            raise ODataError(400, "The request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            raise ODataError(400, "The request body must be a JSON object.")
        return body

    def _writable_values(self, entity: Entity, body: dict[str, Any]) -> dict[str, Any]:
        """Check a PUT/POST body against the entity: unknown → 400, read-only → ignored, types checked."""
        out: dict[str, Any] = {}
        for name, value in body.items():
            if name == "__metadata":
                continue
            if name not in entity.fields:
                raise ODataError(400, f"Could not find a property named '{name}' on type '{entity.type_name}'.")
            if name not in entity.writable:
                continue  # read-only properties are ignored [UNVERIFIED]
            out[name] = _coerce(name, entity.fields[name], value)
        return out

    def _require_write(self) -> None:
        if not self.ctx.user.can_write:
            raise ODataError(403, "Forbidden: the user has no rights to change this data.")

    # ================================================================== REST handlers (§1.5, §3, §4, §6, §7)
    def _me(self, request: Request) -> Response:
        ctx = self.ctx
        user = ctx.user
        now = self.clock.now().astimezone(AMSTERDAM)
        current = ctx.division
        state = self.divisions[current] if current is not None else None
        row: Row = {
            "UserID": user.user_id, "CurrentDivision": current, "AccountingDivision": current,
            "DossierDivision": None, "DivisionCustomer": state.gen.guid("customer") if state else None,
            "DivisionCustomerCode": pad_code_str(current), "DivisionCustomerName": state.spec.description if state else None,
            "DivisionCustomerVatNumber": None, "Email": user.email, "FullName": user.full_name,
            "UserName": user.user_name, "Language": user.language, "LanguageCode": f"{user.language.lower()}-{user.language}",
            "Legislation": 1, "ServerTime": now.strftime("%Y-%m-%dT%H:%M:%S"),
            "ServerUtcOffset": Decimal(int((now.utcoffset() or timedelta(0)).total_seconds())),
            "IsClientUser": False, "IsStarterUser": False, "IsMyFirmPortalUser": False,
        }
        fields = self._fields(request, ME, required=False)
        uri = f"{request.base_url}/api/v1/current/Me(guid'{user.user_id}')"
        return self._ok(request, {"results": [render(row, fields, uri, ME.type_name)]})

    def _divisions(self, request: Request, division: str, endpoint: str = "system/Divisions",
                   entity: Entity = DIVISIONS, *, whole_licence: bool = False) -> Response:
        """§1.5 the division lists, in ``Code`` order, 60 a page, ``$skiptoken=<last Code>`` (issue 15: the
        token was ignored, so the first page came back forever with the same ``__next``).

        ``system/Divisions`` and ``hrm/Divisions``: the divisions the user may reach (user card); the
        sandbox is one licence, so the two lists hold the same rows. ``system/AllDivisions``: every
        division of the licence, whatever the user card says. All three only list divisions ticked on
        the consent screen (§1.5 "whatever the list says")."""
        ctx = self.ctx
        current = self._current_division(ctx.user, ctx.granted)
        codes = sorted(c for c in self.divisions if c in ctx.granted) if whole_licence else sorted(
            self._reachable(ctx.user, ctx.granted))
        after = -1
        token = request.arg("$skiptoken")
        if token is not None:
            match = re.fullmatch(r"(\d+)", token.strip())
            if not match:
                raise ODataError(400, f"Invalid $skiptoken '{token}'.")
            after = int(match.group(1))
        id_field = "HID" if entity is HRM_DIVISIONS else "Hid"  # §1.5: hrm/Divisions spells it HID

        def row(code: int) -> Row:
            state = self.divisions[code]
            spec = state.spec
            return {
                "Code": code, "Description": spec.description, "Current": code == current,
                id_field: spec.hid if spec.hid is not None else code, "Status": 1, "IsMainDivision": code == current,
                "IsDossierDivision": False, "Country": f"{spec.country:<3}", "Currency": spec.currency,
                "DivisionMoveDate": state.move_date, "DivisionHRLinkUnlinkDate": state.hr_link_date,
                "Customer": state.gen.guid("customer"), "CustomerCode": pad_code_str(code),
                "CustomerName": spec.description, "VATNumber": None,
                "Created": datetime(2015, 1, 1, tzinfo=UTC), "Modified": state.move_date or datetime(2015, 1, 1, tzinfo=UTC),
            }

        fields = self._fields(request, entity, required=False)
        expr = self._filter(request, entity, entity.names)
        test = predicate(expr, entity.guid_fields)
        base = self._base(request, division) + endpoint
        return self._page(request, endpoint, (r for r in map(row, codes) if r["Code"] > after and test(r)),
                          size=PAGE_REGULAR, fields=fields, entity=entity, uri=lambda r: f"{base}({r['Code']})",
                          token=lambda r: str(r["Code"]), count=lambda: sum(1 for r in map(row, codes) if test(r)))

    def _hrm_divisions(self, request: Request, division: str) -> Response:
        """§1.5 ``hrm/Divisions``: one licence (the sandbox has one) and the divisions the user may reach and
        ticked; the same rows as ``system/Divisions`` in the narrower ``HRM_DIVISIONS`` shape."""
        return self._divisions(request, division, "hrm/Divisions", HRM_DIVISIONS)

    def _all_divisions(self, request: Request, division: str) -> Response:
        """§1.5 ``system/AllDivisions``: "all divisions of one licence", in the ``system/Divisions`` shape."""
        return self._divisions(request, division, "system/AllDivisions", ALL_DIVISIONS, whole_licence=True)

    def _accounts(self, request: Request, division: str) -> Response:
        state = self.division(division)
        return self._natural(request, division, "crm/Accounts", state.accounts, ACCOUNTS, size=PAGE_REGULAR,
                             required=False)

    def _account_get(self, request: Request, division: str, key: str) -> Response:
        return self._single(request, division, "crm/Accounts", ACCOUNTS, self.division(division).account(key))

    def _account_put(self, request: Request, division: str, key: str) -> Response:
        self._require_write()
        state = self.division(division)
        if state.account(key) is None:
            raise ODataError(404, "Object not found.")
        values = self._writable_values(ACCOUNTS, self._body(request))
        if "Name" in values and not (values["Name"] or "").strip():
            raise ODataError(400, "Name: mandatory field.")
        state.update_account(key, values, self.clock.now())
        return Response.empty(204)

    def _account_delete(self, request: Request, division: str, key: str) -> Response:
        self._require_write()
        try:
            self.division(division).delete_account(key, self.clock.now())
        except KeyError as exc:
            raise ODataError(404, "Object not found.") from exc
        return Response.empty(204)

    def _sync_accounts(self, request: Request, division: str) -> Response:
        state = self.division(division)
        return self._sync(request, division, "sync/CRM/Accounts", state.accounts, SYNC_ACCOUNTS)

    def _sync_terms(self, request: Request, division: str) -> Response:
        state = self.division(division)
        return self._sync(request, division, "sync/Cashflow/PaymentTerms", state.terms, SYNC_TERMS)

    def _sync_deleted(self, request: Request, division: str) -> Response:
        state = self.division(division)
        return self._sync(request, division, "sync/Deleted", state.deleted, DELETED)

    def _receivables(self, request: Request, division: str) -> Response:
        state = self.division(division)
        return self._natural(request, division, "cashflow/Receivables", state.terms, RECEIVABLES,
                             size=PAGE_REGULAR, required=True, keep=_is_receivable)

    def _bulk_receivables(self, request: Request, division: str) -> Response:
        state = self.division(division)
        return self._natural(request, division, "bulk/Cashflow/Receivables", state.terms, BULK_RECEIVABLES,
                             size=PAGE_BULK, required=True, keep=_is_receivable)

    def _receivable_get(self, request: Request, division: str, key: str) -> Response:
        row = self.division(division).terms.get(key)
        return self._single(request, division, "cashflow/Receivables", RECEIVABLES,
                            row if row is not None and _is_receivable(row) else None)

    def _receivable_put(self, request: Request, division: str, key: str) -> Response:
        self._require_write()
        state = self.division(division)
        row = state.terms.get(key)
        if row is None or not _is_receivable(row):
            raise ODataError(404, "Object not found.")
        values = self._writable_values(RECEIVABLES, self._body(request))
        changed = {**row, **values}
        state.touch(state.terms, changed, self.clock.now(), (self.ctx.user.user_id, self.ctx.user.full_name))
        return Response.empty(204)

    def _receivables_list(self, request: Request, division: str) -> Response:
        state = self.division(division)
        table = state.terms

        def as_list_row(term: Row) -> Row:
            amount = -term["AmountFC"] if isinstance(term["AmountFC"], Decimal) else term["AmountFC"]
            position = table.position(str(term["ID"]))
            return {
                "HID": (position or 0) + 1, "AccountId": term["Account"], "AccountCode": term["AccountCode"],
                "AccountName": term["AccountName"], "Amount": amount,
                "AmountInTransit": amount if term["Status"] in (30, 40) else Decimal("0.00"),
                "CurrencyCode": term["Currency"], "Description": term["Description"], "DueDate": term["DueDate"],
                "EntryNumber": term["EntryNumber"], "Id": term["ID"], "InvoiceDate": term["InvoiceDate"],
                "InvoiceNumber": term["InvoiceNumber"], "JournalCode": term["Journal"],
                "JournalDescription": term["JournalDescription"], "YourRef": term["YourRef"],
            }

        return self._natural(request, division, "read/financial/ReceivablesList", table, RECEIVABLES_LIST,
                             size=PAGE_REGULAR, required=False, keep=_is_open_receivable, transform=as_list_row)

    def _user_has_rights(self, request: Request, division: str) -> Response:
        endpoint, action = request.arg("endpoint"), request.arg("action")
        if not endpoint or not action:
            raise ODataError(400, "Parameters 'endpoint' and 'action' are mandatory.")
        action_name = action.strip("'").upper()
        has = action_name == "GET" or self.ctx.user.can_write
        return self._ok(request, {"UserHasRights": has})

    # ---- §7 write-once entities
    def _write_once_list(self, path: str, entity: Entity, table_name: str) -> Callable[..., Response]:
        hidden = TASK_WRITE_ONLY if entity is TASKS else frozenset()

        def handler(request: Request, division: str) -> Response:
            table: Table = getattr(self.division(division), table_name)
            return self._natural(request, division, path, table, entity, size=PAGE_REGULAR, required=False,
                                 hidden=hidden)

        return handler

    def _write_once_get(self, path: str, entity: Entity, table_name: str) -> Callable[..., Response]:
        hidden = TASK_WRITE_ONLY if entity is TASKS else frozenset()

        def handler(request: Request, division: str, key: str) -> Response:
            table: Table = getattr(self.division(division), table_name)
            return self._single(request, division, path, entity, table.get(key), hidden)

        return handler

    def _write_once_post(self, path: str, entity: Entity, table_name: str) -> Callable[..., Response]:
        hidden = TASK_WRITE_ONLY if entity is TASKS else frozenset()

        def handler(request: Request, division: str) -> Response:
            self._require_write()
            state = self.division(division)
            values = self._writable_values(entity, self._body(request))
            row = self._new_row(state, entity, values)
            state.touch(getattr(state, table_name), row, self.clock.now(),
                        (self.ctx.user.user_id, self.ctx.user.full_name))
            uri = f"{self._base(request, division)}{path}(guid'{row['ID']}')"
            fields = [n for n in entity.names if n not in hidden]
            return self._ok(request, render(row, fields, uri, entity.type_name), status=201,
                            headers={"Location": uri})

        return handler

    def _new_row(self, state: DivisionState, entity: Entity, values: dict[str, Any]) -> Row:
        now = self.clock.now()
        user = self.ctx.user
        row: Row = {name: None for name in entity.names}
        row.update(values)
        row["ID"] = state.new_guid()
        if "Division" in row:
            row.update(Division=state.code, Created=now, Creator=user.user_id, CreatorFullName=user.full_name)
        account_id = values.get("Account")
        if account_id is not None:
            account = state.account(account_id)
            if account is None:
                raise ODataError(400, f"Account: the value '{account_id}' does not exist in this division.")
            row["AccountName"] = account.get("Name")
        document_id = values.get("Document")
        if document_id is not None and state.documents.get(document_id) is None:
            raise ODataError(400, f"Document: the value '{document_id}' does not exist in this division.")
        if entity is NOTES:
            _mandatory(values, "Subject")
            row["Date"] = values.get("Date") or now
            row["User"] = values.get("User") or user.user_id
        elif entity is TASKS:
            _mandatory(values, "Description")
            row["Status"] = 20  # §7: Status is read-only; a new task is open
            row["User"] = values.get("User") or user.user_id
            row["ActionDate"] = values.get("ActionDate") or now
        elif entity is DOCUMENTS:
            _mandatory(values, "Subject")
            _mandatory(values, "Type")
            row["HasEmptyBody"] = not values.get("Body")
            row["DocumentDate"] = values.get("DocumentDate") or now
        elif entity is ATTACHMENTS:
            for name in ("Document", "FileName", "Attachment"):
                _mandatory(values, name)
            try:
                content = base64.b64decode(str(values["Attachment"]), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ODataError(400, "Attachment: not valid base64.") from exc
            row["FileSize"] = Decimal(len(content))
            row["Url"] = f"/docs/SysAttachment.aspx?ID={row['ID']}"
        if "UserFullName" in row and row.get("User"):
            person = self.users.get(str(row["User"]))
            row["UserFullName"] = person.full_name if person else None
        return row

    # ================================================================== test helpers (state as time passes)
    def _today(self) -> date:
        return self.clock.now().astimezone(AMSTERDAM).date()

    def pay(self, division: int, entry_or_term_id: str, amount: Decimal | int | str) -> str | None:
        """A customer pays ``amount`` (term currency) on a term; returns the new remainder term's ID, if split."""
        with self.state_lock:
            return self.division(division).pay(entry_or_term_id, Decimal(str(amount)), self.clock.now(), self._today())

    def add_invoice(self, division: int, account_id: str, amount: Decimal | int | str, invoice_date: date,
                    due_date: date, currency: str = "EUR") -> str:
        """Book a sales invoice (a credit note when ``amount`` is negative); returns its term ID."""
        with self.state_lock:
            return self.division(division).add_invoice(account_id, Decimal(str(amount)), invoice_date, due_date,
                                                       currency, self.clock.now())

    def update_account(self, division: int, account_id: str, **fields: Any) -> None:
        with self.state_lock:
            self.division(division).update_account(account_id, fields, self.clock.now())

    def delete_term(self, division: int, term_id: str) -> None:
        with self.state_lock:
            self.division(division).delete_term(term_id, self.clock.now())

    def delete_account(self, division: int, account_id: str) -> None:
        with self.state_lock:
            self.division(division).delete_account(account_id, self.clock.now())

    def refuse(self, reason: str, *, division: int | None = None) -> None:
        """§2.8: from now on answer every REST call (of ``division``, or all) with 403 and ``Reason: reason``."""
        if reason not in REFUSAL_REASONS:
            raise ValueError(f"reason must be one of {', '.join(REFUSAL_REASONS)}")
        with self.state_lock:
            self.refusals[division] = reason

    def allow(self, *, division: int | None = None) -> None:
        """Lift a refusal set by :meth:`refuse`."""
        with self.state_lock:
            self.refusals.pop(division, None)

    def move_division(self, division: int) -> None:
        """§4: the division moved to another database: Timestamps restart, DivisionMoveDate is set."""
        with self.state_lock:
            self.division(division).move(self.clock.now())

    def link_hr_division(self, division: int) -> None:
        """§4: the division was linked to (or unlinked from) an HR division: ``DivisionHRLinkUnlinkDate`` is set
        and, like a move, the Timestamps restart (see :meth:`DivisionState.move`)."""
        with self.state_lock:
            self.division(division).move(self.clock.now(), hr_link=True)

    # ---- the truth, for tests (materialises the division: small divisions only)
    def open_terms(self, division: int) -> list[Row]:
        """Receivable terms (LineType 20) that are not fully paid."""
        return [dict(r) for r in self.division(division).terms.all() if _is_open_receivable(r)]

    def terms(self, division: int) -> list[Row]:
        return [dict(r) for r in self.division(division).terms.all()]

    def accounts(self, division: int) -> list[Row]:
        return [dict(r) for r in self.division(division).accounts.all()]

    def notes(self, division: int) -> list[Row]:
        return [dict(r) for r in self.division(division).notes.all()]

    def tasks(self, division: int) -> list[Row]:
        return [dict(r) for r in self.division(division).tasks.all()]

    def documents(self, division: int) -> list[Row]:
        return [dict(r) for r in self.division(division).documents.all()]

    def attachments(self, division: int) -> list[Row]:
        return [dict(r) for r in self.division(division).attachments.all()]


# ---------------------------------------------------------------------- small pure helpers


def pad_code_str(value: Any) -> str | None:
    return None if value is None else f"{value!s:>18}"


def _is_receivable(row: Row) -> bool:
    return row.get("LineType") == 20


def _is_open_receivable(row: Row) -> bool:
    return row.get("LineType") == 20 and not row.get("IsFullyPaid") and row.get("Status") != 50


def _mandatory(values: dict[str, Any], name: str) -> None:
    value = values.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ODataError(400, f"{name}: mandatory field.")


_DATE_RE = re.compile(r"^/Date\((-?\d+)\)/$")


def _coerce(name: str, edm: str, value: Any) -> Any:
    """A JSON value of a PUT/POST body as the sandbox stores it; a wrong type is a 400."""
    if value is None:
        return None
    bad = ODataError(400, f"Error converting the value of property '{name}' to type '{edm}'.")
    if edm == "Edm.Boolean":
        if not isinstance(value, bool):
            raise bad
        return value
    if edm == "Edm.Double":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise bad
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
        except ArithmeticError as exc:
            raise bad from exc
        if not number.is_finite():
            raise bad
        return number
    if edm in ("Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if edm == GUID:
        if not isinstance(value, str) or not _GUID_RE.match(value):
            raise bad
        return value.lower()
    if edm == "Edm.DateTime":
        if not isinstance(value, str):
            raise bad
        match = _DATE_RE.match(value)
        if match:  # §2.6: Amsterdam wall-clock time written as if UTC
            wall = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).replace(tzinfo=None)
            return wall.replace(tzinfo=AMSTERDAM)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise bad from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=AMSTERDAM)
    if not isinstance(value, str):
        raise bad
    return value


# ---------------------------------------------------------------------- serving

SIZES: dict[str, tuple[DivisionSpec, ...]] = {
    "small": (
        DivisionSpec(code=101, description="Demo Groothandel B.V.", accounts=40, terms=150, country="NL"),
        DivisionSpec(code=202, description="Demo Services BV", accounts=40, terms=150, country="BE"),
    ),
    "medium": (
        DivisionSpec(code=101, description="Demo Groothandel B.V.", accounts=2_000, terms=50_000, country="NL"),
        DivisionSpec(code=202, description="Demo Services BV", accounts=1_000, terms=20_000, country="BE"),
    ),
    "large": (
        DivisionSpec(code=101, description="Demo Groothandel B.V.", accounts=20_000, terms=1_000_000, country="NL"),
    ),
}


def build_exact(
    seed: int = 42, size: str = "small", clock: SandboxClock | None = None, *, minutely_limit: int = 60,
    daily_limit: int = 5000, realistic: bool | Realism = False,
) -> ExactSandbox:
    """A sandbox of a named size, or of ``size`` payment terms in one division (benchmarks).

    The limits default to Exact's real ones (§8); tests that are not about limits may raise them."""
    if size.isdigit():
        terms = int(size)
        divisions: tuple[DivisionSpec, ...] = (
            DivisionSpec(code=101, description="Bench Groothandel B.V.", accounts=max(10, terms // 25), terms=terms),
        )
    elif size in SIZES:
        divisions = SIZES[size]
    else:
        raise ValueError(f"size must be one of {', '.join(SIZES)} or a number of payment terms")
    app = ExactSandbox(seed=seed, divisions=divisions, clock=clock, minutely_limit=minutely_limit,
                       daily_limit=daily_limit, realistic=realistic)
    from adapters.exact.sandbox_admin import install

    install(app)
    return app


def serve_exact(
    port: int,
    seed: int = 42,
    size: str = "small",
    client_id: str = "arconnect-demo",
    client_secret: str = "demo-secret",
    redirect_uri: str = "http://127.0.0.1:8765/callback",
    *,
    minutely_limit: int = 60,
    daily_limit: int = 5000,
    realistic: bool | Realism = False,
) -> RunningServer:
    """Serve an Exact sandbox on 127.0.0.1:``port`` (0 picks a free port) with one registered app."""
    app = build_exact(seed, size, minutely_limit=minutely_limit, daily_limit=daily_limit, realistic=realistic)
    app.register_client(client_id, client_secret, redirect_uri)
    return serve(app, port=port)


def main(argv: list[str] | None = None) -> None:
    parser = sandbox_parser("exact-sandbox", "Exact Online", port=8766,
                            size_help="small, medium, large or a number of payment terms")
    parser.add_argument("--minutely", type=int, default=60, help="calls per minute per division (Exact: 60)")
    parser.add_argument("--daily", type=int, default=5000, help="calls per UTC day per division (Exact: 5,000)")
    args = parser.parse_args(argv)
    server = serve_exact(args.port, args.seed, args.size, args.client_id, args.client_secret, args.redirect_uri,
                         minutely_limit=args.minutely, daily_limit=args.daily)
    serve_until_interrupted(server, "Exact Online", args.client_id)


if __name__ == "__main__":
    main()
