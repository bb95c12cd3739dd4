"""``arconnect report aging|quarantine``: what the store knows, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from connector.cli.console import NAME_LIMIT, err, out, parse_date, plain, safe
from connector.errors import ConfigError
from connector.escaping import csv_row
from connector.reports import BUCKETS, AgingReport, amount_text, minor_unit

report_app = typer.Typer(help="Reports over the synced data.", no_args_is_help=True)


@report_app.command("aging")
def report_aging(
    name: Annotated[str | None, typer.Argument(help="Connection name (default: all)")] = None,
    connection: Annotated[str | None, typer.Option(hidden=True, help="Deprecated: name the connection as the argument")] = None,
    format: Annotated[str, typer.Option(help="table, csv or json")] = "table",
    on: Annotated[str | None, typer.Option(help="Report date YYYY-MM-DD (default: today, Europe/Amsterdam)")] = None,
) -> None:
    """Who owes what and how late: current, 1-30, 31-60, 61-90, 90+ days past due.

    CSV and JSON are one document over every connection (one header, one JSON value), amounts
    with exactly the currency's decimals.
    """
    from connector import config as cfg
    from connector.runtime import aging_reports, today

    if format not in ("table", "csv", "json"):
        raise ConfigError(f"unknown format {format!r}; use table, csv or json")
    if name is not None and connection is not None and name != connection:
        raise ConfigError(f"two connections named: {name!r} and --connection {connection!r}; name one, as the argument")
    if connection is not None:
        err.print(f"note: --connection is deprecated; write 'arconnect report aging {plain(connection)}'", markup=False, highlight=False)
    report_date = parse_date(on, "--on") if on else today()
    reports = aging_reports(name or connection, report_date)
    if not reports:
        raise ConfigError(f"no connections in {cfg.config_path()}: run 'arconnect link <package>' first")
    render_aging(reports, format, report_date)


@report_app.command("quarantine")
def report_quarantine(name: Annotated[str, typer.Argument(help="Connection name")]) -> None:
    """Records that did not map, with the reason."""
    from connector.runtime import quarantine_rows

    rows = quarantine_rows(name)
    if not rows:
        out.print("nothing in quarantine")
        return
    table = Table("stream", "source id", "reason", "seen")
    for row in rows:
        table.add_row(safe(row.stream), safe(row.source_id or "-", NAME_LIMIT), safe(row.reason), str(row.times_seen))
    out.print(table)


def render_aging(reports: list[tuple[str, AgingReport]], format: str, on: date) -> None:
    if format == "json":
        parts = [{"connection": name, **{k: v for k, v in report.as_dict().items() if k != "on"}} for name, report in reports]
        document = {"on": on.isoformat(), "connections": parts}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")  # ASCII: no control or bidi character reaches a terminal
        return
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["connection", "debtor_id", "debtor", "currency", "items", *BUCKETS, "total"])
        for name, report in reports:
            for row in [*report.rows, *(report.totals[c] for c in sorted(report.totals))]:
                writer.writerow(csv_row([
                    name, row.debtor_source_id, row.debtor_name, row.currency, row.items,
                    *(amount_text(row.buckets[b], row.currency) for b in BUCKETS), amount_text(row.total, row.currency),
                ]))
        sys.stdout.write(buffer.getvalue())
        return
    for name, report in reports:
        _aging_table(name, report)


def _aging_table(name: str, report: AgingReport) -> None:
    table = Table(title=safe(f"Aging {name} on {report.on.isoformat()}"), show_footer=False)
    # Amounts never wrap or get cut: a bookkeeper must read every digit; names may wrap.
    table.add_column("debtor", min_width=16, ratio=1)
    table.add_column("cur", no_wrap=True)
    for bucket in BUCKETS:
        table.add_column(bucket, justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)

    def shown(value: Decimal, currency: str) -> str:
        return f"{value:,.{minor_unit(currency)}f}"

    for row in report.rows:
        table.add_row(safe(row.debtor_name, NAME_LIMIT), safe(row.currency),
                      *(shown(row.buckets[b], row.currency) for b in BUCKETS), shown(row.total, row.currency))
    for currency, total in sorted(report.totals.items()):
        table.add_row(f"[bold]Total ({total.items} item{'' if total.items == 1 else 's'})[/bold]", safe(currency),
                      *(f"[bold]{shown(total.buckets[b], currency)}[/bold]" for b in BUCKETS),
                      f"[bold]{shown(total.total, currency)}[/bold]")
    out.print(table, crop=False)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
