"""How one package does OAuth2: :class:`OAuthProfile`, declared by each adapter (``client.py``).

The profile holds only documented facts (cite ``reference/<package>.md`` where you fill one in);
the mechanism in :mod:`connector.auth.oauth2` and :mod:`connector.auth.linking` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from connector.config import CredentialConfig
from connector.errors import ConfigError


@dataclass(frozen=True)
class OAuthProfile:
    """One package's OAuth2 authorization-code flow and token rules."""

    #: Path on the credential's host (Exact: ``/api/oauth2/auth``) or an absolute URL when the
    #: identity provider lives elsewhere (Twinfield: ``https://login.twinfield.com/…/authorize``).
    authorize_path: str
    #: Same rule for the token endpoint (code exchange and refresh).
    token_path: str
    #: Send PKCE (S256) on the authorize request and the verifier with the code.
    pkce: bool = False
    #: Where the client secret goes on token requests: the form body (Exact, Moneybird) or HTTP Basic
    #: (Twinfield, Adsolut).
    secret_in: Literal["body", "basic"] = "body"
    #: Extra query parameters on the authorize URL (Exact: ``force_login``).
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    #: Add a random ``nonce`` to the authorize URL (Twinfield requires one, twinfield.md §1.2).
    nonce: bool = False
    #: How the credential's scopes are joined (space: ``+`` once URL-encoded).
    scope_separator: str = " "
    #: Never refresh an access token younger than this unless the API answered 401
    #: (Exact: 570 s, "not before 9 minutes 30 seconds", exact.md §1.4).
    min_refresh_age_seconds: int = 0
    #: Refresh when fewer than this many seconds of the access token remain (Exact: 30).
    refresh_margin_seconds: int = 30
    #: Access lifetime when the token response has no ``expires_in``; None: it does not expire,
    #: refresh on a 401 only (Moneybird, moneybird.md §2).
    default_access_lifetime_seconds: int | None = None
    #: Accept ``expires_in`` sent as a digit string (Exact sends "600", exact.md §1.3).
    expires_in_may_be_string: bool = True
    #: A refresh response may omit ``refresh_token``: keep the one we have (moneybird.md §2).
    keep_refresh_token_if_omitted: bool = True
    #: How long an unused refresh token lives, for "re-link soon" warnings (Exact: 30 days).
    refresh_token_lifetime_seconds: int | None = None


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def endpoint_url(credential: CredentialConfig, path: str) -> str:
    """An absolute endpoint URL: ``path`` as is when absolute, else joined to the credential's host."""
    url = path if "://" in path else credential.host.rstrip("/") + "/" + path.lstrip("/")
    check_transport(url)
    return url


def check_transport(url: str) -> None:
    """Tokens travel over https only; plain http is allowed for loopback and ``.test`` sandboxes."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and (host in _LOOPBACK_HOSTS or host.endswith(".test")):
        return
    raise ConfigError(f"refusing to send OAuth traffic to {parts.scheme}://{host}: use https")
