"""Wiring at the edge: configuration + secrets + store + package spec → working objects.

The CLI, the demo and the scheduler call these functions; they hold no domain logic.
"""

from __future__ import annotations

import re
import secrets as pysecrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
from sqlalchemy import exc as sa_exc

from connector import config as cfg
from connector.auth import CredentialAuth, SecretStore, client_secret, open_secret_store
from connector.auth.linking import link as oauth_link
from connector.errors import ArconnectError, ConfigError
from connector.http import ApiClient, make_client
from connector.model import Debtor
from connector.packages import package_spec
from connector.ports import Adapter, NoState
from connector.reports import AgingReport, aging
from connector.store import Store
from connector.sync import StreamReport, sync_connection

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def today(tz: str = "Europe/Amsterdam") -> date:
    """Today's date where the bookkeeper works (the day boundary matters for due dates)."""
    return datetime.now(ZoneInfo(tz)).date()


#: Data dirs whose modes were checked by this process (once per process is enough: what we create
#: ourselves is private from the start).
_SECURED: set[Path] = set()


def open_store() -> Store:
    data = cfg.data_dir().absolute()
    if data not in _SECURED:
        cfg.secure_data_dir(data)  # personal data: fix the modes an older version or a loose umask left
        _SECURED.add(data)
    url = cfg.database_url()
    try:
        store = Store(url)
    except OSError as exc:
        raise ConfigError(f"{_database_where(url)}: cannot be opened ({exc.strerror or type(exc).__name__}); "
                          "check the owner and mode of the file and its folder") from None
    try:
        store.migrate()
    except sa_exc.DBAPIError as exc:
        store.close()
        raise _database_problem(url, exc) from None
    return store


def _database_where(url: str) -> str:
    if url.startswith("sqlite"):
        return url.split("///", 1)[-1] or url
    from connector.http import redact_url

    return f"database {redact_url(url)}"


def _database_problem(url: str, exc: sa_exc.DBAPIError) -> ConfigError:
    """One line for a database that cannot be used: where it is and what to do."""
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
    where = _database_where(url)
    if url.startswith("sqlite"):
        if "not a database" in detail or "malformed" in detail:
            return ConfigError(f"{where}: not a readable arconnect database ({detail}); restore it from a backup "
                               "(docs/operations.md, Backups) or move it away, then run 'arconnect sync'")
        return ConfigError(f"{where}: cannot be used ({detail}); check the owner and mode of the file and its folder")
    return ConfigError(f"{where}: not reachable ({detail}); check that the server runs and ARCONNECT_DATABASE_URL")


class StoreStateReader:
    """The adapter's view of its own state in the store, for one connection."""

    def __init__(self, store: Store, connection_id: str) -> None:
        self.store = store
        self.connection_id = connection_id

    def get_state(self, keys: Iterable[str]) -> dict[str, Any]:
        return self.store.get_state(self.connection_id, keys)


@contextmanager
def api_for(
    credential: cfg.CredentialConfig,
    administration: str | None,
    secret_store: SecretStore,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[ApiClient]:
    """An ApiClient for one administration of a credential: OAuth, pacing, retries."""
    spec = package_spec(credential.package)
    token_http = make_client(credential.host, transport=transport)
    auth = CredentialAuth(credential, spec.oauth, secret_store, token_http)
    client = make_client(credential.host, auth=auth, transport=transport)
    api = ApiClient(client, spec.http, limiter_key=spec.limiter_key(credential, administration))
    try:
        yield api
    finally:
        client.close()
        token_http.close()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "admin"


def link_package(
    package: str,
    *,
    region: str,
    client_id: str | None,
    redirect_uri: str,
    credential_name: str | None,
    host: str | None,
    open_browser: bool,
    divisions: list[str],
    say: Callable[[str], None],
    opener: Callable[[str], None] | None = None,
    client_secret_value: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[cfg.ConnectionConfig]:
    """Link a credential over OAuth2 and connect the administrations it reaches."""
    spec = package_spec(package)
    if host is None:
        if region not in spec.hosts:
            raise ConfigError(f"unknown region {region!r} for {spec.title}; choose one of {', '.join(spec.hosts)}")
        host = spec.hosts[region]
    if not client_id:
        raise ConfigError(f"--client-id is required: register an app with {spec.title} and pass its client id")
    name = credential_name or f"{package}-{region}"
    credential = cfg.CredentialConfig(
        name=name, package=spec.name, host=host.rstrip("/"), client_id=client_id, redirect_uri=redirect_uri,
        scopes=list(spec.scopes),
    )
    store = open_secret_store()
    if client_secret_value is not None:
        store.set(f"client-secret:{name}", client_secret_value)
    else:
        try:
            client_secret(credential, store)
        except ArconnectError:
            secret = typer.prompt(f"Client secret of {spec.title} app {client_id}", hide_input=True)
            store.set(f"client-secret:{name}", secret)
    token_http = make_client(credential.host, transport=transport)
    try:
        kwargs: dict[str, Any] = {"open_browser": open_browser, "prompt": lambda text: typer.prompt(text)}
        if opener is not None:
            kwargs["opener"] = opener
        oauth_link(credential, spec.oauth, store, token_http, **kwargs)
    finally:
        token_http.close()
    with api_for(credential, None, store, transport=transport) as api:
        administrations = spec.administrations(api)
    wanted = [a for a in administrations if not divisions or a.source_id in divisions]
    if divisions and len(wanted) != len(set(divisions)):
        missing = sorted(set(divisions) - {a.source_id for a in administrations})
        raise ConfigError(f"not granted by this link: {', '.join(missing)}")
    config = cfg.load_config()
    config.credentials[name] = credential
    created: list[cfg.ConnectionConfig] = []
    for admin in wanted:
        connection_name = spec.connection_name(admin) if spec.connection_name else f"{package}-{_slug(admin.name)}"
        existing = config.connections.get(connection_name)
        connection = cfg.ConnectionConfig(
            name=connection_name,
            credential=name,
            package=spec.name,
            administration=admin.source_id,
            administration_name=admin.name,
            country="BE" if (admin.country or "").upper() == "BE" else "NL",
            timezone="Europe/Brussels" if (admin.country or "").upper() == "BE" else "Europe/Amsterdam",
            currency=admin.currency or "EUR",
            rules_file=existing.rules_file if existing else None,
            reminders_sent_by=existing.reminders_sent_by if existing else None,
        )
        config.connections[connection_name] = connection
        created.append(connection)
    if spec.on_link is not None:
        for connection in created:
            with api_for(credential, connection.administration, store, transport=transport) as api:
                spec.on_link(api, connection)
    cfg.save_config(config)
    say(f"credential {name} linked; {len(created)} administration(s) connected")
    return created


@dataclass
class ConnectionSyncResult:
    connection: str
    stored: int = 0
    quarantined: int = 0
    api_calls: int = 0
    rate_limited: int = 0
    error: str | None = None
    #: True when another runner held the connection's lease and this sync did nothing.
    busy: bool = False


def build_adapter(api: ApiClient, connection: cfg.ConnectionConfig, store: Store) -> Adapter:
    spec = package_spec(connection.package)
    return spec.make_adapter(api, connection, StoreStateReader(store, connection.name))


def sync_one(
    config: cfg.Config,
    connection: cfg.ConnectionConfig,
    store: Store,
    secret_store: SecretStore,
    *,
    console: Console | None = None,
    transport: httpx.BaseTransport | None = None,
    lease_wait: bool | float = False,
    full: bool = False,
) -> ConnectionSyncResult:
    """Sync one connection under its lease (connector.store.lease); a busy lease is reported, not raised."""
    from connector.errors import Busy
    from connector.store.lease import connection_lease

    try:
        url = store.engine.url.render_as_string(hide_password=False)
        with connection_lease(connection.name, wait=lease_wait, database_url=url):
            return _sync_one_leased(config, connection, store, secret_store, console=console, transport=transport, full=full)
    except Busy as exc:
        return ConnectionSyncResult(connection.name, error=str(exc), busy=True)


def _sync_one_leased(
    config: cfg.Config,
    connection: cfg.ConnectionConfig,
    store: Store,
    secret_store: SecretStore,
    *,
    console: Console | None = None,
    transport: httpx.BaseTransport | None = None,
    full: bool = False,
) -> ConnectionSyncResult:
    """Sync one connection and record the run; failures are reported, not raised."""
    result = ConnectionSyncResult(connection.name)
    credential = config.credential(connection.credential)
    store.ensure_connection(connection.name, connection.package, connection.administration_name or connection.name)
    run_id = store.run_started(connection.name, "sync")
    api_stats = None
    try:
        with api_for(credential, connection.administration, secret_store, transport=transport) as api:
            api_stats = api.stats
            adapter = build_adapter(api, connection, store)
            if console is not None and console.is_terminal:
                with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[stored]} stored"), console=console, transient=True) as progress:
                    task = progress.add_task(f"{connection.name}", total=None, stored=0)

                    def tick(stream: str, report: StreamReport) -> None:
                        progress.update(task, description=f"{connection.name}: {stream}", stored=report.stored)

                    report = sync_connection(adapter, store, connection.name, progress=tick, full=full)
            else:
                report = sync_connection(adapter, store, connection.name, full=full)
        result.stored = report.stored
        result.quarantined = report.quarantined
        counts = report.counts()
        outcome, error = "ok", None
    except ArconnectError as exc:
        result.error = str(exc)
        counts, outcome, error = {}, "failed", str(exc)
    if api_stats is not None:
        result.api_calls = api_stats.calls
        result.rate_limited = api_stats.rate_limited
    store.run_finished(run_id, outcome, counts, api_calls=result.api_calls, rate_limited=result.rate_limited, error=error)
    return result


def sync_connections(name: str | None, *, console: Console | None = None, full: bool = False) -> list[ConnectionSyncResult]:
    config = cfg.load_config()
    connections = [config.connection(name)] if name else [config.connections[n] for n in sorted(config.connections)]
    if not connections:
        raise ConfigError("no connections yet: run 'arconnect link exact' first")
    secret_store = open_secret_store()
    store = open_store()
    try:
        return [sync_one(config, c, store, secret_store, console=console, full=full) for c in connections]
    finally:
        store.close()


def aging_reports(name: str | None, on: date) -> list[tuple[str, AgingReport]]:
    config = cfg.load_config()
    names = [config.connection(name).name] if name else sorted(config.connections)
    store = open_store()
    try:
        result = []
        for connection_name in names:
            debtors: dict[str, Debtor] = {d.source_id: d for d in store.debtors(connection_name)}
            result.append((connection_name, aging(store.open_items(connection_name), debtors, on)))
        return result
    finally:
        store.close()


def quarantine_rows(name: str) -> list[Any]:
    config = cfg.load_config()
    connection = config.connection(name)
    store = open_store()
    try:
        return list(store.quarantine(connection.name))
    finally:
        store.close()


def remove_connection(name: str, *, transport: httpx.BaseTransport | None = None) -> int:
    """Forget a connection: first the package's side (``Adapter.on_remove``, e.g. Adsolut's
    integration deactivation, which the customer pays for while active), then the stored rows
    and the config entry. When the package refuses, nothing is removed and the error says why.
    Its journal is kept, archived (issue 11.2); the number of journal entries kept."""
    config = cfg.load_config()
    connection = config.connection(name)
    spec = package_spec(connection.package)
    if spec.on_link is not None:  # a package that does something on link undoes it on remove
        credential = config.credential(connection.credential)
        with api_for(credential, connection.administration, open_secret_store(), transport=transport) as api:
            spec.make_adapter(api, connection, NoState()).on_remove()
    store = open_store()
    try:
        store.remove_connection(connection.name, keep_journal=True)
        kept = store.archived_journals().get(connection.name, 0)
    finally:
        store.close()
    del config.connections[name]
    cfg.save_config(config)
    return kept


def new_state() -> str:
    return pysecrets.token_urlsafe(24)
