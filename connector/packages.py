"""What the core needs to know of each package, declared by its adapter folder.

``adapters/<package>/__init__.py`` exposes a :class:`PackageSpec`; :func:`package_spec` finds it
by name. The core never imports an adapter's internals.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from connector.auth import OAuthProfile
from connector.config import ConnectionConfig, CredentialConfig
from connector.errors import ConfigError
from connector.http import ApiClient, PackageHttp
from connector.model import Administration
from connector.ports import Adapter, Capability, StateReader
from connector.sandbox import RunningServer

#: The folder every package lives in; the core learns the names from it, never from a list.
ADAPTERS = "adapters"


@dataclass(frozen=True)
class SandboxSpec:
    """How ``arconnect sandbox <package>`` (and the demo) start this package's simulator."""

    #: (port, seed, size, client_id, client_secret, redirect_uri) -> a server on 127.0.0.1:port
    serve: Callable[[int, int, str, str, str, str], RunningServer]
    default_port: int
    size_help: str = "small, medium, large or a number of records"
    #: the same simulator with rate limits out of the way, for the demo (None: the demo uses ``serve``)
    serve_for_demo: Callable[[int, int, str, str, str, str], RunningServer] | None = None
    #: ``arconnect demo`` runs against this package unless told otherwise
    demo_default: bool = False


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
    #: the package's simulator, if it has one (``arconnect sandbox <name>``)
    sandbox: SandboxSpec | None = None
    #: the connection name a linked administration gets (default: package-administration name)
    connection_name: Callable[[Administration], str] | None = None
    #: the region ``arconnect link`` and the demo use when none is given
    default_region: str = "nl"
    #: called for every administration a link connects, before it is saved (Adsolut: activate the
    #: integration on the dossier); the adapter's ``on_remove`` undoes it when the connection goes
    on_link: Callable[[ApiClient, ConnectionConfig], None] | None = None


@cache
def known_packages() -> tuple[str, ...]:
    """The packages this installation has a folder for (``adapters/<name>/``), sorted."""
    folder = importlib.import_module(ADAPTERS)
    return tuple(sorted(info.name for info in pkgutil.iter_modules(folder.__path__) if info.ispkg))


def package_spec(name: str) -> PackageSpec:
    if name not in known_packages():
        raise ConfigError(f"unknown package {name!r}; choose one of {', '.join(known_packages())}")
    try:
        module = importlib.import_module(f"{ADAPTERS}.{name}")
    except ImportError:
        raise ConfigError(f"the {name} adapter is not available in this version") from None
    spec = getattr(module, "PACKAGE", None)
    if not isinstance(spec, PackageSpec):
        raise ConfigError(f"the {name} adapter is not available in this version")
    return spec
