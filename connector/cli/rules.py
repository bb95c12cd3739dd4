"""CLI: ``arconnect rules check FILE``, ``arconnect rules schema`` and ``arconnect plan``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from connector import config as cfg
from connector.cli.console import NAME_LIMIT, plain, safe
from connector.errors import ConfigError
from connector.model import Money, PlannedAction

out = Console()
err = Console(stderr=True)

rules_app = typer.Typer(help="Check a rules.yaml or print its JSON Schema.", no_args_is_help=True)


@rules_app.command("check")
def rules_check(file: Annotated[Path, typer.Argument(help="The rules.yaml to check")]) -> None:
    """Print every mistake as file:line:column: field: message (exit 2), or an ok summary."""
    from connector.errors import RulesError
    from rules.loading import load_rules
    from rules.schema import MESSAGE_ACTIONS

    try:
        rules = load_rules(file)
    except RulesError as exc:
        for problem in exc.problems:
            out.print(problem, markup=False, highlight=False, soft_wrap=True)
        err.print(f"{len(exc.problems)} problem(s) in {file}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    steps = sum(len(p.steps) for p in rules.profiles.values())
    letters = sum(1 for p in rules.profiles.values() for s in p.steps if s.action in MESSAGE_ACTIONS)
    out.print(
        f"ok: {file}: {len(rules.segments)} segment(s), {len(rules.profiles)} profile(s) with {steps} step(s) "
        f"({letters} message step(s)), {len(rules.credit_limits)} credit-limit policies; "
        f"languages {', '.join(rules.letters.languages)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@rules_app.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of rules.yaml (for editor completion)."""
    from rules.loading import rules_json_schema

    typer.echo(json.dumps(rules_json_schema(), indent=2, sort_keys=True))


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--date: not a date (YYYY-MM-DD): {value!r}") from None


def _money(value: Money | None) -> str:
    return "" if value is None else f"{value.currency} {value.amount:,.2f}"


def _items(action: PlannedAction) -> str:
    raw = action.details.get("items")
    if raw:
        try:
            numbers = [str(i.get("document_number") or i.get("source_id")) for i in json.loads(raw)]
        except (ValueError, AttributeError):
            numbers = list(action.item_source_ids)
    else:
        numbers = list(action.item_source_ids)
    text = ", ".join(numbers[:3])
    return text + (f" +{len(numbers) - 3}" if len(numbers) > 3 else "")


def plan_command(
    name: Annotated[str | None, typer.Argument(help="Connection name (default: every connection with a rules file)")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today where the books are kept)")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    letters: Annotated[
        Path | None,
        typer.Option("--letters", help="Also write every planned letter (PDF) and e-mail (.eml) into this folder; nothing is sent"),
    ] = None,
) -> None:
    """Show what would happen (a dry run): debtor, items, step, action, amount, costs, why."""
    from connector.actions.planning import legal_notes, plan_connection
    from connector.actions.preview import LetterFiles, write_letters
    from connector.runtime import open_store, today

    if output not in ("table", "json"):
        raise ConfigError(f"--format: choose table or json, not {output!r}")
    fmt: Literal["table", "json"] = "json" if output == "json" else "table"
    run_date = _parse_date(on)
    config = cfg.load_config()
    if name is not None:
        connections = [config.connection(name)]
    else:
        connections = [c for _, c in sorted(config.connections.items()) if c.rules_file]
        if not connections:
            raise ConfigError(f"no connection has a rules file: set rules_file in {cfg.config_path()}")
    store = open_store()
    documents: list[dict[str, Any]] = []
    try:
        for connection in connections:
            day = run_date or today(connection.timezone)
            result = plan_connection(connection, store, day)
            files = write_letters(result, connection, store, letters) if letters is not None else LetterFiles()
            if fmt == "json":
                documents.append(
                    {
                        "connection": connection.name,
                        "run_date": day.isoformat(),
                        "warnings": result.warnings,
                        "debtors_unknown": {
                            "count": result.unknown,
                            "reasons": result.unknown_reasons,
                            "treated_as": result.unknown_as,
                            "set_by": result.unknown_setting,
                        },
                        "actions": [
                            {**a.model_dump(mode="json"), "legal_notes": legal_notes(a, result.country)} for a in result.actions
                        ],
                        **({"letters": {"written": [str(f) for f in files.written], "not_written": files.skipped}}
                           if letters is not None else {}),
                    }
                )
                continue
            for warning in result.warnings:
                out.print(f"warning: {plain(warning)}", style="yellow", markup=False, highlight=False)
            unknown = result.unknown_summary()
            if unknown:
                out.print(plain(unknown), markup=False, highlight=False, soft_wrap=True)
            table = Table(
                "debtor", "items", "step", "action", "amount", "costs", "why", "law and rates",
                title=safe(f"{connection.name}: plan for {day.isoformat()} ({len(result.actions)} action(s), "
                           f"{result.items} open item(s) of {result.debtors} debtor(s))"),
            )
            for action in result.actions:
                table.add_row(
                    safe(result.debtor_names.get(action.debtor_source_id, action.debtor_source_id), NAME_LIMIT),
                    safe(_items(action)),
                    safe(action.step or ""),
                    action.kind.value + (f" ({action.channel})" if action.channel else ""),
                    _money(action.amount),
                    _money(action.costs),
                    safe(action.reason),
                    safe("; ".join(legal_notes(action, result.country))),
                )
            out.print(table)
            if letters is not None:
                for line in files.skipped:
                    out.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)
                out.print(
                    f"{connection.name}: wrote {len(files.written)} file(s) to {letters} (the letters and e-mails apply would "
                    "send); nothing was sent or journaled",
                    markup=False, highlight=False, soft_wrap=True,
                )
    finally:
        store.close()
    if fmt == "json":
        payload: Any = documents[0] if name is not None else documents
        typer.echo(json.dumps(payload, indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.command("plan")(plan_command)
