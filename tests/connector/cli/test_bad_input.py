"""Bad input gets one clear line and a non-zero exit, never a traceback (issue 2, "Done when").

Each case runs the real console entry point in a child process, against a real Exact sandbox on
127.0.0.1 that was linked through its OAuth redirect, so what a bookkeeper sees is what is tested.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.exact.sandbox import serve_exact
from connector import config as cfg
from connector.cli.demo import DemoBrowser, free_port
from connector.runtime import link_package
from connector.sandbox import RunningServer

CLIENT_ID = "cli-client"
CLIENT_SECRET = "cli-secret"


@dataclass
class Linked:
    server: RunningServer
    env: dict[str, str]
    connection: str


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from connector.cli.main import main; main()", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error output: exactly one non-empty line, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "ARCONNECT_CONFIG_DIR": str(tmp_path / "config"),
        "ARCONNECT_DATA_DIR": str(tmp_path / "data"),
        "ARCONNECT_SECRET_STORE": "plain-file",
        "COLUMNS": "200",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    monkeypatch.delenv("ARCONNECT_DEBUG", raising=False)
    return {**os.environ, **values}


@pytest.fixture
def linked(env: dict[str, str]) -> Iterator[Linked]:
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    server = serve_exact(0, seed=11, size="small", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=redirect_uri)
    try:
        connections = link_package(
            "exact", region="nl", client_id=CLIENT_ID, redirect_uri=redirect_uri, credential_name="exact-cli",
            host=server.url, open_browser=True, divisions=[], say=lambda _text: None, opener=DemoBrowser(),
            client_secret_value=CLIENT_SECRET,
        )
        yield Linked(server=server, env=env, connection=connections[0].name)
    finally:
        server.stop()


def test_an_unknown_connection_is_named_with_the_known_ones(linked: Linked) -> None:
    line = one_clear_line(run_cli(linked.env, "sync", "no-such-administration"))
    assert "unknown connection 'no-such-administration'" in line
    assert linked.connection in line


def test_a_refresh_token_that_is_no_longer_valid_asks_for_a_re_link(linked: Linked) -> None:
    # 31 days on, Exact's access token and its 30-day refresh token have both lapsed.
    linked.server.app.clock.advance(timedelta(days=31).total_seconds())
    result = run_cli(linked.env, "sync", linked.connection)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert "re-link" in result.stderr.lower() or "relink" in result.stderr.lower()
    assert "arconnect link" in result.stderr


def test_an_unreachable_host_is_one_line_that_names_the_host(linked: Linked) -> None:
    config = cfg.load_config()
    dead = f"http://127.0.0.1:{free_port()}"
    credential = config.credentials["exact-cli"].model_copy(update={"host": dead})
    config.credentials["exact-cli"] = credential
    cfg.save_config(config)
    result = run_cli(linked.env, "sync", linked.connection)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert "127.0.0.1" in result.stderr


def test_no_keyring_backend_says_how_to_configure_one(env: dict[str, str]) -> None:
    headless = {**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    headless.pop("ARCONNECT_SECRET_STORE")
    line = one_clear_line(run_cli(headless, "link", "exact", "--client-id", "x", "--no-browser"))
    assert "ARCONNECT_SECRET_STORE=encrypted-file" in line
    assert "ARCONNECT_SECRETS_PASSPHRASE" in line


def test_a_malformed_record_is_quarantined_reported_and_the_sync_goes_on(linked: Linked) -> None:
    linked.server.app.faults.malformed(endpoint="sync/Cashflow/PaymentTerms")
    result = run_cli(linked.env, "sync", linked.connection)
    assert result.returncode == 0, result.stderr
    assert "1 quarantined" in result.stdout
    assert f"arconnect report quarantine {linked.connection}" in result.stdout
    report = run_cli(linked.env, "report", "quarantine", linked.connection)
    assert report.returncode == 0, report.stderr
    assert "open_items" in report.stdout


def test_a_secret_never_reaches_the_screen_when_a_sync_fails(linked: Linked) -> None:
    linked.server.app.clock.advance(timedelta(days=31).total_seconds())
    result = run_cli(linked.env, "-v", "sync", linked.connection)
    assert CLIENT_SECRET not in result.stdout + result.stderr
    secrets_file = next(Path(linked.env["ARCONNECT_DATA_DIR"]).rglob("*secret*"), None)
    assert secrets_file is not None
    values = _token_like_values(secrets_file)
    assert len(values) >= 2  # at least the client secret and a refresh token are on file
    for value in values:
        assert value not in result.stdout + result.stderr


def _token_like_values(path: Path) -> list[str]:
    import json

    data = json.loads(path.read_text())
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, str):
            if len(value) >= 16:
                found.append(value)
            elif value.startswith("{"):
                walk(json.loads(value))

    walk(data)
    for text in list(found):
        if text.startswith("{"):
            walk(json.loads(text))
    return [v for v in found if not v.startswith("{")]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("promise", "add", "1001", "--amount", "lots", "--date", "2026-03-01"), "--amount: not an amount"),
        (("promise", "add", "1001", "--amount", "10", "--date", "1 maart"), "--date: not a date"),
        (("dispute", "add", "no-such-debtor", "--reason", "x"), "no debtor 'no-such-debtor'"),
        (("dispute", "add", "1001", "--reason", "x", "--category", "weather"), "unknown dispute category"),
        (("plan-agreement", "add", "1001", "--every", "fortnight", "--count", "2", "--first", "2026-03-01"), "--every"),
        (("report", "kpi", "--format", "pdf"), "unknown format 'pdf'"),
        (("report", "kpi", "--from", "2026-05-01", "--to", "2026-04-01"), "is before --from"),
    ],
)
def test_bad_input_at_the_desk_is_one_clear_line(linked: Linked, args: tuple[str, ...], expected: str) -> None:
    sync = run_cli(linked.env, "sync", linked.connection)
    assert sync.returncode == 0, sync.stderr
    line = one_clear_line(run_cli(linked.env, *args, *(("-c", linked.connection) if args[0] != "report" else ())))
    assert expected in line
