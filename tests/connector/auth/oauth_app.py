"""A tiny OAuth2 provider for the auth tests, built on connector.sandbox's TokenIssuer.

Two shapes, from the references: ``exact`` (docs/reference/exact.md §1.3-§1.4: 600 s access tokens,
``expires_in`` as a string, lowercase ``bearer``, single-use rotating refresh tokens valid 30
days, no refresh before 570 s) and ``moneybird`` (moneybird.md §2: no ``expires_in``, access
tokens that do not expire, a refresh answer without a new refresh token). It accepts the client
secret in the body or as HTTP Basic, checks PKCE when a challenge was sent, and has one protected
resource, ``GET /api/me``.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from connector.auth import OAuthProfile
from connector.sandbox import (
    Request,
    Response,
    SandboxApp,
    SandboxClock,
    TokenError,
    TokenIssuer,
    TokenRules,
    consent_page,
    redirect_with,
)

Style = Literal["exact", "moneybird"]

CLIENT_ID = "auth-test-client"
CLIENT_SECRET = "client-secret-Zq81-never-log-me"

EXACT_RULES = TokenRules(access_lifetime=600, refresh_single_use=True, refresh_lifetime=30 * 24 * 3600,
                         min_refresh_age=570)
MONEYBIRD_RULES = TokenRules(access_lifetime=None, refresh_single_use=False, rotate_refresh=False)

EXACT_PROFILE = OAuthProfile(
    authorize_path="/oauth/authorize",
    token_path="/oauth/token",
    pkce=False,
    secret_in="body",
    extra_authorize_params={"force_login": "0"},
    min_refresh_age_seconds=570,
    refresh_margin_seconds=30,
    default_access_lifetime_seconds=600,
    refresh_token_lifetime_seconds=30 * 24 * 3600,
)
MONEYBIRD_PROFILE = OAuthProfile(
    authorize_path="/oauth/authorize",
    token_path="/oauth/token",
    pkce=False,
    secret_in="body",
    scope_separator=" ",
    default_access_lifetime_seconds=None,
    keep_refresh_token_if_omitted=True,
)
#: Moneybird's shape, but with PKCE and the secret as HTTP Basic (as Twinfield and Adsolut want).
BASIC_PKCE_PROFILE = replace(MONEYBIRD_PROFILE, pkce=True, secret_in="basic")


class OAuthApp:
    """The provider: ``app`` is served in-process or on 127.0.0.1 by the tests."""

    def __init__(self, style: Style, clock: SandboxClock, redirect_uri: str) -> None:
        self.style = style
        self.app = SandboxApp(clock=clock)
        self.issuer = TokenIssuer(EXACT_RULES if style == "exact" else MONEYBIRD_RULES, clock)
        self.issuer.register_client(CLIENT_ID, CLIENT_SECRET, redirect_uri)
        self._lock = threading.Lock()
        self.refreshes = 0
        self.client_auth_seen: list[str] = []
        #: every code and token this provider handed out (the log test looks for them)
        self.issued: list[str] = []
        #: called with the bearer token of each API call before it is checked
        self.on_api: Callable[[str], None] | None = None
        self.app.add_route("GET", "/oauth/authorize", self._consent, "authorize")
        self.app.add_route("POST", "/oauth/authorize", self._approve, "authorize")
        self.app.add_route("POST", "/oauth/token", self._token, "token")
        self.app.add_route("GET", "/api/me", self._me, "me")

    # ---- consent
    def _consent(self, request: Request) -> Response:
        hidden = {name: request.arg(name) or "" for name in
                  ("client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method")}
        return Response.text(consent_page("Test provider", "/oauth/authorize", hidden), content_type="text/html")

    def _approve(self, request: Request) -> Response:
        form = request.form()
        try:
            self.issuer.check_client(form.get("client_id"), redirect_uri=form.get("redirect_uri"))
        except TokenError as exc:
            return Response.text(exc.description or exc.error, status=400)
        code = self.issuer.issue_code(form["client_id"], form["redirect_uri"], user="user-1",
                                      scope=form.get("scope", ""), code_challenge=form.get("code_challenge") or None)
        self.issued.append(code)
        return Response.redirect(redirect_with(form["redirect_uri"], {"code": code, "state": form.get("state", "")}))

    # ---- token endpoint
    def _client(self, request: Request, form: dict[str, str]) -> tuple[str, str | None]:
        header = request.header("authorization") or ""
        if header.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            self.client_auth_seen.append("basic")
            return client_id, secret
        self.client_auth_seen.append("body")
        return form.get("client_id", ""), form.get("client_secret")

    def _token(self, request: Request) -> Response:
        form = request.form()
        client_id, secret = self._client(request, form)
        try:
            self.issuer.check_client(client_id, secret or "")
            if form.get("grant_type") == "authorization_code":
                grant = self.issuer.exchange_code(form.get("code", ""), client_id, form.get("redirect_uri", ""),
                                                  form.get("code_verifier"))
            elif form.get("grant_type") == "refresh_token":
                with self._lock:
                    self.refreshes += 1
                grant = self.issuer.refresh(form.get("refresh_token", ""), client_id)
            else:
                return Response.json({"error": "unsupported_grant_type"}, status=400)
        except TokenError as exc:
            body = {"error": exc.error}
            if exc.description:
                body["error_description"] = exc.description
            return Response.json(body, status=exc.status)
        self.issued += [grant.access_token, grant.refresh_token]
        if self.style == "exact":
            payload: dict[str, object] = {"access_token": grant.access_token, "token_type": "bearer",
                                          "expires_in": "600", "refresh_token": grant.refresh_token}
        else:
            payload = {"access_token": grant.access_token, "token_type": "bearer", "scope": grant.scope,
                       "created_at": int(self.app.clock.timestamp())}
            if form.get("grant_type") == "authorization_code":
                payload["refresh_token"] = grant.refresh_token
        return Response.json(payload, headers={"Cache-Control": "no-store"})

    # ---- the protected resource
    def _me(self, request: Request) -> Response:
        token = request.bearer_token() or ""
        if self.on_api is not None:
            self.on_api(token)
        user = self.issuer.user_for(token)
        if user is None:
            return Response.json({"error": "invalid_token"}, status=401)
        return Response.json({"user": user})
