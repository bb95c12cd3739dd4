"""What a package must offer the contract suite: a sandbox, a link, the truth, and changes.

Each package adds one :class:`Harness` subclass and registers it in ``HARNESSES``; every test in
``tests/contract`` then runs against it. The harness links through the package's real OAuth flow
against its in-process sandbox (the person's click is played; the redirect URL is "pasted"),
syncs through :func:`connector.runtime.sync_one`, and reads the sandbox's truth to compare.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx

from connector import config as cfg
from connector.auth import SecretStore
from connector.cli.demo import free_port
from connector.ports import Adapter
from connector.runtime import ConnectionSyncResult, api_for, build_adapter, link_package, sync_one
from connector.store import Store


@dataclass(frozen=True)
class Truth:
    """What the package holds right now, in common-model terms."""

    debtor_ids: frozenset[str]
    #: open item id → open amount in the transaction currency (owed positive)
    open_items: dict[str, Decimal]


class Harness(ABC):
    package: str
    client_id = "contract-client"
    client_secret = "contract-secret"

    def __init__(self, tmp: Path, store: Store, secrets: SecretStore) -> None:
        self.tmp = tmp
        self.redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        self.store = store
        self.secrets = secrets
        self.transport = self.make_transport()
        self.connections: list[cfg.ConnectionConfig] = []

    #: Why this package (as configured) reads no open items, or None when it does. The tests about
    #: open items are skipped with this message; the ones about debtors still run.
    @property
    def open_items_unavailable(self) -> str | None:
        return None

    # ---- what a package provides
    @abstractmethod
    def make_transport(self) -> httpx.BaseTransport: ...

    @abstractmethod
    def press_allow(self, authorize_url: str) -> str:
        """Play the person at the consent page; return the redirect URL the browser lands on."""

    @abstractmethod
    def truth(self, connection: cfg.ConnectionConfig) -> Truth: ...

    @abstractmethod
    def change_something(self, connection: cfg.ConnectionConfig) -> None:
        """Pay one invoice partly and one in full, add an invoice, rename a debtor."""

    @abstractmethod
    def delete_an_item(self, connection: cfg.ConnectionConfig) -> str:
        """Delete one open item in the package; return its common-model source id."""

    @abstractmethod
    def break_next_record(self) -> None:
        """Make the next list page carry one malformed record."""

    @abstractmethod
    def calls(self) -> int:
        """API calls the sandbox served so far (its own count)."""

    # ---- shared steps
    def link(self) -> list[cfg.ConnectionConfig]:
        """Link through the real redirect: consent in the sandbox, redirect to our loopback listener."""

        def browser(authorize_url: str) -> None:
            def run() -> None:
                landing = self.press_allow(authorize_url)
                with httpx.Client(timeout=10) as real_browser:
                    real_browser.get(landing)

            threading.Thread(target=run, daemon=True).start()

        self.connections = link_package(
            self.package,
            region="nl",
            client_id=self.client_id,
            redirect_uri=self.redirect_uri,
            credential_name=f"{self.package}-contract",
            host="http://sandbox.test",
            open_browser=True,
            divisions=[],
            say=lambda text: None,
            opener=browser,
            client_secret_value=self.client_secret,
            transport=self.transport,
        )
        return self.connections

    def sync(self, connection: cfg.ConnectionConfig) -> ConnectionSyncResult:
        config = cfg.load_config()
        return sync_one(config, connection, self.store, self.secrets, transport=self.transport)

    @contextmanager
    def adapter(self, connection: cfg.ConnectionConfig) -> Iterator[Adapter]:
        """The connection's adapter, as ``apply`` builds it (its credential, the sandbox's transport)."""
        config = cfg.load_config()
        credential = config.credentials[connection.credential]
        with api_for(credential, connection.administration, self.secrets, transport=self.transport) as api:
            yield build_adapter(api, config.connections[connection.name], self.store)

    def stored_truth(self, connection: cfg.ConnectionConfig) -> Truth:
        debtors = frozenset(d.source_id for d in self.store.debtors(connection.name))
        items = {i.source_id: i.open.amount for i in self.store.open_items(connection.name)}
        return Truth(debtor_ids=debtors, open_items=items)


HarnessFactory = Callable[[Path, Store, SecretStore], Harness]
