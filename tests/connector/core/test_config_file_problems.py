"""A config.yaml that is a YAML bomb, binary or unreadable gets one line with the path and what to
do, never a traceback or "internal error" (issue 11 §7, §15)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector import config as cfg
from connector.cli.main import main
from connector.errors import ConfigError
from tests.rules.test_yaml_bombs import BILLION_LAUGHS


def _arconnect(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    code = stopped.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err.splitlines()


def test_a_billion_laughs_config_is_one_line_with_file_line_and_column(arconnect_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg.config_path().parent.mkdir(parents=True)
    cfg.config_path().write_text(BILLION_LAUGHS, encoding="utf-8")
    code, err = _arconnect(["connections"], capsys)
    assert code != 0
    [line] = err
    assert line.startswith(f"error: {cfg.config_path()}:") and "YAML bomb" in line


def test_a_recursive_anchor_in_config_is_one_line(arconnect_home: Path) -> None:
    cfg.config_path().parent.mkdir(parents=True)
    cfg.config_path().write_text("connections: &c\n  x: *c\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.yaml:1:14: an alias refers to a value that contains it"):
        cfg.load_config()


def test_a_binary_config_says_which_file_and_what_to_do(arconnect_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg.config_path().parent.mkdir(parents=True)
    cfg.config_path().write_bytes(os.urandom(64) + b"\xff\xfe\x00\x00")
    code, err = _arconnect(["status"], capsys)
    assert code != 0
    [line] = err
    assert line.startswith(f"error: {cfg.config_path()}: not a text")
    assert "restore it from a backup" in line and "internal error" not in line


def test_a_corrupt_database_says_which_file_and_what_to_do(arconnect_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = cfg.data_dir() / "arconnect.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is no SQLite file at all; " * 200)
    code, err = _arconnect(["status"], capsys)
    assert code == 2
    [line] = err
    assert line.startswith(f"error: {database}: not a readable arconnect database")
    assert "restore it from a backup" in line


def test_an_unreachable_database_server_is_one_line(arconnect_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ARCONNECT_DATABASE_URL", "postgresql+psycopg://arconnect:hunter2@127.0.0.1:1/arconnect?connect_timeout=2")
    code, err = _arconnect(["status"], capsys)
    assert code == 2
    [line] = err
    assert line.startswith("error: database postgresql+psycopg://127.0.0.1:1/arconnect") and "not reachable" in line
    assert "hunter2" not in line and "ARCONNECT_DATABASE_URL" in line


def test_a_busy_port_for_a_sandbox_is_one_line_saying_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = _arconnect(["sandbox", "exact", "--port", str(port)], capsys)
    assert code == 2
    [line] = err
    assert line.startswith(f"error: cannot listen on 127.0.0.1:{port}") and "--port" in line
