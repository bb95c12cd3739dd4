"""``arconnect link``, ``sync`` and ``connections``: what is linked, and keeping its copy fresh."""

from __future__ import annotations

import sys
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Table

from connector import config as cfg
from connector.auth.linking import is_pattern, read_division_file
from connector.cli.console import err, out, plain
from connector.cli.console import safe as escape
from connector.errors import ConfigError
from connector.model import Administration
from connector.packages import known_packages

connections_app = typer.Typer(help="List or remove linked administrations.", invoke_without_command=True)


#: Above this many rows (and without --credential, --filter or --all) the list shows one line per credential.
SUMMARY_ABOVE = 50
#: ``arconnect link`` names each new connection up to this many, then counts the rest.
NAMED_AFTER_LINK = 20


def matches(connection: cfg.ConnectionConfig, pattern: str) -> bool:
    """``--filter``: a shell pattern (``*``, ``?``, ``[``) or else a piece of text, ignoring case, on the
    connection's name, administration number or administration name."""
    fields = (connection.name, connection.administration, connection.administration_name or "")
    needle = pattern.casefold()
    if is_pattern(pattern):
        return any(fnmatchcase(f.casefold(), needle) for f in fields)
    return any(needle in f.casefold() for f in fields)


def grouped(config: cfg.Config, credential: str | None, pattern: str | None) -> dict[str, list[cfg.ConnectionConfig]]:
    """The connections to show, by credential (both sorted by name)."""
    if credential is not None and credential not in config.credentials:
        known = ", ".join(sorted(config.credentials)) or "none"
        raise ConfigError(f"unknown credential {credential!r}; known: {known}")
    groups: dict[str, list[cfg.ConnectionConfig]] = {}
    for name in sorted(config.connections):
        connection = config.connections[name]
        if credential is not None and connection.credential != credential:
            continue
        if pattern and not matches(connection, pattern):
            continue
        groups.setdefault(connection.credential, []).append(connection)
    return dict(sorted(groups.items()))


@connections_app.callback()
def connections_list(
    ctx: typer.Context,
    credential: Annotated[str | None, typer.Option(help="Only the connections of this credential")] = None,
    filter_: Annotated[str | None, typer.Option("--filter", help="Only connections whose name, number or administration name contains this text or matches this pattern (e.g. '*holding*')")] = None,
    all_rows: Annotated[bool, typer.Option("--all", help=f"List every connection, even more than {SUMMARY_ABOVE}")] = False,
) -> None:
    """Show where the configuration lives and what is linked, grouped by credential."""
    if ctx.invoked_subcommand is not None:
        return
    config = cfg.load_config()
    out.print(f"config file: {cfg.config_path()}", markup=False)
    out.print(f"data dir:    {cfg.data_dir()}", markup=False)
    out.print(f"database:    {_safe_url(cfg.database_url())}", markup=False)
    if not config.connections:
        out.print("No connections yet: run 'arconnect link <package>'.")
        return
    groups = grouped(config, credential, filter_)
    shown = sum(len(rows) for rows in groups.values())
    if not shown:
        out.print(f"No connection matches (of {len(config.connections)}).", markup=False)
        return
    if shown > SUMMARY_ABOVE and not (all_rows or credential or filter_):
        _print_summary(config, groups)
        return
    for name, rows in groups.items():
        found = config.credentials.get(name)
        where = f"{found.package}, {found.host}" if found else "credential missing from the configuration"
        title = f"{name} ({where}): {len(rows)} connection(s)"
        out.print(title, markup=False, highlight=False)
        table = Table("name", "administration", "country", "rules")
        for connection in rows:
            table.add_row(
                escape(connection.name),
                escape(f"{connection.administration} {connection.administration_name or ''}".strip()),
                connection.country,
                escape(connection.rules_file or "-"),
            )
        out.print(table)
    if shown < len(config.connections):
        out.print(f"{shown} of {len(config.connections)} connections shown.", markup=False)


def _print_summary(config: cfg.Config, groups: dict[str, list[cfg.ConnectionConfig]]) -> None:
    table = Table("credential", "package", "host", "connections", "NL", "BE", "with rules",
                  title=f"{len(config.connections)} connections", title_justify="left")
    for name, rows in groups.items():
        found = config.credentials.get(name)
        table.add_row(
            escape(name), found.package if found else "?", escape(found.host) if found else "?", str(len(rows)),
            str(sum(1 for c in rows if c.country == "NL")), str(sum(1 for c in rows if c.country == "BE")),
            str(sum(1 for c in rows if c.rules_file)),
        )
    out.print(table)
    out.print("List them with --credential NAME, --filter TEXT (or a pattern such as '*holding*'), or --all.",
              markup=False)


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
    division: Annotated[list[str] | None, typer.Option(help="Administration to connect: its number, or a pattern on number or name such as '12*' or '*holding*' (repeat for more)")] = None,
    divisions_file: Annotated[Path | None, typer.Option(help="A file with one administration number or pattern a line (# comments)")] = None,
    all_divisions: Annotated[bool, typer.Option("--all", help="Connect every administration granted without asking")] = False,
) -> None:
    """Link an administration over OAuth2 (browser consent, loopback redirect on 127.0.0.1).

    An accountant's login may reach hundreds of administrations: choose them with --division,
    --divisions-file or --all; without any, a terminal asks (all by default) and a script gets all.
    """
    from connector.runtime import link_package

    entries = list(division or [])
    if divisions_file is not None:
        entries += read_division_file(divisions_file)
    if all_divisions and entries:
        raise ConfigError("--all connects every administration granted: leave out --division and --divisions-file")
    ask = None if all_divisions or entries or not sys.stdin.isatty() else _ask
    with _ReadProgress() as progress:
        created = link_package(
            package,
            region=region,
            client_id=client_id,
            redirect_uri=redirect_uri,
            credential_name=name,
            host=host,
            open_browser=not no_browser,
            divisions=entries,
            say=lambda text: None,  # the summary is printed below, after the list
            progress=progress,
            ask=lambda administrations: progress.paused(lambda: ask(administrations)) if ask else [],
        )
    for connection in created[:NAMED_AFTER_LINK]:
        out.print(
            plain(f"linked {connection.name}: {connection.package} administration {connection.administration} "
                  f"{connection.administration_name or ''}"),
            markup=False, highlight=False,
        )
    if len(created) > NAMED_AFTER_LINK:
        credential = created[0].credential
        out.print(f"... and {len(created) - NAMED_AFTER_LINK} more: arconnect connections --credential {credential}",
                  markup=False, highlight=False)
    if created:
        out.print(f"credential {created[0].credential} linked; {len(created)} administration(s) connected",
                  markup=False, highlight=False)
    else:
        out.print("linked; no administration connected", markup=False, highlight=False)


def _ask(administrations: list[Administration]) -> list[str]:
    """In a terminal, with no choice given: which of the administrations granted to connect."""
    err.print(f"This link reaches {len(administrations)} administrations, for example:", markup=False)
    for admin in administrations[:5]:
        err.print(plain(f"  {admin.source_id}  {admin.name}"), markup=False, highlight=False)
    answer = typer.prompt(
        "Connect which? 'all', or numbers and patterns separated by commas (e.g. 12*, *holding*)",
        default="all", err=True,
    )
    text = answer.strip()
    if text.lower() in ("", "all"):
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


class _ReadProgress:
    """A spinner on stderr counting the administrations read, shown from the first one on (so it never
    draws over the OAuth prompt), and only in a terminal."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, read: int) -> None:
        if not err.is_terminal:
            return
        if self._progress is None:
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("", total=None)
        if self._task is not None:
            self._progress.update(self._task, description=f"reading the administrations granted: {read}")

    def paused(self, run: Callable[[], list[str]]) -> list[str]:
        self.__exit__()
        return run()

    def __enter__(self) -> _ReadProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None


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
