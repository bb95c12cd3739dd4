"""The command line as a person meets it (issue 11 §15): a version, help without Python type tags,
and a connection named the same way in every command."""

from __future__ import annotations

from importlib.metadata import version

import pytest
import typer
from typer.testing import CliRunner

from connector.cli.main import app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "120"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_version() -> None:
    assert run("--version") == (0, f"arconnect {version('arconnect')}\n")


def _commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [(*prefix, c.name or (c.callback.__name__ if c.callback else "")) for c in group.registered_commands]
    for sub in group.registered_groups:
        if sub.typer_instance is not None and sub.name:
            found += _commands(sub.typer_instance, (*prefix, sub.name))
    return found


COMMANDS = _commands(app)


@pytest.mark.parametrize("command", [(), *COMMANDS], ids=lambda c: " ".join(c) or "arconnect")
def test_help_shows_no_python_type_tags(command: tuple[str, ...]) -> None:
    code, out = run(*command, "--help")
    assert code == 0
    for tag in ("<bool>", "<str>", "<int>", "<float>", "<Path>", "<list"):
        assert tag not in out, f"{' '.join(command)} --help shows {tag}"


@pytest.mark.parametrize("command", [
    ("sync",), ("plan",), ("apply",), ("report", "aging"), ("report", "quarantine"), ("report", "calls"),
    ("mail", "checks"), ("connections", "remove"),
])
def test_every_command_names_its_connection_as_the_argument(command: tuple[str, ...]) -> None:
    _, out = run(*command, "--help")
    assert "[name]" in out or " name " in out.lower().replace("*", " ")
    assert "--connection" not in out  # the old option of report aging still works, hidden


def test_report_aging_still_takes_the_deprecated_option_and_refuses_two_names(arconnect_home: object) -> None:
    result = CliRunner().invoke(app, ["report", "aging", "a", "--connection", "b"])
    assert result.exit_code != 0
    assert "two connections named" in str(result.exception)


def test_the_deprecated_option_still_works_and_says_how_to_write_it(arconnect_home: object) -> None:
    result = CliRunner().invoke(app, ["report", "aging", "--connection", "exact-101", "--format", "json"])
    assert "--connection is deprecated; write 'arconnect report aging exact-101'" in result.stderr
    assert "unknown connection 'exact-101'" in str(result.exception)  # it was looked up as the argument would be
