"""``arconnect journal``: the record of what arconnect did, kept apart from the data it copies.

``rebuild NAME`` reads the package's own records of arconnect's steps back into a journal that was
lost (a new database; ``apply`` does it by itself and refuses to act until it has);
``purge NAME`` deletes the archived journal of a removed connection for good.
"""

from __future__ import annotations

from typing import Annotated

import typer

from connector import config as cfg
from connector.cli.console import out
from connector.errors import ConfigError

journal_app = typer.Typer(help="Rebuild or purge the journal of what arconnect did.", no_args_is_help=True)


@journal_app.command("rebuild")
def journal_rebuild(name: Annotated[str, typer.Argument(help="Connection name")]) -> None:
    """Read the package's records of arconnect's steps back into the journal (safe to repeat)."""
    from connector.actions.applying import ensure_journal
    from connector.runtime import open_store
    from connector.store.lease import connection_lease

    config = cfg.load_config()
    connection = config.connection(name)
    store = open_store()
    try:
        store.ensure_connection(connection.name, connection.package, connection.administration_name or connection.name)
        with connection_lease(connection.name):
            added = ensure_journal(config, connection, store)
    finally:
        store.close()
    out.print(f"{connection.name}: journal checked against the package; {added} step(s) restored", markup=False)


@journal_app.command("purge")
def journal_purge(
    name: Annotated[str, typer.Argument(help="Name of a removed connection")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Delete the archived journal of a removed connection for good."""
    from connector.runtime import open_store

    if name in cfg.load_config().connections:
        raise ConfigError(f"connection {name!r} is still configured: 'arconnect connections remove {name}' first")
    store = open_store()
    try:
        archived = store.archived_journals()
        if name not in archived:
            raise ConfigError(f"no archived journal of {name!r} (archived: {', '.join(sorted(archived)) or 'none'})")
        if not yes and not typer.confirm(
            f"Delete the {archived[name]} journal entries of {name} for good? Linking it again could then repeat steps "
            "unless the package still holds its records",
            default=False,
        ):
            out.print(f"journal of {name} kept", markup=False)
            raise typer.Exit(code=1)
        removed = store.purge_journal(name)
    finally:
        store.close()
    out.print(f"journal of {name} deleted ({removed} entries)", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(journal_app, name="journal")
