"""Per-credential locks that hold across threads, processes and machines (docs/architecture.md §9).

A refresh of a credential's tokens must be single-flight: Exact's refresh tokens are single-use,
so two refreshes of the same grant leave one side with "Old refresh token used"
(docs/reference/exact.md §1.4, "concurrent refreshes"). Behind the small :class:`CredentialLocks` seam:

* :class:`FileCredentialLocks` serves one machine: a ``threading.Lock`` per credential in this
  process plus a ``filelock`` lock file in ``<data dir>/locks/`` for other processes.
* :class:`DatabaseCredentialLocks` serves several machines on one PostgreSQL database: a
  session-level advisory lock on a connection of its own (SQLite: the file locks, beside the database).

:func:`default_locks` picks the one that goes with the secret store: the database lock when the
tokens live in the database (``ARCONNECT_SECRET_STORE=database``), else the file locks.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Final, Protocol

import filelock
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from connector import config as cfg
from connector.config import data_dir
from connector.errors import ConfigError, TransientError
from connector.store.lease import lock_dir, runner_id

DEFAULT_LOCK_TIMEOUT = 60.0


class CredentialLocks(Protocol):
    """Mutual exclusion per credential name, across every process that shares the token store."""

    def hold(self, credential: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> AbstractContextManager[None]:
        """Hold the credential's lock for the ``with`` block; raise TransientError after ``timeout`` s."""
        ...


_thread_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _thread_lock(key: str) -> threading.Lock:
    with _registry_lock:
        lock = _thread_locks.get(key)
        if lock is None:
            lock = _thread_locks[key] = threading.Lock()
        return lock


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "_"


class FileCredentialLocks:
    """A thread lock plus a lock file per credential; ``directory`` defaults to ``<data dir>/locks``."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    def path_for(self, credential: str) -> Path:
        directory = self._directory or data_dir() / "locks"
        return directory / f"credential-{_safe_name(credential)}.lock"

    @contextmanager
    def hold(self, credential: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
        path = self.path_for(credential)
        with hold_path(path, timeout, what=f"the token lock of credential {credential}"):
            yield


@contextmanager
def hold_path(path: Path, timeout: float, *, what: str) -> Iterator[None]:
    """Hold ``path``'s thread lock and file lock; the thread lock comes first so threads queue cheaply."""
    started = time.monotonic()
    inner = _thread_lock(str(path.absolute()))
    if not inner.acquire(timeout=timeout):
        raise TransientError(f"timed out after {timeout:g} s waiting for {what} (held in this process)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remaining = max(0.0, timeout - (time.monotonic() - started))
        lock = filelock.FileLock(str(path), timeout=remaining)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise TransientError(f"timed out after {timeout:g} s waiting for {what} (held by another process)") from None
        try:
            yield
        finally:
            lock.release()
    finally:
        inner.release()


# --------------------------------------------------------------------------- several machines

#: The first key of every credential lock in PostgreSQL's two-``integer`` advisory-lock key space.
#: connector/lease.py and ``Store.migrate`` use single ``bigint`` keys, and the manual says the two key
#: spaces do not overlap (PostgreSQL manual, "Advisory Lock Functions"), so no lease can block a refresh.
CREDENTIAL_LOCK_CLASS: Final = 0x61724372  # "arCr"
#: SQLSTATE lock_not_available: ``lock_timeout`` ran out (PostgreSQL manual, "Error Codes").
_LOCK_NOT_AVAILABLE: Final = "55P03"

_lock_engines: dict[str, Engine] = {}


def credential_lock_key(credential: str) -> tuple[int, int]:
    """The ``(classid, objid)`` advisory-lock key of a credential, the same on every machine.

    ``objid`` is 32 bits of SHA-256 of ``credential:<name>``; two names that collided would only refresh
    one after the other.
    """
    digest = hashlib.sha256(f"credential:{credential}".encode()).digest()
    return CREDENTIAL_LOCK_CLASS, int.from_bytes(digest[:4], "big", signed=True)


def _lock_engine(url: str) -> Engine:
    with _registry_lock:
        engine = _lock_engines.get(url)
        if engine is None:
            parsed = make_url(url)
            if parsed.drivername in ("postgresql", "postgres"):
                parsed = parsed.set(drivername="postgresql+psycopg")
            # NullPool: the lock's session ends with the lock (and never crosses a fork), like lease.py's.
            engine = _lock_engines[url] = sa.create_engine(
                parsed,
                poolclass=NullPool,
                connect_args={"connect_timeout": 10, "application_name": f"arconnect token lock {runner_id()}"[:63]},
            )
        return engine


class DatabaseCredentialLocks:
    """A credential lock every machine on one PostgreSQL database sees: ``pg_advisory_lock(classid, objid)``.

    The lock is session-level and taken on a connection of its own that stays open while it is held, so
    PostgreSQL drops it when a killed holder's session ends. ``lock_timeout`` bounds the wait (PostgreSQL
    manual, "Client Connection Defaults"; that it covers advisory locks is checked by
    tests/auth/test_database_store.py). The threads of
    one process queue on a thread lock first, so they use one connection at a time. On SQLite (one
    machine) it is :class:`FileCredentialLocks` with the lock files beside the database file.
    """

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        backend = make_url(database_url).get_backend_name()
        self._files: FileCredentialLocks | None = None
        if backend == "sqlite":
            self._files = FileCredentialLocks(lock_dir(database_url))
        elif backend != "postgresql":
            raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")

    def __repr__(self) -> str:
        return f"DatabaseCredentialLocks({make_url(self._url).render_as_string(hide_password=True)!r})"

    @contextmanager
    def hold(self, credential: str, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
        if self._files is not None:
            with self._files.hold(credential, timeout):
                yield
            return
        what = f"the token lock of credential {credential}"
        started = time.monotonic()
        inner = _thread_lock(f"{self._url}#credential:{credential}")
        if not inner.acquire(timeout=timeout):
            raise TransientError(f"timed out after {timeout:g} s waiting for {what} (held in this process)")
        try:
            with self._session(what) as conn:
                classid, objid = credential_lock_key(credential)
                remaining_ms = max(1, int((timeout - (time.monotonic() - started)) * 1000))  # 0 would mean forever
                try:
                    conn.execute(sa.text("SELECT set_config('lock_timeout', :ms, false)"), {"ms": f"{remaining_ms}ms"})
                    conn.execute(
                        sa.text("SELECT pg_advisory_lock(CAST(:classid AS integer), CAST(:objid AS integer))"),
                        {"classid": classid, "objid": objid},
                    )
                except sa.exc.DBAPIError as exc:
                    if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                        raise TransientError(
                            f"timed out after {timeout:g} s waiting for {what} (held by another process or machine)"
                        ) from None
                    raise TransientError(f"cannot take {what} in the database ({type(exc.orig).__name__})") from None
                try:
                    yield
                finally:
                    with contextlib.suppress(sa.exc.DBAPIError):  # the session is gone, and with it the lock
                        conn.execute(
                            sa.text("SELECT pg_advisory_unlock(CAST(:classid AS integer), CAST(:objid AS integer))"),
                            {"classid": classid, "objid": objid},
                        )
        finally:
            inner.release()

    @contextmanager
    def _session(self, what: str) -> Iterator[sa.Connection]:
        try:
            conn = _lock_engine(self._url).connect()
        except sa.exc.DBAPIError as exc:
            raise TransientError(f"cannot reach the database for {what} ({type(exc.orig).__name__})") from None
        with conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn


def default_locks() -> CredentialLocks:
    """The credential locks that go with the configured secret store (see the module docstring)."""
    if cfg.secret_store_kind() == "database":
        return DatabaseCredentialLocks(cfg.database_url())
    return FileCredentialLocks()
