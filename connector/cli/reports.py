"""``arconnect report aging|quarantine``: what the store knows, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from connector.cli.console import out, parse_date
from connector.errors import ConfigError
from connector.reports import BUCKETS, AgingReport

report_app = typer.Typer(help="Reports over the synced data.", no_args_is_help=True)


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
    report_date = parse_date(on, "--on") if on else today()
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
        table.add_row(row.stream, escape(row.source_id or "-"), escape(row.reason), str(row.times_seen))
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
    table = Table(title=escape(f"Aging {name} on {report.on.isoformat()}"), show_footer=False)
    # Amounts never wrap or get cut: a bookkeeper must read every digit; names may wrap.
    table.add_column("debtor", min_width=16, ratio=1)
    table.add_column("cur", no_wrap=True)
    for bucket in BUCKETS:
        table.add_column(bucket, justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    for row in report.rows:
        table.add_row(escape(row.debtor_name), row.currency, *(f"{row.buckets[b]:,.2f}" for b in BUCKETS), f"{row.total:,.2f}")
    for currency, total in sorted(report.totals.items()):
        table.add_row(f"[bold]Total ({total.items} item{'' if total.items == 1 else 's'})[/bold]", currency, *(f"[bold]{total.buckets[b]:,.2f}[/bold]" for b in BUCKETS), f"[bold]{total.total:,.2f}[/bold]")
    out.print(table, crop=False)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
