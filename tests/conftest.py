"""Fixtures every test folder may use."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def arconnect_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh arconnect of its own: config and data under ``tmp_path``, secrets in a plain file
    (sandbox tokens only), the default SQLite store, and no SMTP password from the environment."""
    monkeypatch.setenv("ARCONNECT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "plain-file")
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    monkeypatch.delenv("ARCONNECT_SMTP_PASSWORD", raising=False)
    return tmp_path
