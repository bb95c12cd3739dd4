"""What the core needs to know of each package, declared by its adapter folder.

``adapters/<package>/__init__.py`` exposes a :class:`PackageSpec`; :func:`package_spec` finds it
by name. The core never imports an adapter's internals.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from connector.auth import OAuthProfile
from connector.config import ConnectionConfig, CredentialConfig
from connector.errors import ConfigError
from connector.http import ApiClient, PackageHttp
from connector.model import Administration
from connector.ports import Adapter, Capability, StateReader

KNOWN_PACKAGES = ("exact", "moneybird", "twinfield", "adsolut")


@dataclass(frozen=True)
class PackageSpec:
    name: str
    title: str
    oauth: OAuthProfile
    http: PackageHttp
    #: region → host, e.g. {"nl": "https://start.exactonline.nl"}
    hosts: dict[str, str]
    #: (credential, administration or None) → the key the package counts its rate limit under
    limiter_key: Callable[[CredentialConfig, str | None], str]
    #: administrations the grant reaches (used when linking)
    administrations: Callable[[ApiClient], list[Administration]]
    make_adapter: Callable[[ApiClient, ConnectionConfig, StateReader], Adapter]
    #: OAuth scopes asked for when linking (Moneybird: sales_invoices + settings; empty: the default)
    scopes: tuple[str, ...] = ()
    #: what ``arconnect plan`` must tell the bookkeeper about this package for a connection
    #: (Exact: its own reminders cannot be switched off; Moneybird: no block field)
    plan_warnings: Callable[[ConnectionConfig], list[str]] = lambda _connection: []
    #: what the package's API lets arconnect do (the adapter's own ``capabilities``), for planning
    capabilities: frozenset[Capability] = frozenset()
    #: called for every administration a link connects, before it is saved (Adsolut: activate the
    #: integration on the dossier); the adapter's ``on_remove`` undoes it when the connection goes
    on_link: Callable[[ApiClient, ConnectionConfig], None] | None = None


def package_spec(name: str) -> PackageSpec:
    if name not in KNOWN_PACKAGES:
        raise ConfigError(f"unknown package {name!r}; choose one of {', '.join(KNOWN_PACKAGES)}")
    try:
        module = importlib.import_module(f"adapters.{name}")
    except ImportError:
        raise ConfigError(f"the {name} adapter is not available in this version") from None
    spec = getattr(module, "PACKAGE", None)
    if not isinstance(spec, PackageSpec):
        raise ConfigError(f"the {name} adapter is not available in this version")
    return spec
