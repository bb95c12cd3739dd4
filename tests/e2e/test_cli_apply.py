"""``arconnect apply``, ``report calls`` and ``mail checks`` as a bookkeeper types them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from connector.cli.main import app, main
from connector.errors import ConfigError
from connector.runtime import sync_connections, today
from rules.calendar import business_day_in_all
from tests.e2e.conftest import World


def invoke(*args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_apply_shows_the_plan_and_does_nothing_unless_confirmed(world: World) -> None:
    sync_connections(world.connection)
    run = business_day_in_all(today(), ("NL",)).isoformat()  # letters go out on business days only
    code, out = invoke("apply", world.connection, "--date", run, "--allow-future", stdin="n\n")
    assert code == 0, out
    assert f"Plan {world.connection}" in out
    assert "Apply these" in out
    assert f"{world.connection}: nothing applied (not confirmed)" in out
    assert world.smtp.received == []
    assert world.sandbox.notes(world.division) == []

    code, out = invoke("apply", world.connection, "--date", run, "--yes", "--allow-future")
    assert code == 0, out
    assert "Plan " not in out
    sent = len(world.smtp.received)
    assert sent > 0
    assert f"{sent} e-mail(s) sent" in out

    code, out = invoke("report", "calls", world.connection, "--format", "csv", "--all")
    assert code == 0
    assert out.splitlines()[0] == "date,debtor_code,debtor,phone,amount,currency,items,reason,key"
    code, out = invoke("mail", "checks", world.connection)
    assert (code, out.strip()) == (0, "no e-mails to check")


def test_a_bad_date_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["apply", "exact-1", "--date", "30-11-2026"])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "error: --date: not a date (YYYY-MM-DD): '30-11-2026'"


def test_a_future_run_date_is_refused_unless_allowed(world: World) -> None:
    """Issue 11.3: a mistyped future --date would block every run before it ("the run date never goes back")."""
    from datetime import timedelta

    sync_connections(world.connection)
    future = (today() + timedelta(days=170)).isoformat()
    with pytest.raises(ConfigError, match="--allow-future"):
        invoke("apply", world.connection, "--date", future, "--yes")
    assert world.smtp.received == []
    code, out = invoke("apply", world.connection, "--date", run_date_today(), "--yes", "--allow-future")
    assert code == 0, out  # nothing was recorded under the future date: today still works


def run_date_today() -> str:
    return business_day_in_all(today(), ("NL",)).isoformat()
