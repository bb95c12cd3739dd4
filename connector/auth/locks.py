"""Per-credential locks that hold across threads and processes (DESIGN.md §9).

A refresh of a credential's tokens must be single-flight: Exact's refresh tokens are single-use,
so two refreshes of the same grant leave one side with "Old refresh token used"
(reference/exact.md §1.4, "concurrent refreshes"). :class:`CredentialLocks` is the small seam a
later issue can fill with a database lock for several machines; :class:`FileCredentialLocks`
serves one machine: a ``threading.Lock`` per credential in this process plus a ``filelock`` lock
file in ``<data dir>/locks/`` for other processes.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

import filelock

from connector.config import data_dir
from connector.errors import TransientError

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
