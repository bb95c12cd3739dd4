"""Letters, call lists and hand-over files are personal data: 0600 in 0700 folders whatever the
umask (issue 11 §10)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.model import ActionKind
from connector.store import Store
from tests.connector.actions.conftest import PackageDouble, make_dispatcher, message


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(previous)


def modes_under(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def test_letters_call_lists_and_handover_files_are_private(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path, loose_umask: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path))
    channels = tmp_path / "channels"
    make_dispatcher(store, package, channels, smtp).run([
        message("l1", ActionKind.FORMAL_NOTICE, channel="letter"),
        message("c1", ActionKind.CALL_TASK, channel="phone"),
        message("h1", ActionKind.COLLECTION_HANDOVER, channel="none"),
    ])
    written = modes_under(channels)
    assert any(name.startswith("outbox/") and name.endswith(".pdf") for name in written)
    assert any(name.startswith("handover/") and name.endswith(".csv") for name in written)
    assert "calls.csv" in written
    for name, found in written.items():
        expected = 0o700 if (channels / name).is_dir() else 0o600
        assert found == expected, (name, oct(found))
