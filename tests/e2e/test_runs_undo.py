"""``arconnect runs list|undo`` (issue 11 point 3): a run on a wrong date whose effects never left
arconnect can be taken back, so dunning is not blocked until that date; one that did cannot."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from connector.errors import ArconnectError
from connector.model import ActionKind, ApplyOutcome, ApplyResult, PlannedAction
from connector.runtime import open_store, sync_connections, today
from rules.calendar import business_day_in_all
from tests.e2e.conftest import World


def invoke(*args: str) -> tuple[int, str]:
    from connector.cli.main import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if isinstance(result.exception, ArconnectError):  # what main() prints as "error: ..."
        return result.exception.exit_code, str(result.exception)
    return result.exit_code, result.stdout


def journal(world: World, day: str, states: list[ApplyOutcome]) -> None:
    """Journal entries of a run on ``day`` as an apply would leave them."""
    store = open_store()
    try:
        for number, state in enumerate(states):
            action = PlannedAction(
                idempotency_key=f"test-run-{day}-{number}", connection_id=world.connection,
                debtor_source_id=f"debtor-{number}", kind=ActionKind.REMINDER, step="reminder",
                channel="email", run_date=day, reason="test",
            )
            store.journal_begin(action)
            if state != ApplyOutcome.PENDING:
                store.journal_finish(action.idempotency_key, ApplyResult(outcome=state, reason="test"))
    finally:
        store.close()


def test_a_future_run_that_changed_nothing_is_undone_and_dunning_runs_again(world: World) -> None:
    sync_connections(world.connection)
    run = business_day_in_all(today(), ("NL",))
    mistyped = (run + timedelta(days=170)).isoformat()
    journal(world, mistyped, [ApplyOutcome.FAILED, ApplyOutcome.UNSUPPORTED, ApplyOutcome.ALREADY_TRUE])

    code, out = invoke("plan", world.connection, "--date", run.isoformat())
    assert code != 0 and "before the last run" in out, out  # blocked, as the engine promises

    code, out = invoke("runs", "list", world.connection)
    assert code == 0, out
    row = next(line for line in out.splitlines() if mistyped in line)
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == [mistyped, "3", "0", "0", "1", "1", "1", "yes"], row

    code, out = invoke("runs", "undo", world.connection, "--date", mistyped, "--yes")
    assert code == 0, out
    assert f"run of {mistyped} undone (3 journal entries forgotten)" in out
    code, out = invoke("plan", world.connection, "--date", run.isoformat())
    assert code == 0, out


def test_a_run_with_an_effect_that_was_done_or_may_have_been_is_never_undone(world: World) -> None:
    sync_connections(world.connection)
    day = (today() + timedelta(days=30)).isoformat()
    journal(world, day, [ApplyOutcome.FAILED, ApplyOutcome.DONE, ApplyOutcome.PENDING])
    code, out = invoke("runs", "undo", world.connection, "--date", day, "--yes")
    assert code != 0
    assert f"the run of {day} cannot be undone: 1 done, 1 pending" in " ".join(out.split()), out
    store = open_store()
    try:
        assert [run.total for run in store.dunning_runs(world.connection) if run.run_date.isoformat() == day] == [3]
    finally:
        store.close()


def test_undo_of_a_date_without_a_run_names_the_list_command(world: World) -> None:
    code, out = invoke("runs", "undo", world.connection, "--date", "2026-01-05", "--yes")
    assert code != 0
    assert f"no apply run on 2026-01-05 (see 'arconnect runs list {world.connection}')" in " ".join(out.split())
