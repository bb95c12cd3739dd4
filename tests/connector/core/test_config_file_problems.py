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
