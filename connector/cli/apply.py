"""CLI: ``arconnect apply [NAME] [--date D] [--yes]`` and ``arconnect report calls [NAME]``."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from connector import config as cfg
from connector.actions.channels.calls import CallRow, call_row, to_csv
from connector.cli.console import NAME_LIMIT, plain, safe
from connector.errors import ConfigError
from connector.model import ActionKind, ApplyOutcome, Debtor

out = Console()


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--date: not a date (YYYY-MM-DD): {value!r}") from None


def refuse_future(run_date: date, timezone: str) -> None:
    """Issue 11.3: the run date never goes back, so one mistyped future ``--date`` would block every
    run before it; it takes ``--allow-future`` to mean it."""
    from connector.runtime import today

    now = today(timezone)
    if run_date > now:
        raise ConfigError(
            f"--date {run_date.isoformat()} is after today ({now.isoformat()}, {timezone}): once applied, no run "
            "before it is possible; pass --allow-future if that is what you mean"
        )


def apply(
    name: Annotated[str | None, typer.Argument(help="Connection name (default: every connection with a rules file)")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today where the books are kept)")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without showing the plan and asking")] = False,
    allow_future: Annotated[bool, typer.Option("--allow-future", help="Accept a --date after today (no earlier run is possible after it)")] = False,
) -> None:
    """Plan with the connection's rules and carry the actions out in the package, once, journaled."""
    from connector.actions.applying import apply_connection, failures, results_table, summary_line

    run_date = _parse_date(on)
    config = cfg.load_config()
    if name is not None:
        names = [config.connection(name).name]
    else:
        names = sorted(n for n, c in config.connections.items() if c.rules_file)
        if not names:
            raise ConfigError("no connection has a rules file; set rules_file in config.yaml or name a connection")
    failed = False
    for connection in names:
        if run_date is not None and not allow_future:
            refuse_future(run_date, config.connection(connection).timezone)
        result = apply_connection(connection, run_date, yes=yes, console=out)
        if result.results:
            out.print(results_table(result))
        out.print(summary_line(result), markup=False, highlight=False)
        for line in failures(result):
            out.print(f"  failed: {plain(line)}", markup=False, highlight=False, soft_wrap=True)
        failed = failed or result.failed > 0
    if failed:
        raise typer.Exit(code=1)


def report_calls(
    name: Annotated[str, typer.Argument(help="Connection name")],
    format: Annotated[str, typer.Option(help="table or csv")] = "table",
    all_: Annotated[bool, typer.Option("--all", help="Also calls of earlier days (default: the last run date only)")] = False,
) -> None:
    """The call list: debtors to phone for ``call_task`` steps, from the journal."""
    from connector.runtime import open_store

    if format not in ("table", "csv"):
        raise ConfigError(f"unknown format {format!r}; use table or csv")
    connection = cfg.load_config().connection(name)
    store = open_store()
    try:
        entries = [
            e for e in store.journal(connection.name)
            if (e.kind == ActionKind.CALL_TASK or e.channel == "phone") and "#" not in e.idempotency_key
            and e.state in (ApplyOutcome.DONE, ApplyOutcome.ALREADY_TRUE, ApplyOutcome.FAILED)
        ]
        if not all_ and entries:
            last = max(e.run_date for e in entries)
            entries = [e for e in entries if e.run_date == last]
        rows: list[CallRow] = [call_row(e.action, store.debtor(connection.name, e.debtor_source_id)) for e in entries]
    finally:
        store.close()
    if format == "csv":
        sys.stdout.write(to_csv(rows))
        return
    if not rows:
        out.print("no calls to make")
        return
    table = Table(title=safe(f"Calls {connection.name}"))
    for column in ("date", "debtor", "phone", "amount", "items", "why"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    for row in rows:
        table.add_row(row.date, safe(f"{row.debtor_code} {row.debtor}".strip(), NAME_LIMIT), safe(row.phone or "-", NAME_LIMIT),
                      safe(f"{row.currency} {row.amount}".strip()), safe(row.items, NAME_LIMIT), safe(row.reason))
    out.print(table)


def debtor_label(debtor: Debtor | None, source_id: str) -> str:
    """A debtor as a person knows it: code and name (the package's id only when it is unknown)."""
    return f"{debtor.code or ''} {debtor.name}".strip() if debtor else source_id


mail_app = typer.Typer(help="E-mails that need a person: after a crash arconnect never resends on its own.", no_args_is_help=True)


@mail_app.command("checks")
def mail_checks(name: Annotated[str, typer.Argument(help="Connection name")]) -> None:
    """E-mails that may or may not have gone out (a run stopped while sending): check, then resolve."""
    from connector.actions.dispatch import manual_checks
    from connector.runtime import open_store

    connection = cfg.load_config().connection(name)
    store = open_store()
    try:
        rows = [
            (key, debtor_label(store.debtor(connection.name, debtor_id), debtor_id), reason)
            for key, debtor_id, reason in manual_checks(store, connection.name)
        ]
    finally:
        store.close()
    if not rows:
        out.print("no e-mails to check")
        return
    # One block per e-mail, the key whole on a line of its own: it is what 'mail resolve' takes,
    # so no table may wrap or cut it.
    out.print(f"{len(rows)} e-mail(s) to check; then: arconnect mail resolve KEY --sent (or --not-sent)", markup=False)
    for key, debtor, reason in rows:
        out.print("", markup=False)
        out.print(key, markup=False, highlight=False, soft_wrap=True, crop=False)
        out.print(f"  debtor: {plain(debtor, NAME_LIMIT)}", markup=False, highlight=False, soft_wrap=True)
        out.print(f"  {plain(reason)}", markup=False, highlight=False, soft_wrap=True)


@mail_app.command("resolve")
def mail_resolve(
    key: Annotated[str, typer.Argument(help="The key from 'arconnect mail checks'")],
    sent: Annotated[bool, typer.Option("--sent/--not-sent", help="It arrived (never resend) / it did not (send on the next run)")],
) -> None:
    """Record what a person found out about an e-mail marked for a manual check."""
    from connector.actions.dispatch import resolve_manual_check
    from connector.runtime import open_store

    store = open_store()
    try:
        resolve_manual_check(store, key, sent=sent)
    finally:
        store.close()
    out.print(f"{plain(key)}: recorded as {'sent' if sent else 'not sent; the next apply sends it'}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("apply")(apply)
    app.add_typer(mail_app, name="mail")
    for group in app.registered_groups:
        if group.name == "report" and group.typer_instance is not None:
            group.typer_instance.command("calls")(report_calls)
            break
