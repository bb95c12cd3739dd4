"""`arconnect serve` on a machine without a keyring backend stops at start with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.connector.serve.conftest import ROOT


def test_serve_without_a_keyring_backend_stops_with_one_line_saying_how_to_configure_one() -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env.pop("ARCONNECT_SECRET_STORE", None)  # the default: the system keyring
    finished = subprocess.run(
        [sys.executable, "-c", "from connector.cli.main import main; main()", "serve"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert finished.returncode == 2
    assert finished.stdout == ""
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("error: no keyring backend on this machine")
    assert "ARCONNECT_SECRET_STORE=encrypted-file" in lines[0]
    assert "Traceback" not in finished.stderr
