"""``arconnect connections`` stays readable with 2,000 rows, and ``arconnect link`` takes a choice
among hundreds (issue 15 §2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector import config as cfg
from connector.cli.main import app
from connector.errors import ConfigError

FIRMS = {"firm-a": 1500, "firm-b": 500}


@pytest.fixture
def firm_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> cfg.Config:
    monkeypatch.setenv("ARCONNECT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    config = cfg.Config()
    code = 10_000
    for credential, count in FIRMS.items():
        config.credentials[credential] = cfg.CredentialConfig(
            name=credential, package="exact", host="https://start.exactonline.nl", client_id=f"{credential}-app")
        for index in range(count):
            name = f"exact-{code}"
            config.connections[name] = cfg.ConnectionConfig(
                name=name, credential=credential, package="exact", administration=str(code),
                administration_name=f"Klant {index:04d} {'Holding' if index % 250 == 0 else 'B.V.'}",
                country="BE" if index % 4 == 0 else "NL")
            code += 1
    cfg.save_config(config)
    return config


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_two_thousand_connections_are_summed_up_per_credential(firm_config: cfg.Config) -> None:
    shown = run("connections")
    assert "2000 connections" in shown
    lines = [line for line in shown.splitlines() if "firm-" in line]
    assert len(lines) == 2
    assert "1500" in lines[0] and "1125" in lines[0] and "375" in lines[0]  # connections, NL, BE
    assert "500" in lines[1]
    assert "--credential NAME, --filter TEXT" in shown
    assert "exact-10000" not in shown  # no row of its own


def test_a_credential_or_a_filter_lists_the_rows_under_their_credential(firm_config: cfg.Config) -> None:
    shown = run("connections", "--credential", "firm-b")
    assert "firm-b (exact, https://start.exactonline.nl): 500 connection(s)" in shown
    assert "exact-11500" in shown and "exact-11999" in shown and "exact-10000" not in shown
    assert "500 of 2000 connections shown." in shown

    holdings = run("connections", "--filter", "*holding*")
    assert "firm-a (exact, https://start.exactonline.nl): 6 connection(s)" in holdings
    assert "firm-b (exact, https://start.exactonline.nl): 2 connection(s)" in holdings
    assert "8 of 2000 connections shown." in holdings

    one = run("connections", "--filter", "klant 0042")
    assert "exact-10042" in one and "exact-11542" in one and "2 of 2000" in one


def test_an_unknown_credential_is_named_with_the_known_ones(firm_config: cfg.Config) -> None:
    result = CliRunner().invoke(app, ["connections", "--credential", "nope"])
    assert isinstance(result.exception, ConfigError)  # one line from the console entry (connector.cli.main)
    assert str(result.exception) == "unknown credential 'nope'; known: firm-a, firm-b"


def test_all_lists_every_row(firm_config: cfg.Config) -> None:
    shown = run("connections", "--all")
    assert all(f"exact-{code}" in shown for code in (10_000, 10_999, 11_999))


def test_link_refuses_all_together_with_a_choice_before_any_browser_opens(firm_config: cfg.Config, tmp_path: Path) -> None:
    listing = tmp_path / "divisions.txt"
    listing.write_text("# our clients\n10001\n12*  # the twelve-thousands\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["link", "exact", "--client-id", "x", "--all", "--divisions-file", str(listing)])
    assert isinstance(result.exception, ConfigError)
    assert "--all connects every administration granted" in str(result.exception)
