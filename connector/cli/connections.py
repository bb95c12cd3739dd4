"""``arconnect link``, ``sync`` and ``connections``: what is linked, and keeping its copy fresh."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from connector import config as cfg
from connector.cli.console import err, out, plain
from connector.cli.console import safe as escape
from connector.packages import known_packages

connections_app = typer.Typer(help="List or remove linked administrations.", invoke_without_command=True)


@connections_app.callback()
def connections_list(ctx: typer.Context) -> None:
    """Show where the configuration lives and what is linked."""
    if ctx.invoked_subcommand is not None:
        return
    config = cfg.load_config()
    out.print(f"config file: {cfg.config_path()}", markup=False)
    out.print(f"data dir:    {cfg.data_dir()}", markup=False)
    out.print(f"database:    {_safe_url(cfg.database_url())}", markup=False)
    if not config.connections:
        out.print("No connections yet: run 'arconnect link <package>'.")
        return
    table = Table("name", "package", "administration", "credential", "country", "rules")
    for name, connection in sorted(config.connections.items()):
        table.add_row(
            escape(name),
            connection.package,
            escape(f"{connection.administration} {connection.administration_name or ''}".strip()),
            escape(connection.credential),
            connection.country,
            escape(connection.rules_file or "-"),
        )
    out.print(table)


@connections_app.command("remove")
def connections_remove(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove a connection: its configuration and its copy of the package's data. Its journal (what
    arconnect did) is archived, so linking it again never repeats a step; 'arconnect journal purge'
    deletes it for good."""
    from connector.runtime import remove_connection

    cfg.load_config().connection(name)  # an unknown name is one line, before any question
    if not yes and not typer.confirm(
        f"Remove connection {name}? Its configuration and local copy are deleted; its journal is kept", default=False
    ):
        out.print(f"connection {name} not removed", markup=False)
        raise typer.Exit(code=1)
    kept = remove_connection(name)
    out.print(f"removed connection {name}; its journal ({kept} entries) is archived: linking it again "
              f"never repeats a step. To delete it for good: arconnect journal purge {name}", markup=False)


def _safe_url(url: str) -> str:
    from connector.http import redact_url

    if url.startswith("sqlite"):
        return url
    return redact_url(url)


def link(
    package: Annotated[str, typer.Argument(help=f"The package: {', '.join(known_packages())}")],
    region: Annotated[str, typer.Option(help="Host country of the package (Exact: nl, be, de, uk, fr, es, us)")] = "nl",
    client_id: Annotated[str | None, typer.Option(help="Your app's client id (from the package's app registration)")] = None,
    redirect_uri: Annotated[str, typer.Option(help="Registered redirect URI (loopback, fixed port)")] = "http://127.0.0.1:8765/callback",
    name: Annotated[str | None, typer.Option(help="Name of the credential (default: package-region)")] = None,
    host: Annotated[str | None, typer.Option(help="Override the package host (e.g. a sandbox URL)")] = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the URL and paste the redirect URL back")] = False,
    division: Annotated[list[str] | None, typer.Option(help="Administrations to connect (default: all granted)")] = None,
) -> None:
    """Link an administration over OAuth2 (browser consent, loopback redirect on 127.0.0.1)."""
    from connector.runtime import link_package

    created = link_package(
        package,
        region=region,
        client_id=client_id,
        redirect_uri=redirect_uri,
        credential_name=name,
        host=host,
        open_browser=not no_browser,
        divisions=division or [],
        say=lambda text: out.print(plain(text), markup=False, highlight=False),
    )
    for connection in created:
        out.print(
            plain(f"linked {connection.name}: {connection.package} administration {connection.administration} "
                  f"{connection.administration_name or ''}"),
            markup=False, highlight=False,
        )


def sync(
    name: Annotated[str | None, typer.Argument(help="Connection name (default: all)")] = None,
    full: Annotated[bool, typer.Option("--full", help="Read everything again (a full reconcile), not only what changed")] = False,
) -> None:
    """Bring the local copy up to date: debtors, open items, payments."""
    from connector.runtime import sync_connections

    reports = sync_connections(name, console=out, full=full)
    failed = [r for r in reports if r.error]
    for r in reports:
        if r.error:
            err.print(f"[red]{escape(r.connection)}[/red]: {escape(r.error)}")
        else:
            line = f"{r.connection}: {r.stored} records stored, {r.quarantined} quarantined, {r.api_calls} API calls"
            out.print(plain(line), markup=False)
            if r.quarantined:
                out.print(f"  {r.quarantined} record(s) did not map; see 'arconnect report quarantine {r.connection}'",
                          markup=False)
    if failed:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.add_typer(connections_app, name="connections")
    app.command()(link)
    app.command()(sync)
