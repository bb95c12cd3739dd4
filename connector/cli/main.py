"""The ``arconnect`` command line (typer + rich).

Every command ends in one clear line on failure and a non-zero exit, never a traceback:
:func:`main` turns :class:`~connector.errors.ArconnectError` into ``error: …`` with the error's
exit code. ``ARCONNECT_DEBUG=1`` shows tracebacks of unexpected errors for developers.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import threading
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from adapters.moneybird import cli as cli_moneybird
from connector import config as cfg
from connector.cli import apply as cli_apply
from connector.cli import costs as cli_costs
from connector.cli import rules as cli_rules
from connector.cli import serve as cli_serve
from connector.errors import ArconnectError, ConfigError
from connector.reports import BUCKETS, AgingReport

app = typer.Typer(
    name="arconnect",
    help="Credit management for Exact Online, Moneybird, Twinfield and Adsolut.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
connections_app = typer.Typer(help="List or remove linked administrations.", invoke_without_command=True)
report_app = typer.Typer(help="Reports over the synced data.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Run a package simulator on 127.0.0.1.", no_args_is_help=True)
app.add_typer(connections_app, name="connections")
app.add_typer(report_app, name="report")
app.add_typer(sandbox_app, name="sandbox")

# Piped output (CI logs, `| less`) gets room for an aging table instead of rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 132)
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long


def _setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging (secrets stay redacted).")] = False) -> None:
    _setup_logging(verbose)


# --------------------------------------------------------------------------- connections


@connections_app.callback()
def connections_list(ctx: typer.Context) -> None:
    """Show where the configuration lives and what is linked."""
    if ctx.invoked_subcommand is not None:
        return
    config = cfg.load_config()
    out.print(f"config file: {cfg.config_path()}")
    out.print(f"data dir:    {cfg.data_dir()}")
    out.print(f"database:    {_safe_url(cfg.database_url())}")
    if not config.connections:
        out.print("No connections yet: run 'arconnect link exact'.")
        return
    table = Table("name", "package", "administration", "credential", "country", "rules")
    for name, connection in sorted(config.connections.items()):
        table.add_row(
            name,
            connection.package,
            f"{connection.administration} {connection.administration_name or ''}".strip(),
            connection.credential,
            connection.country,
            connection.rules_file or "-",
        )
    out.print(table)


@connections_app.command("remove")
def connections_remove(name: str) -> None:
    """Remove a connection: its configuration and every row of it in the store."""
    from connector.runtime import remove_connection

    remove_connection(name)
    out.print(f"removed connection {name}")


def _safe_url(url: str) -> str:
    from connector.http import redact_url

    if url.startswith("sqlite"):
        return url
    return redact_url(url)


# --------------------------------------------------------------------------- link and sync


@app.command()
def link(
    package: Annotated[str, typer.Argument(help="exact, moneybird or twinfield (adsolut follows)")],
    region: Annotated[str, typer.Option(help="Exact host country: nl, be, de, uk, fr, es, us")] = "nl",
    client_id: Annotated[str | None, typer.Option(help="Your app's client id (App Center)")] = None,
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
        say=out.print,
    )
    for connection in created:
        out.print(f"linked {connection.name}: {connection.package} administration {connection.administration} {connection.administration_name or ''}")


@app.command()
def sync(name: Annotated[str | None, typer.Argument(help="Connection name (default: all)")] = None) -> None:
    """Bring the local copy up to date: debtors, open items, payments."""
    from connector.runtime import sync_connections

    reports = sync_connections(name, console=out)
    failed = [r for r in reports if r.error]
    for r in reports:
        if r.error:
            err.print(f"[red]{r.connection}[/red]: {r.error}")
        else:
            line = f"{r.connection}: {r.stored} records stored, {r.quarantined} quarantined, {r.api_calls} API calls"
            out.print(line)
            if r.quarantined:
                out.print(f"  {r.quarantined} record(s) did not map; see 'arconnect report quarantine {r.connection}'")
    if failed:
        raise typer.Exit(code=1)


# --------------------------------------------------------------------------- reports


@report_app.command("aging")
def report_aging(
    connection: Annotated[str | None, typer.Option(help="Connection name (default: all)")] = None,
    format: Annotated[str, typer.Option(help="table, csv or json")] = "table",
    on: Annotated[str | None, typer.Option(help="Report date YYYY-MM-DD (default: today, Europe/Amsterdam)")] = None,
) -> None:
    """Who owes what and how late: current, 1-30, 31-60, 61-90, 90+ days past due."""
    from connector.runtime import aging_reports, today

    if format not in ("table", "csv", "json"):
        raise ConfigError(f"unknown format {format!r}; use table, csv or json")
    report_date = _parse_date(on, "--on") if on else today()
    for name, report in aging_reports(connection, report_date):
        render_aging(name, report, format)


@report_app.command("quarantine")
def report_quarantine(connection: str) -> None:
    """Records that did not map, with the reason."""
    from connector.runtime import quarantine_rows

    rows = quarantine_rows(connection)
    if not rows:
        out.print("nothing in quarantine")
        return
    table = Table("stream", "source id", "reason", "seen")
    for row in rows:
        table.add_row(row.stream, row.source_id or "-", row.reason, str(row.times_seen))
    out.print(table)


def render_aging(name: str, report: AgingReport, format: str) -> None:
    if format == "json":
        sys.stdout.write(json.dumps({"connection": name, **report.as_dict()}, indent=2) + "\n")
        return
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["connection", "debtor_id", "debtor", "currency", "items", *BUCKETS, "total"])
        for row in [*report.rows, *report.totals.values()]:
            writer.writerow([name, row.debtor_source_id, row.debtor_name, row.currency, row.items, *(row.buckets[b] for b in BUCKETS), row.total])
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(title=f"Aging {name} on {report.on.isoformat()}", show_footer=False)
    # Amounts never wrap or get cut: a bookkeeper must read every digit; names may wrap.
    table.add_column("debtor", min_width=16, ratio=1)
    table.add_column("cur", no_wrap=True)
    for bucket in BUCKETS:
        table.add_column(bucket, justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    for row in report.rows:
        table.add_row(row.debtor_name, row.currency, *(f"{row.buckets[b]:,.2f}" for b in BUCKETS), f"{row.total:,.2f}")
    for currency, total in sorted(report.totals.items()):
        table.add_row(f"[bold]Total ({total.items} item{'' if total.items == 1 else 's'})[/bold]", currency, *(f"[bold]{total.buckets[b]:,.2f}[/bold]" for b in BUCKETS), f"[bold]{total.total:,.2f}[/bold]")
    out.print(table, crop=False)


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None


# --------------------------------------------------------------------------- sandbox and demo


@sandbox_app.command("exact")
def sandbox_exact(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 8800,
    seed: Annotated[int, typer.Option(help="Seed of the generated data")] = 42,
    size: Annotated[str, typer.Option(help="small, or a number of payment terms per division")] = "small",
) -> None:
    """Serve the Exact Online simulator on 127.0.0.1 until Ctrl-C."""
    from adapters.exact.sandbox import serve_exact

    server = serve_exact(port, seed=seed, size=size)
    out.print(f"Exact Online sandbox on {server.url} (client id arconnect-demo, secret demo-secret); Ctrl-C stops it")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


@app.command()
def demo(
    keep: Annotated[bool, typer.Option(help="Keep the demo data dir of an earlier run")] = False,
) -> None:
    """Try arconnect without an account: sandbox on loopback, real OAuth link, sync, aging."""
    from connector.cli.demo import run_demo

    run_demo(console=out, keep=keep)


# Commands that live in modules of their own (each adds its commands to ``app``).
for _module in (cli_rules, cli_apply, cli_costs, cli_serve, cli_moneybird):
    _module.register(app)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: one clear line and an exit code for every expected failure."""
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except ArconnectError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("ARCONNECT_DEBUG"):
            raise
        if isinstance(exc, typer.TyperException):  # usage errors: typer's own one-line message
            show = getattr(exc, "show", None)
            if callable(show):
                show()
            else:
                err.print(f"error: {exc.format_message()}", markup=False, highlight=False)
            sys.exit(exc.exit_code)
        err.print(f"internal error: {type(exc).__name__}: {exc} (set ARCONNECT_DEBUG=1 for details)", markup=False)
        sys.exit(70)
