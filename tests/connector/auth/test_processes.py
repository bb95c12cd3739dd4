"""Two OS processes sharing one credential and one store refresh a near-expiry token exactly once.

Exact's refresh tokens are single-use (docs/reference/exact.md §1.4): if both processes sent the
refresh grant, the second would get 401 "Old refresh token used." and fail. The provider runs on
127.0.0.1 in this process; its token endpoint is slowed so the second process arrives while the
first holds the credential's lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from connector.auth import EncryptedFileStore
from connector.config import data_dir
from tests.connector.auth.conftest import WorldFactory
from tests.support.paths import REPO

PASSPHRASE = "race test passphrase"


def test_two_processes_near_expiry_refresh_once_and_both_succeed(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    store = EncryptedFileStore(data_dir() / "secrets.enc", PASSPHRASE)
    world = make_world("exact", served=True, name="exact-race", store=store)
    world.link_by_paste()
    linked = world.stored()
    world.clock.advance(575)  # within 30 s of expiry and past the 570 s minimum age
    world.provider.app.faults.slow(0.3, endpoint="token", times=2)
    offset = (world.clock.now() - datetime.now(UTC)).total_seconds()
    go = tmp_path / "go"
    env = {**os.environ, "ARCONNECT_SECRET_STORE": "encrypted-file", "ARCONNECT_SECRETS_PASSPHRASE": PASSPHRASE,
           "PYTHONPATH": str(REPO)}
    assert world.server is not None
    command = [sys.executable, "-m", "tests.connector.auth.race_child", world.server.url, world.credential.redirect_uri,
               str(go), str(offset)]
    children = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    outputs: list[str] = []
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        go.touch()
        for child in children:
            out, err = child.communicate(timeout=60)
            outputs.append(out + err)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()
    assert [child.returncode for child in children] == [0, 0], outputs
    assert all("status 200" in out for out in outputs)
    assert world.provider.refreshes == 1
    assert world.stored().refresh_value() != linked.refresh_value()
