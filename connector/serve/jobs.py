"""The scheduler's jobs: plain module-level functions, referenced by name (``connector.serve.jobs:sync_job``).

They are the same code paths as the commands: :func:`sync_job` runs
:func:`connector.runtime.sync_one` (what ``arconnect sync`` runs) and :func:`dunning_job` runs
``connector.actions.applying.apply_connection`` (what ``arconnect apply`` runs). Each takes only names,
so an in-process worker pool and a distributed worker (connector.serve.distributed) call them alike,
and each reads the configuration afresh, so an edit applies from the next run on.

A job never raises: it returns a small JSON-able :class:`JobOutcome` and says what went wrong
through :mod:`connector.serve.observability` (a failing connection once a day, never every minute), so
one failing administration never stops the others.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import httpx

from connector import config as cfg
from connector.auth import CredentialAuth, SecretStore, load_tokens, open_secret_store
from connector.auth.oauth2 import utc_now
from connector.errors import ArconnectError, Busy, ReauthRequired, TransientError
from connector.http import make_client
from connector.packages import package_spec
from connector.serve.observability import report_problem, report_recovered
from connector.store import Store
from connector.store.lease import connection_lease

log = logging.getLogger("arconnect.jobs")

#: How long the daily dunning run waits for a running sync of the same administration to finish.
DUNNING_LEASE_WAIT_SECONDS: Final = 15 * 60.0
#: Refresh an unused refresh token when fewer than this many days of its life remain
#: (Exact: 30 days unused, docs/reference/exact.md §1.4; Adsolut: sliding 30 days, docs/reference/adsolut.md).
KEEP_ALIVE_WITHIN: Final = timedelta(days=7)
#: Announce a credential that will need re-linking this many days before its grant lapses.
RELINK_WARN_WITHIN: Final = timedelta(days=5)

Outcome = Literal["ok", "failed", "busy", "skipped"]


@dataclass(frozen=True)
class JobOutcome:
    job: str
    subject: str
    outcome: Outcome
    detail: str = ""
    api_calls: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- shared resources

_resources: dict[str, tuple[Store, SecretStore]] = {}
_resources_lock = threading.Lock()


def resources() -> tuple[Store, SecretStore]:
    """The process's store (migrated once) and secret store, shared by every job thread."""
    url = cfg.database_url()
    with _resources_lock:
        found = _resources.get(url)
        if found is None:
            store = Store(url)
            store.migrate()
            found = _resources[url] = (store, open_secret_store())
        return found


_config_cache: tuple[Path, tuple[int, int, int], cfg.Config] | None = None
_config_lock = threading.Lock()


def current_config() -> cfg.Config:
    """The configuration, read again only when ``config.yaml`` changed (its inode, size or mtime).

    Every job reads the configuration afresh so that an edit applies from the next run; but parsing
    the YAML of 2,000 connections costs about a CPU second, and 2,000 connections every 15 minutes
    run two jobs a second: without this, reading the configuration alone would fill both cores.
    """
    global _config_cache
    path = cfg.config_path()
    try:
        info = path.stat()
        stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
    except FileNotFoundError:
        return cfg.load_config(path)
    with _config_lock:
        cached = _config_cache
        if cached is not None and cached[0] == path and cached[1] == stamp:
            return cached[2]
        config = cfg.load_config(path)
        _config_cache = (path, stamp, config)
        return config


def close_resources() -> None:
    global _config_cache
    with _config_lock:
        _config_cache = None
    with _resources_lock:
        for store, _ in _resources.values():
            store.close()
        _resources.clear()


def _store_url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _connection_subject(name: str) -> str:
    return f"connection:{name}"


# --------------------------------------------------------------------------- sync


def sync_job(connection_name: str) -> dict[str, Any]:
    """Sync one connection now, or skip it when another runner holds its lease."""
    return _guarded("sync", _connection_subject(connection_name), lambda: _sync(connection_name)).as_dict()


def _sync(connection_name: str) -> JobOutcome:
    from connector.runtime import sync_one

    config = current_config()
    connection = config.connection(connection_name)
    store, secret_store = resources()
    subject = _connection_subject(connection_name)
    try:
        with connection_lease(connection_name, wait=False, database_url=_store_url(store)):
            abandoned = store.close_abandoned_runs(connection_name)
            if abandoned:
                log.warning("%s: %d run(s) interrupted earlier; syncing again", subject, abandoned)
            result = sync_one(config, connection, store, secret_store)
    except Busy as exc:
        log.info("%s", exc, extra={"subject": subject, "job": "sync", "outcome": "busy"})
        return JobOutcome("sync", subject, "busy", str(exc))
    if result.error:
        report_problem(store, subject, "failing", f"sync failed: {result.error}")
        return JobOutcome("sync", subject, "failed", result.error, result.api_calls, result.rate_limited)
    report_recovered(store, subject, "failing")
    after_sync(connection_name)
    log.info(
        "%s: synced, %d stored, %d API calls", subject, result.stored, result.api_calls,
        extra={"subject": subject, "job": "sync", "outcome": "ok", "api_calls": result.api_calls,
               "rate_limited": result.rate_limited, "stored": result.stored},
    )
    return JobOutcome("sync", subject, "ok", f"{result.stored} stored", result.api_calls, result.rate_limited)


# --------------------------------------------------------------------------- credential check


def check_job(credential_name: str) -> dict[str, Any]:
    """The cycle's credential check (connector.packages.CredentialCheck): one paged read for every
    connection of the credential, each answer stored for that connection's next sync."""
    subject = f"credential:{credential_name}"
    return _guarded("check", subject, lambda: _check(credential_name)).as_dict()


def _check(credential_name: str) -> JobOutcome:
    from connector.runtime import check_credential

    store, secret_store = resources()
    result = check_credential(current_config(), credential_name, store, secret_store)
    subject = f"credential:{credential_name}"
    log.info("%s: checked %d connection(s) in %d API call(s)", subject, result.answered, result.api_calls,
             extra={"subject": subject, "job": "check", "outcome": "ok", "api_calls": result.api_calls})
    return JobOutcome("check", subject, "ok", f"{result.answered} answered", result.api_calls)


def after_sync(connection_name: str) -> None:
    """Called after each sync that succeeded: the desk takes the day's receivables snapshot and
    checks promises, plans and disputes (connector/actions/desk.py). A desk problem is logged and
    never fails the sync."""
    from connector.actions.desk import run_desk

    subject = _connection_subject(connection_name)
    try:
        result = run_desk(connection_name)
    except ArconnectError as exc:
        log.warning("%s: desk check failed: %s", subject, exc, extra={"subject": subject, "job": "desk"})
        return
    for event in result.check.events:
        log.info("%s: %s #%d (%s)", subject, event.what, event.ref, event.on.isoformat(),
                 extra={"subject": subject, "job": "desk"})


# --------------------------------------------------------------------------- dunning


def dunning_job(connection_name: str, run_date: str | None = None) -> dict[str, Any]:
    """Sync, then plan and apply the connection's rules once (on a business day of its country)."""
    return _guarded("dunning", _connection_subject(connection_name), lambda: _dunning(connection_name, run_date)).as_dict()


def _dunning(connection_name: str, run_date: str | None) -> JobOutcome:
    from connector.runtime import sync_one, today
    from rules.calendar import is_business_day

    config = current_config()
    connection = config.connection(connection_name)
    subject = _connection_subject(connection_name)
    day = date.fromisoformat(run_date) if run_date else today(connection.timezone)
    if not is_business_day(day, connection.country):
        return JobOutcome("dunning", subject, "skipped", f"{day.isoformat()} is no business day in {connection.country}")
    if connection.rules_file is None:
        return JobOutcome("dunning", subject, "skipped", "no rules file configured")
    store, secret_store = resources()
    try:
        with connection_lease(connection_name, wait=DUNNING_LEASE_WAIT_SECONDS, database_url=_store_url(store)):
            store.close_abandoned_runs(connection_name)
            synced = sync_one(config, connection, store, secret_store)
            if synced.error:
                message = f"dunning run of {day.isoformat()} not applied: the sync before it failed: {synced.error}"
                report_problem(store, subject, "dunning", message)
                return JobOutcome("dunning", subject, "failed", message, synced.api_calls, synced.rate_limited)
            # Imported by name: the apply module is its own area (connector/applying.py).
            applying: Any = importlib.import_module("connector.actions.applying")
            result = applying.apply_connection(connection_name, day)
    except Busy as exc:
        report_problem(store, subject, "dunning", f"dunning run of {day.isoformat()} skipped: {exc}")
        return JobOutcome("dunning", subject, "busy", str(exc))
    except ArconnectError as exc:
        report_problem(store, subject, "dunning", f"dunning run of {day.isoformat()} failed: {exc}")
        return JobOutcome("dunning", subject, "failed", str(exc))
    report_recovered(store, subject, "dunning")
    log.info("%s: dunning run of %s done", subject, day.isoformat(), extra={"subject": subject, "job": "dunning"})
    return JobOutcome("dunning", subject, "ok", _summary(result))


def _summary(result: Any) -> str:
    counts = getattr(result, "counts", None)  # ApplyRunResult.counts() (connector/applying.py)
    if callable(counts):
        counts = counts()
    if isinstance(counts, dict):
        return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    return type(result).__name__


# --------------------------------------------------------------------------- token upkeep


@dataclass(frozen=True)
class KeepAlive:
    refreshed: bool
    #: Time left before the refresh token lapses after the keep-alive (None: unknown or never).
    lapses_in: timedelta | None


def keep_alive(
    credential: cfg.CredentialConfig,
    secret_store: SecretStore,
    *,
    clock: Callable[[], datetime] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> KeepAlive:
    """Refresh the credential's tokens when its refresh token lapses within :data:`KEEP_ALIVE_WITHIN`.

    The refresh itself is :meth:`CredentialAuth.ensure_fresh`: single-flight under the credential's
    cross-process lock, the rotated refresh token persisted before use (docs/architecture.md §9).
    """
    spec = package_spec(credential.package)
    with make_client(credential.host, transport=transport) as http:
        auth = CredentialAuth(credential, spec.oauth, secret_store, http, clock or utc_now)
        before = load_tokens(secret_store, credential.name, credential.package)
        if before is not None:
            lapses = auth.refresh_token_expires_in(before)
            if lapses is None or lapses > KEEP_ALIVE_WITHIN:
                # Nothing to keep alive: an expired access token is the next sync's business, and
                # Exact counts token calls (200 a day, docs/reference/exact.md §1.4).
                return KeepAlive(refreshed=False, lapses_in=lapses)
        after = auth.ensure_fresh(refresh_token_within=KEEP_ALIVE_WITHIN)
        return KeepAlive(refreshed=not after.same_access(before), lapses_in=auth.refresh_token_expires_in(after))


def keepalive_job(credential_name: str) -> dict[str, Any]:
    """Keep an unused refresh token alive; announce (once a day) a credential that needs re-linking."""
    subject = f"credential:{credential_name}"
    return _guarded("keepalive", subject, lambda: keepalive(credential_name)).as_dict()


def _days_up(left: timedelta) -> int:
    """Whole days, rounded up: 2 days and 23 hours left is "within 3 days"."""
    return max(0, -(-left // timedelta(days=1)))


def keepalive(credential_name: str, *, clock: Callable[[], datetime] | None = None) -> JobOutcome:
    """The keep-alive job's body: :func:`keep_alive`, then what to tell the bookkeeper (once a day)."""
    from connector.auth.tokens import relink_hint

    config = current_config()
    credential = config.credential(credential_name)
    store, secret_store = resources()
    subject = f"credential:{credential_name}"
    hint = relink_hint(credential_name, credential.package, credential)
    try:
        kept = keep_alive(credential, secret_store, clock=clock)
    except ReauthRequired as exc:
        report_problem(store, subject, "relink", f"needs re-linking now: {exc}")
        return JobOutcome("keepalive", subject, "failed", str(exc))
    except TransientError as exc:
        # The package's token endpoint is down: the refresh token keeps ageing meanwhile, so the
        # bookkeeper hears days ahead when it would lapse before the next keep-alive succeeds.
        stored = load_tokens(secret_store, credential.name, credential.package)
        expires = stored.refresh_expires_at if stored is not None else None
        now = (clock or utc_now)()
        if expires is not None and expires - now <= RELINK_WARN_WITHIN:
            report_problem(store, subject, "relink-soon",
                           f"will need re-linking within {_days_up(expires - now)} day(s) (by {expires.date().isoformat()}) "
                           f"unless a refresh succeeds first ({exc}): {hint}")
        report_problem(store, subject, "keepalive", f"keepalive failed: {exc}")
        return JobOutcome("keepalive", subject, "failed", str(exc))
    report_recovered(store, subject, "relink")
    if kept.lapses_in is not None and kept.lapses_in <= RELINK_WARN_WITHIN:
        by = ((clock or utc_now)() + kept.lapses_in).date().isoformat()
        days = _days_up(kept.lapses_in)
        report_problem(store, subject, "relink-soon", f"will need re-linking within {days} day(s) (by {by}): {hint}")
    else:
        report_recovered(store, subject, "relink-soon")
    detail = "refreshed" if kept.refreshed else "still fresh"
    log.info("%s: tokens %s", subject, detail, extra={"subject": subject, "job": "keepalive"})
    return JobOutcome("keepalive", subject, "ok", detail)


# --------------------------------------------------------------------------- plumbing

#: Jobs by short name, for the distributed engine (connector.serve.distributed) and ``serve``.
JOBS: Final[dict[str, Callable[..., dict[str, Any]]]] = {
    "sync": sync_job,
    "dunning": dunning_job,
    "keepalive": keepalive_job,
    "check": check_job,
}


def _guarded(job: str, subject: str, run: Callable[[], JobOutcome]) -> JobOutcome:
    """Run a job body; whatever it raises is reported (once a day) and turned into an outcome."""
    try:
        return run()
    except ArconnectError as exc:
        problem = str(exc)
    except Exception as exc:  # a bug must not stop the scheduler or the other connections
        problem = f"internal error: {type(exc).__name__}: {exc}"
        log.debug("%s: %s job crashed", subject, job, exc_info=True)
    try:
        store, _ = resources()
        report_problem(store, subject, job if job != "sync" else "failing", f"{job} failed: {problem}")
    except Exception:  # the store itself is down: say it here, every time
        log.error("%s: %s failed: %s", subject, job, problem, extra={"subject": subject, "job": job})
    return JobOutcome(job, subject, "failed", problem)
