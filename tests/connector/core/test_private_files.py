"""Personal data on disk (issue 11 §10): the database, letters, hand-over files and call lists are
0600 in 0700 folders whatever the umask, and the modes of existing ones are fixed on start."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import config as cfg
from connector import runtime

CONNECTION = "exact-101"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o000)  # the worst case: everything world-writable unless we say otherwise
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): mode(p) for p in [root, *root.rglob("*")]}


def test_a_new_store_is_private_whatever_the_umask(arconnect_home: Path, loose_umask: None) -> None:
    runtime._SECURED.clear()
    store = runtime.open_store()
    try:
        store.ensure_connection(CONNECTION, "exact", "Demo")  # a write: SQLite makes its -wal and -shm files
        data = cfg.data_dir()
        assert mode(data) == 0o700
        assert {p.name: mode(p) for p in data.iterdir()} == {
            "arconnect.db": 0o600, "arconnect.db-wal": 0o600, "arconnect.db-shm": 0o600,
        }
    finally:
        store.close()


def test_existing_world_readable_data_is_fixed_on_start(arconnect_home: Path) -> None:
    data = cfg.data_dir()
    (data / "outbox" / CONNECTION).mkdir(parents=True)
    letter = data / "outbox" / CONNECTION / "2026-03-02-1001-abc.pdf"
    letter.write_bytes(b"%PDF-")
    (data / "calls").mkdir()
    calls = data / "calls" / f"{CONNECTION}.csv"
    calls.write_text("date\n")
    for path, loose in ((data, 0o755), (data / "outbox", 0o755), (data / "outbox" / CONNECTION, 0o777), (letter, 0o644),
                        (data / "calls", 0o755), (calls, 0o666)):
        os.chmod(path, loose)
    runtime._SECURED.clear()
    runtime.open_store().close()
    assert modes_under(data) == {name: (0o700 if (data / name).is_dir() else 0o600) for name in modes_under(data)}


def test_only_what_arconnect_keeps_in_the_data_dir_has_its_mode_changed(arconnect_home: Path) -> None:
    data = cfg.data_dir()
    data.mkdir(parents=True)
    script = data / "backup.sh"  # someone else's file in a data dir that is shared after all
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o755)
    (data / "calls").mkdir()
    calls = data / "calls" / f"{CONNECTION}.csv"
    calls.write_text("date\n")
    os.chmod(calls, 0o644)
    runtime._SECURED.clear()
    runtime.open_store().close()
    assert mode(script) == 0o755
    assert mode(calls) == 0o600
