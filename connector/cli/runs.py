"""``arconnect runs list|undo``: the apply runs a connection's journal holds, and taking back one
that changed nothing outside arconnect (e.g. a mistyped future ``--date`` whose steps all failed).

The planner never lets the run date go back (rules/engine.py): a run on a wrong date would block
dunning until that date. ``undo`` forgets such a run, but only when none of its effects was done or
may have been (``pending``): what reached a package or a debtor is never forgotten.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from connector import config as cfg
from connector.cli.console import out, parse_date
from connector.errors import ConfigError
from connector.store.rows import LEFT_THE_BUILDING

runs_app = typer.Typer(help="List a connection's apply runs, or undo one that changed nothing outside arconnect.",
                       no_args_is_help=True)


@runs_app.command("list")
def runs_list(name: Annotated[str, typer.Argument(help="Connection name")]) -> None:
    """Every apply run in the journal, newest first, with what it recorded."""
    from connector.runtime import open_store

    connection = cfg.load_config().connection(name)
    store = open_store()
    try:
        runs = store.dunning_runs(connection.name)
    finally:
        store.close()
    if not runs:
        out.print(f"{connection.name}: no apply runs in the journal", markup=False)
        return
    table = Table("run date", "actions", "done", "pending", "already true", "failed", "unsupported", "undoable")
    for run in runs:
        table.add_row(
            run.run_date.isoformat(), str(run.total),
            *(str(run.states.get(state, 0)) for state in ("done", "pending", "already_true", "failed", "unsupported")),
            "yes" if run.undoable else "no",
        )
    out.print(table)


@runs_app.command("undo")
def runs_undo(
    name: Annotated[str, typer.Argument(help="Connection name")],
    date: Annotated[str, typer.Option("--date", help="The run date to undo (YYYY-MM-DD)")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Forget one run whose effects did not leave the building, so dunning can run on the right date."""
    from connector.runtime import open_store
    from connector.store.lease import connection_lease

    connection = cfg.load_config().connection(name)
    run_date = parse_date(date, "--date")
    store = open_store()
    try:
        with connection_lease(connection.name):
            runs = {run.run_date: run for run in store.dunning_runs(connection.name)}
            run = runs.get(run_date)
            if run is None:
                raise ConfigError(f"{connection.name}: no apply run on {run_date.isoformat()} "
                                  f"(see 'arconnect runs list {connection.name}')")
            if not run.undoable:
                raise ConfigError(f"{connection.name}: {run.why_not_undoable()}")
            if not yes and not typer.confirm(
                f"Forget the {run.total} journal entries of {connection.name}'s run on {run_date.isoformat()}? "
                f"None of them was {' or '.join(LEFT_THE_BUILDING)}", default=False,
            ):
                out.print("nothing undone")
                raise typer.Exit(code=1)
            removed = store.undo_dunning_run(connection.name, run_date)
    finally:
        store.close()
    out.print(f"{connection.name}: run of {run_date.isoformat()} undone ({removed} journal entries forgotten)",
              markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
