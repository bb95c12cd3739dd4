"""``arconnect report kpi``: DSO, CEI, aging and the desk's figures as a table, JSON, CSV or HTML.

Per administration and, for more than one, the firm; per currency and period (month or
quarter). Definitions: docs/reference/legal-and-kpi.md §4 and :mod:`rules.kpi`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from connector import config as cfg
from connector import escaping
from connector.actions.kpis import FIRM, KpiReport, default_range, figures_dict, kpi_report
from connector.cli.console import out, parse_date
from connector.errors import ConfigError
from rules.kpi import BUCKETS, Unit

FORMATS = ("table", "json", "csv", "html")


def default_workers() -> int:
    """Worker processes for a firm's report: the machine's cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def build_report(name: str | None, start: date | None, end: date | None, unit: Unit, workers: int = 1) -> KpiReport:
    from connector.runtime import open_store, today

    config = cfg.load_config()
    names = [config.connection(name).name] if name else sorted(config.connections)
    if not names:
        raise ConfigError("no connections yet: link one with `arconnect link <package>`")
    stop = end or today(config.connections[names[0]].timezone)
    first = start or default_range(stop, unit)[0]
    store = open_store()
    try:
        from connector.store.desk import Desk

        desk = Desk(store)
        debtor_names = {n: desk.debtor_names(n) for n in names}
        windows = {n: _effect_window(config.connections[n]) for n in names}
        return kpi_report(store, names, first, stop, unit, names=debtor_names, effect_window_days=windows,
                          workers=workers)
    finally:
        store.close()


def _effect_window(connection: cfg.ConnectionConfig) -> int:
    """The rules file's ``desk.effect_window_days`` (14 without a rules file)."""
    if not connection.rules_file:
        return 14
    from connector.actions.planning import rules_path
    from rules.loading import load_rules

    return load_rules(rules_path(connection)).desk.effect_window_days


def write_html(report: KpiReport, path: Path | None = None) -> Path:
    """The HTML report, 0600 in a 0700 folder (it names debtors); returns its path."""
    from connector.actions.report_html import render

    target = path or cfg.data_dir() / "reports" / f"kpi-{report.end.isoformat()}.html"
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(render(report, datetime.now(UTC)))
    return target


def csv_cell(value: object) -> str:
    """The one place a CSV cell of this report is made safe (connector/escaping.py: a value a
    spreadsheet would run as a formula is shown as text)."""
    return escaping.csv_cell(value)


CSV_FIELDS = (
    "scope", "period", "start", "end", "currency", "ar", "current", "overdue", *BUCKETS, "credit_sales", "written_off",
    "dso_countback", "dso_countback_capped", "dso_simple", "best_possible_dso", "average_days_delinquent", "cei",
    "average_days_to_pay", "days_beyond_terms", "overdue_pct", "write_off_pct",
    "promises_kept", "promises_broken", "promises_kept_pct", "disputes_open", "disputes_average_age",
)


def csv_text(report: KpiReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for scope in report.scopes:
        desk = {d.period: d for d in scope.desk}
        for f in scope.figures:
            row: dict[str, Any] = {"scope": scope.name, **figures_dict(f)}
            row.update(cast(dict[str, Any], row.pop("buckets")))
            d = desk.get(f.period)
            if d is not None:
                row.update(promises_kept=d.promises_kept, promises_broken=d.promises_broken,
                           promises_kept_pct=d.promises_kept_pct, disputes_open=d.disputes_open,
                           disputes_average_age=d.disputes_average_age)
            writer.writerow([csv_cell(row.get(name)) for name in CSV_FIELDS])
    return buffer.getvalue()


def _d(value: object) -> str:
    return "–" if value is None else f"{value}"


def print_tables(report: KpiReport) -> None:
    for scope in report.scopes:
        title = "Firm" if scope.name == FIRM else scope.name
        table = Table(title=escape(f"KPIs {title} {report.start.isoformat()} – {report.end.isoformat()}"))
        for column in ("period", "cur", "AR", "% overdue", "DSO cb", "DSO", "best DSO", "ADD", "CEI", "to pay", "DBT",
                       "w/o %"):
            table.add_column(column, justify="left" if column in ("period", "cur") else "right", no_wrap=True)
        for f in scope.figures:
            table.add_row(
                f.period, f.currency, f"{f.ar:,.2f}", _d(f.overdue_pct),
                _d(f.dso_countback) + ("+" if f.dso_countback_capped else ""), _d(f.dso_simple),
                _d(f.best_possible_dso), _d(f.average_days_delinquent), _d(f.cei), _d(f.average_days_to_pay),
                _d(f.days_beyond_terms), _d(f.write_off_pct),
            )
        out.print(table, crop=False)
        last = scope.desk[-1] if scope.desk else None
        if last is not None:
            out.print(
                f"  {last.period}: promises kept {last.promises_kept}, broken {last.promises_broken}"
                f" ({_d(last.promises_kept_pct)} % kept); disputes open {last.disputes_open}"
                f" (average age {_d(last.disputes_average_age)} days)", highlight=False, markup=False,
            )
        for label, effects in scope.steps.items():
            for e in effects:
                out.print(f"  {label} step {e.step}: {e.sent} sent, {e.currency} {e.amount:,.2f} dunned, "
                          f"{e.currency} {e.brought_in:,.2f} paid within the window", highlight=False, markup=False)


def report_kpi(
    connection: Annotated[str | None, typer.Argument(help="Connection name (default: every connection, and the firm)")] = None,
    period: Annotated[str, typer.Option(help="month or quarter")] = "month",
    from_: Annotated[str | None, typer.Option("--from", help="First day YYYY-MM-DD (default: 12 months back)")] = None,
    to: Annotated[str | None, typer.Option(help="Last day YYYY-MM-DD (default: today)")] = None,
    format: Annotated[str, typer.Option(help="table, json, csv or html")] = "table",
    output: Annotated[Path | None, typer.Option(help="Where the HTML report goes (default: <data dir>/reports/)")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes for a firm's report (default: cores, at most 4)")] = None,
) -> None:
    """DSO (countback, simple, best possible), ADD, CEI, days to pay, aging, write-offs, promises, disputes."""
    if format not in FORMATS:
        raise ConfigError(f"unknown format {format!r}; use {', '.join(FORMATS)}")
    if period not in ("month", "quarter"):
        raise ConfigError(f"--period: use month or quarter, not {period!r}")
    start = parse_date(from_, "--from") if from_ else None
    end = parse_date(to, "--to") if to else None
    report = build_report(connection, start, end, cast(Unit, period), workers or default_workers())
    if format == "json":
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
    elif format == "csv":
        sys.stdout.write(csv_text(report))
    elif format == "html":
        path = write_html(report, output)
        out.print(f"KPI report written to {path}", markup=False, highlight=False)
    else:
        print_tables(report)


def register(app: typer.Typer) -> None:
    from connector.cli.reports import report_app

    report_app.command("kpi")(report_kpi)
