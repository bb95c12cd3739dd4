"""One runner per administration at a time, across threads, processes and machines (issue 6 §2).

Every sync and every apply of a connection runs inside :func:`connection_lease`. A second runner
either waits (``wait=True`` or a number of seconds) or gets :class:`~connector.errors.Busy` at
once with a clear line naming the holder.

* **PostgreSQL** (several machines): a session-level advisory lock, ``pg_try_advisory_lock(bigint)``,
  taken on a connection of its own that stays open for the lease. The server releases it when that
  session ends, so a killed runner never leaves a stale lease behind (PostgreSQL manual, "Advisory
  Locks"). The key is the first 8 bytes of SHA-256 of ``lease:<connection id>``; two ids that
  collided would only run one after the other.
* **SQLite** (one machine): a lock file per connection in ``locks/`` beside the database file
  (``filelock``, an OS lock the kernel drops with the process), behind a thread lock so the threads
  of one process queue cheaply.

The lease is re-entrant within a thread: the dunning job holds it across sync + apply, and the
apply code may take it again without deadlocking itself. It also closes a known race of the
journal: ``Store.journal_begin`` may hand the same "pending" entry to two processes, but only the
lease holder ever applies it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Final

import filelock
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from connector import config as cfg
from connector.errors import Busy, ConfigError

POLL_SECONDS: Final = 0.2


def runner_id() -> str:
    """``host:pid`` of this process: how leases, runs and logs name a runner."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_key(connection_id: str) -> int:
    """The signed 64-bit advisory-lock key of a connection (stable across processes and machines)."""
    digest = hashlib.sha256(f"lease:{connection_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_local = threading.local()
_thread_locks: dict[str, threading.Lock] = {}
_engines: dict[str, Engine] = {}
_registry = threading.Lock()


def _held() -> dict[str, int]:
    held: dict[str, int] | None = getattr(_local, "held", None)
    if held is None:
        held = _local.held = {}
    return held


def _thread_lock(key: str) -> threading.Lock:
    with _registry:
        lock = _thread_locks.get(key)
        if lock is None:
            lock = _thread_locks[key] = threading.Lock()
        return lock


def _pg_engine(url: str) -> Engine:
    with _registry:
        engine = _engines.get(url)
        if engine is None:
            parsed = make_url(url)
            if parsed.drivername in ("postgresql", "postgres"):
                parsed = parsed.set(drivername="postgresql+psycopg")
            # NullPool: a lease's session must end with the lease (and never cross a fork).
            engine = sa.create_engine(
                parsed, poolclass=NullPool, connect_args={"application_name": f"arconnect lease {runner_id()}"[:63]}
            )
            _engines[url] = engine
        return engine


def _deadline(wait: bool | float) -> float | None:
    """Monotonic deadline: now for ``False``, None (forever) for ``True``, else now + seconds."""
    if wait is True:
        return None
    if wait is False:
        return time.monotonic()
    return time.monotonic() + max(0.0, float(wait))


def _busy(connection_id: str, holder: str | None, wait: bool | float) -> Busy:
    who = f" ({holder})" if holder else ""
    waited = "" if wait is False else f" after waiting {float(wait):g} s"
    return Busy(
        f"connection {connection_id} is busy: another sync or apply holds its lease{who}{waited}; "
        "it was skipped, try again later"
    )


@contextmanager
def _pg_lease(url: str, connection_id: str, wait: bool | float) -> Iterator[None]:
    key = lease_key(connection_id)
    deadline = _deadline(wait)
    with _pg_engine(url).connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        while not conn.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar_one():
            if deadline is not None and time.monotonic() >= deadline:
                raise _busy(connection_id, _pg_holder(conn, key), wait)
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            with contextlib.suppress(sa.exc.DBAPIError):  # the session is gone, and with it the lock
                conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))


def _pg_holder(conn: sa.Connection, key: int) -> str | None:
    """Who holds an advisory lock: the application_name of its session (``arconnect lease host:pid``)."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = conn.execute(
        sa.text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1"
        ),
        {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
    ).first()
    if row is None or not row[0]:
        return None
    return "held by " + str(row[0]).removeprefix("arconnect lease ")


def lock_dir(url: str) -> Path:
    """Where SQLite leases keep their lock files: ``locks/`` beside the database file."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return cfg.data_dir() / "locks"
    return Path(database).expanduser().resolve().parent / "locks"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "_"


@contextmanager
def _file_lease(url: str, connection_id: str, wait: bool | float) -> Iterator[None]:
    directory = lock_dir(url)
    path = directory / f"connection-{_safe(connection_id)}.lock"
    holder_file = path.with_suffix(".holder")
    deadline = _deadline(wait)
    inner = _thread_lock(str(path))

    def remaining() -> float:
        return -1 if deadline is None else max(0.0, deadline - time.monotonic())

    if not inner.acquire(timeout=remaining()):
        raise _busy(connection_id, "held by another thread of this process", wait)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(path), timeout=remaining())
        try:
            lock.acquire(poll_interval=POLL_SECONDS)
        except filelock.Timeout:
            try:
                holder = holder_file.read_text(encoding="utf-8").strip() or None
            except OSError:
                holder = None
            raise _busy(connection_id, f"held by {holder}" if holder else None, wait) from None
        try:
            holder_file.write_text(runner_id(), encoding="utf-8")
            yield
        finally:
            lock.release()
    finally:
        inner.release()


@contextmanager
def connection_lease(
    connection_id: str, *, wait: bool | float = False, database_url: str | None = None
) -> Iterator[None]:
    """Hold the lease of one connection (administration) for the ``with`` block.

    ``wait``: False raises :class:`Busy` at once when another runner holds it, True waits as long
    as it takes, a number waits that many seconds. ``database_url`` defaults to the configured
    store. Re-entrant within one thread.
    """
    url = database_url or cfg.database_url()
    held = _held()
    # Keyed by connection id alone: the thread that holds a connection's lease holds it whatever
    # spelling of the database URL a nested caller uses.
    slot = connection_id
    if held.get(slot):
        held[slot] += 1
        try:
            yield
        finally:
            held[slot] -= 1
        return
    backend = make_url(url).get_backend_name()
    lease: AbstractContextManager[None]
    if backend == "postgresql":
        lease = _pg_lease(url, connection_id, wait)
    elif backend == "sqlite":
        lease = _file_lease(url, connection_id, wait)
    else:
        raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")
    with lease:
        held[slot] = 1
        try:
            yield
        finally:
            del held[slot]


def lease_is_free(connection_id: str, *, database_url: str | None = None) -> bool:
    """True when nobody holds the connection's lease right now (for ``status``; racy by nature)."""
    try:
        with connection_lease(connection_id, wait=False, database_url=database_url):
            return True
    except Busy:
        return False
