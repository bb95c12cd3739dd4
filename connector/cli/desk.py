"""The credit controller's desk: ``dispute``, ``promise``, ``plan-agreement`` and ``debtor``.

What each package can hold itself (docs/reference/exact.md, moneybird.md): neither Exact Online's
nor Moneybird's API has a dispute or hold flag on a sales invoice that arconnect could read or set,
so a dispute, a promise and a plan live in arconnect's store, pause arconnect's own dunning (and,
in Moneybird, the package's reminders stay paused on the invoices arconnect dunns), and each is
recorded as a note in the package (Exact: a communication note on the account; Moneybird: a note
on each invoice). An item a package itself reports as disputed is shown and paused too.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from connector import config as cfg
from connector.cli.console import err, out, parse_date
from connector.config import ConnectionConfig
from connector.errors import ArconnectError, ConfigError
from connector.escaping import for_markup, plain
from connector.model import DebtorKind, Money, PlannedAction
from connector.store import Store
from connector.store.desk import DISPUTE_CATEGORIES, AgreementRow, Desk, Scheduled
from rules.desk import AgreementState, Instalment, equal_instalments, explicit_schedule
from rules.schema import Desk as DeskSettings
from rules.schema import Rules

#: What each package can hold of a dispute itself (docs/reference/<package>.md): said by ``dispute add``.
HOLDS = {
    "exact": "Exact Online has no dispute flag on a sales invoice in its API (docs/reference/exact.md): arconnect "
             "keeps the dispute, pauses its own dunning and writes a communication note on the account",
    "moneybird": "Moneybird has no dispute flag on a sales invoice in its API (docs/reference/moneybird.md): arconnect "
                 "keeps the dispute, pauses its own dunning (Moneybird's reminders stay paused on invoices arconnect "
                 "dunns) and writes a note on each invoice",
}
HOLDS_OTHER = "this package has no dispute flag arconnect can set: arconnect keeps the dispute and pauses its own dunning"

dispute_app = typer.Typer(help="Disputes: pause dunning of an item or a whole debtor until resolved or reviewed.",
                          no_args_is_help=True)
promise_app = typer.Typer(help="Promises to pay: pause dunning until the date (plus grace), then kept or broken.",
                          no_args_is_help=True)
plan_app = typer.Typer(help="Payment plans: instalments, reminders before each, dunning resumes on a missed one.",
                       no_args_is_help=True)

ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c", help="Connection name (default: the only one)")]


def _connection(name: str | None) -> ConnectionConfig:
    config = cfg.load_config()
    if name:
        return config.connection(name)
    if len(config.connections) == 1:
        return next(iter(config.connections.values()))
    names = ", ".join(sorted(config.connections)) or "none"
    raise ConfigError(f"name the connection with --connection (connections: {names})")


def _rules(connection: ConnectionConfig) -> Rules | None:
    if not connection.rules_file:
        return None
    from connector.actions.planning import rules_path
    from rules.loading import load_rules

    return load_rules(rules_path(connection))


def _settings(connection: ConnectionConfig) -> DeskSettings:
    rules = _rules(connection)
    return rules.desk if rules is not None else DeskSettings()


def _today(connection: ConnectionConfig, on: str | None) -> date:
    from connector.runtime import today

    return parse_date(on, "--on") if on else today(connection.timezone)


def _amount(value: str, option: str) -> Decimal:
    try:
        amount = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise ConfigError(f"{option}: not an amount: {value!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise ConfigError(f"{option}: must be a positive amount, not {value!r}")
    return amount


def _store() -> Store:
    from connector.runtime import open_store

    return open_store()


def _write_note(connection: ConnectionConfig, store: Store, action: PlannedAction) -> None:
    """Journal the note first (so the next desk check retries it whatever happens), then write it."""
    from connector.actions.desk import dispatch

    store.journal_begin(action)
    rules = _rules(connection)
    if rules is None:
        out.print("  note journaled; it is written into the package by the next desk check (no rules file yet)",
                  markup=False, highlight=False)
        return
    try:
        report = dispatch(connection, store, rules, [action])
    except ArconnectError as exc:
        err.print(f"warning: the note could not be written now ({exc}); the next desk check retries it", markup=False)
        return
    outcomes = [r.outcome.value for r in report.results if r.outcome is not None]
    out.print(f"  note in the package: {', '.join(outcomes) or 'already written'}", markup=False, highlight=False)


# --------------------------------------------------------------------------- disputes


@dispute_app.command("add")
def dispute_add(
    debtor: Annotated[str, typer.Argument(help="Debtor code (or source id)")],
    reason: Annotated[str, typer.Option(help="What the debtor disputes")],
    item: Annotated[str | None, typer.Option(help="Invoice number (or source id); default: the whole debtor")] = None,
    category: Annotated[str, typer.Option(help=f"One of: {', '.join(DISPUTE_CATEGORIES)}")] = "other",
    note: Annotated[str | None, typer.Option(help="A note for the file")] = None,
    review: Annotated[str | None, typer.Option(help="Review date YYYY-MM-DD (default: the rules' dispute_review_days)")] = None,
    on: Annotated[str | None, typer.Option(help="Day opened (default: today)")] = None,
    connection: ConnectionOpt = None,
) -> None:
    """Open a dispute; dunning of the item (or every item of the debtor) pauses."""
    conn = _connection(connection)
    day = _today(conn, on)
    settings = _settings(conn)
    review_on = parse_date(review, "--review") if review else None
    if review_on is None and settings.dispute_review_days:
        from datetime import timedelta

        review_on = day + timedelta(days=settings.dispute_review_days)
    store = _store()
    try:
        desk = Desk(store)
        debtor_id = desk.find_debtor(conn.name, debtor)
        item_id = desk.find_items(conn.name, debtor_id, [item])[0] if item else None
        row = desk.add_dispute(conn.name, debtor=debtor_id, item=item_id, category=category, reason=reason,
                               opened_on=day, review_on=review_on, note=note)
        out.print(f"dispute {row.id} open on {'item ' + item_id if item_id else 'every item of ' + debtor}"
                  f"{', review on ' + row.review_on.isoformat() if row.review_on else ''}", markup=False, highlight=False)
        out.print(f"  {HOLDS.get(conn.package, HOLDS_OTHER)}", markup=False, highlight=False)
        from connector.actions.desk import dispute_note

        items = [item_id] if item_id else desk.find_items(conn.name, debtor_id, [])
        _write_note(conn, store, dispute_note(row, day, resolved=False, items=items))
    finally:
        store.close()


@dispute_app.command("resolve")
def dispute_resolve(
    dispute_id: Annotated[int, typer.Argument(help="The dispute's number (dispute list)")],
    on: Annotated[str | None, typer.Option(help="Day resolved (default: today)")] = None,
    connection: ConnectionOpt = None,
) -> None:
    """Resolve a dispute: dunning resumes where it was."""
    conn = _connection(connection)
    day = _today(conn, on)
    store = _store()
    try:
        desk = Desk(store)
        row = desk.resolve_dispute(conn.name, dispute_id, day)
        out.print(f"dispute {row.id} resolved on {day.isoformat()}", markup=False, highlight=False)
        from connector.actions.desk import dispute_note

        assert row.debtor_source_id is not None
        items = [row.item_source_id] if row.item_source_id else desk.find_items(conn.name, row.debtor_source_id, [])
        _write_note(conn, store, dispute_note(row, day, resolved=True, items=items))
    finally:
        store.close()


@dispute_app.command("list")
def dispute_list(
    all_: Annotated[bool, typer.Option("--all", help="Resolved ones too")] = False,
    connection: ConnectionOpt = None,
) -> None:
    """Open disputes (set here or, where a package reports it, in the package)."""
    conn = _connection(connection)
    day = _today(conn, None)
    store = _store()
    try:
        desk = Desk(store)
        rows = desk.disputes(conn.name, open_only=not all_)
        names = desk.debtor_names(conn.name)
        table = Table("#", "debtor", "item", "category", "reason", "opened", "review", "resolved", "set in",
                      title=for_markup(f"Disputes {conn.name}"))
        for d in rows:
            review = d.review_on.isoformat() if d.review_on else "-"
            if d.past_review(day):
                review += " (past)"
            table.add_row(str(d.id), for_markup(names.get(d.debtor_source_id or "", d.debtor_source_id or "")),
                          for_markup(d.item_source_id or "all"), d.category, for_markup(d.reason), d.opened_on.isoformat(), review,
                          d.resolved_on.isoformat() if d.resolved_on else "-", d.source)
        for item in store.open_items(conn.name):
            if item.status.value == "disputed":
                table.add_row("-", for_markup(names.get(item.debtor_source_id, item.debtor_source_id)),
                              for_markup(item.document_number or item.source_id), "-", "disputed in the package", "-", "-", "-",
                              conn.package)
        out.print(table, crop=False)
    finally:
        store.close()


# --------------------------------------------------------------------------- promises


@promise_app.command("add")
def promise_add(
    debtor: Annotated[str, typer.Argument(help="Debtor code (or source id)")],
    amount: Annotated[str, typer.Option(help="The amount promised")],
    by: Annotated[str, typer.Option("--date", help="The day it will be paid by, YYYY-MM-DD")],
    item: Annotated[list[str] | None, typer.Option(help="Invoice number(s) covered (default: all open items)")] = None,
    note: Annotated[str | None, typer.Option(help="A note for the file")] = None,
    on: Annotated[str | None, typer.Option(help="Day agreed (default: today)")] = None,
    connection: ConnectionOpt = None,
) -> None:
    """Record a promise to pay: dunning of its items pauses until the date plus the rules' grace."""
    conn = _connection(connection)
    day = _today(conn, on)
    settings = _settings(conn)
    store = _store()
    try:
        desk = Desk(store)
        debtor_id = desk.find_debtor(conn.name, debtor)
        items = desk.find_items(conn.name, debtor_id, item or [])
        currency = _one_currency(desk, conn.name, items)
        row = desk.add_agreement(
            conn.name, kind="promise", debtor=debtor_id, items=items, agreed_on=day,
            schedule=(Scheduled(parse_date(by, "--date"), _amount(amount, "--amount")),),
            grace_days=settings.promise_grace_days, currency=currency, note=note,
        )
        out.print(f"promise {row.id}: {currency} {row.amount} by {row.schedule[0].due.isoformat()} on {len(items)} item(s); "
                  f"dunning paused until {row.ends_on.isoformat()}", markup=False, highlight=False)
    finally:
        store.close()


def _one_currency(desk: Desk, cid: str, items: list[str]) -> str:
    currencies = {cur for _, cur, _ in desk.open_amounts(cid, items).values()}
    if len(currencies) != 1:
        raise ConfigError(f"the items are in {len(currencies)} currencies ({', '.join(sorted(currencies))}): "
                          "make one agreement per currency")
    return currencies.pop()


def _agreements_table(title: str, rows: list[AgreementRow], names: dict[str, str]) -> Table:
    table = Table("#", "debtor", "amount", "dates", "items", "state", "closed", title=for_markup(title))
    for a in rows:
        dates = ", ".join(i.due.isoformat() for i in a.schedule[:3]) + (" …" if len(a.schedule) > 3 else "")
        table.add_row(str(a.id), for_markup(names.get(a.debtor_source_id, a.debtor_source_id)), f"{a.currency} {a.amount}",
                      dates, str(len(a.item_source_ids)), a.state, a.closed_on.isoformat() if a.closed_on else "-")
    return table


@promise_app.command("list")
def promise_list(
    all_: Annotated[bool, typer.Option("--all", help="Kept and broken ones too")] = False,
    connection: ConnectionOpt = None,
) -> None:
    """Promises to pay (active ones, or all)."""
    conn = _connection(connection)
    store = _store()
    try:
        desk = Desk(store)
        rows = desk.agreements(conn.name, kind="promise", states=None if all_ else [AgreementState.ACTIVE])
        out.print(_agreements_table(f"Promises {conn.name}", rows, desk.debtor_names(conn.name)), crop=False)
    finally:
        store.close()


@promise_app.command("check")
def promise_check(
    on: Annotated[str | None, typer.Option(help="Day to judge on (default: today)")] = None,
    connection: ConnectionOpt = None,
) -> None:
    """Judge promises, plans and disputes now (``serve`` does this after each sync)."""
    from connector.actions.desk import run_desk

    conn = _connection(connection)
    result = run_desk(conn.name, _today(conn, on))
    for event in result.check.events:
        out.print(f"{event.what}: #{event.ref} debtor {event.debtor} ({event.on.isoformat()}) {event.detail}",
                  markup=False, highlight=False)
    if not result.check.events:
        out.print("nothing changed", markup=False)
    if result.failed:
        raise ConfigError(f"{result.failed} desk action(s) failed; the next check retries them")


# --------------------------------------------------------------------------- plans


def _parse_schedule(text: str) -> tuple[Instalment, ...]:
    rows = []
    for part in text.split(","):
        day, sep, amount = part.strip().partition("=")
        if not sep:
            raise ConfigError(f"--schedule: write DATE=AMOUNT,DATE=AMOUNT, not {part!r}")
        rows.append((parse_date(day.strip(), "--schedule"), _amount(amount.strip(), "--schedule")))
    return explicit_schedule(rows)


def _interval(text: str) -> tuple[int, int]:
    unit = text[-1:].lower()
    try:
        count = int(text[:-1])
    except ValueError:
        raise ConfigError(f"--every: write e.g. 1m (months) or 14d (days), not {text!r}") from None
    if unit == "m":
        return count, 0
    if unit == "d":
        return 0, count
    raise ConfigError(f"--every: write e.g. 1m (months) or 14d (days), not {text!r}")


def lawful_costs(connection: ConnectionConfig, debtor_kind: DebtorKind, principal: Money, costs: Decimal, day: date) -> None:
    """A plan may carry collection costs only up to what the law allows on its principal on that day
    (rules/costs.py); it never adds costs of its own. BE consumers: counted as a first reminder, so
    none (the conservative reading)."""
    from rules.costs import collection_costs

    quote = collection_costs(country=connection.country, debtor_kind=debtor_kind, principal=principal, on=day)
    allowed = quote.costs.amount if quote.allowed else Decimal(0)
    if costs > allowed:
        raise ConfigError(f"--costs {costs} is more than the law allows on {principal} ({allowed}: "
                          f"{quote.reason or '; '.join(quote.explanation)})")


@plan_app.command("add")
def plan_add(
    debtor: Annotated[str, typer.Argument(help="Debtor code (or source id)")],
    item: Annotated[list[str] | None, typer.Option(help="Invoice number(s) covered (default: all open items)")] = None,
    count: Annotated[int | None, typer.Option(help="Number of equal instalments")] = None,
    first: Annotated[str | None, typer.Option(help="First instalment date YYYY-MM-DD")] = None,
    every: Annotated[str, typer.Option(help="Interval: 1m (months) or 14d (days)")] = "1m",
    schedule: Annotated[str | None, typer.Option(help="Explicit schedule: DATE=AMOUNT,DATE=AMOUNT,...")] = None,
    costs: Annotated[str | None, typer.Option(help="Collection costs already owed, included (never above the law)")] = None,
    note: Annotated[str | None, typer.Option(help="A note for the file")] = None,
    on: Annotated[str | None, typer.Option(help="Day agreed (default: today)")] = None,
    connection: ConnectionOpt = None,
) -> None:
    """Agree a payment plan on open items: equal instalments (--count, --first, --every) or --schedule."""
    conn = _connection(connection)
    day = _today(conn, on)
    settings = _settings(conn)
    store = _store()
    try:
        desk = Desk(store)
        debtor_id = desk.find_debtor(conn.name, debtor)
        items = desk.find_items(conn.name, debtor_id, item or [])
        currency = _one_currency(desk, conn.name, items)
        principal = sum((a for a, _, _ in desk.open_amounts(conn.name, items).values()), Decimal(0))
        extra = _amount(costs, "--costs") if costs else Decimal(0)
        if extra:
            found = store.debtor(conn.name, debtor_id)
            lawful_costs(conn, found.kind if found else DebtorKind.UNKNOWN, Money(amount=principal, currency=currency), extra, day)
        if schedule:
            instalments = _parse_schedule(schedule)
            if sum((i.amount for i in instalments), Decimal(0)) != principal + extra:
                raise ConfigError(f"the schedule adds up to {sum((i.amount for i in instalments), Decimal(0))}, "
                                  f"the items and costs to {principal + extra}")
        else:
            if count is None or first is None:
                raise ConfigError("give --count and --first (and --every), or --schedule")
            months, days = _interval(every)
            instalments = equal_instalments(principal + extra, count, parse_date(first, "--first"), months=months, days=days)
        row = desk.add_agreement(conn.name, kind="plan", debtor=debtor_id, items=items, agreed_on=day,
                                 schedule=[Scheduled(i.due, i.amount) for i in instalments], grace_days=settings.plan_grace_days, currency=currency,
                                 costs=extra or None, note=note)
        out.print(f"plan {row.id}: {len(instalments)} instalment(s), {currency} {row.amount} in total, "
                  f"first {instalments[0].due.isoformat()}; dunning of {len(items)} item(s) paused", markup=False,
                  highlight=False)
    finally:
        store.close()


@plan_app.command("list")
def plan_list(
    all_: Annotated[bool, typer.Option("--all", help="Completed, broken and cancelled ones too")] = False,
    connection: ConnectionOpt = None,
) -> None:
    """Payment plans."""
    conn = _connection(connection)
    store = _store()
    try:
        desk = Desk(store)
        rows = desk.agreements(conn.name, kind="plan", states=None if all_ else [AgreementState.ACTIVE])
        out.print(_agreements_table(f"Payment plans {conn.name}", rows, desk.debtor_names(conn.name)), crop=False)
    finally:
        store.close()


@plan_app.command("show")
def plan_show(plan_id: Annotated[int, typer.Argument()], connection: ConnectionOpt = None) -> None:
    """A plan's instalments and what is paid of each."""
    from rules.desk import judge

    conn = _connection(connection)
    store = _store()
    try:
        desk = Desk(store)
        plan = desk.agreement(conn.name, plan_id)
        payments = desk.payments_towards(conn.name, plan.item_source_ids, plan.agreed_on)
        verdict = judge(plan.schedule, payments, today=_today(conn, None), grace_days=plan.grace_days, is_plan=True)
        table = Table("#", "due", "amount", "paid", title=for_markup(f"Plan {plan.id} ({plan.state})"))
        for n, (instalment, paid) in enumerate(zip(plan.schedule, verdict.allocated, strict=True), 1):
            table.add_row(str(n), instalment.due.isoformat(), f"{plan.currency} {instalment.amount}", f"{paid}")
        out.print(table, crop=False)
        if plan.costs:
            out.print(f"  includes collection costs {plan.currency} {plan.costs}", markup=False, highlight=False)
    finally:
        store.close()


@plan_app.command("cancel")
def plan_cancel(
    plan_id: Annotated[int, typer.Argument()],
    on: Annotated[str | None, typer.Option(help="Day cancelled (default: today)")] = None,
    connection: ConnectionOpt = None,
) -> None:
    """Cancel a plan: dunning resumes on what is left, with a note in the package."""
    from connector.actions.desk import agreement_note

    conn = _connection(connection)
    day = _today(conn, on)
    store = _store()
    try:
        desk = Desk(store)
        row = desk.close_agreement(conn.name, plan_id, AgreementState.CANCELLED, day)
        out.print(f"plan {row.id} is {row.state}", markup=False, highlight=False)
        if row.state == AgreementState.CANCELLED:
            _write_note(conn, store, agreement_note(row, AgreementState.CANCELLED, day, ""))
    finally:
        store.close()


# --------------------------------------------------------------------------- the debtor's file


def debtor(
    code: Annotated[str, typer.Argument(help="Debtor code (or source id)")],
    format: Annotated[str, typer.Option(help="table or json")] = "table",
    connection: ConnectionOpt = None,
) -> None:
    """A debtor's file: data, open items with status, payments, every action, notes, disputes, promises, plans."""
    from connector.actions.debtor_file import debtor_file

    if format not in ("table", "json"):
        raise ConfigError(f"unknown format {format!r}; use table or json")
    conn = _connection(connection)
    store = _store()
    try:
        found = debtor_file(store, conn.name, code, _today(conn, None))
    finally:
        store.close()
    if format == "json":
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
        return
    _print_file(found)


def _print_file(f: dict[str, object]) -> None:
    d = f["debtor"]
    c = f["credit"]
    assert isinstance(d, dict) and isinstance(c, dict)
    out.print(plain(f"{d['code'] or ''} {d['name']} ({d['kind']}, {d['country'] or '?'}) {', '.join(d['emails'])} "
                    f"{d['phone'] or ''}"), markup=False, highlight=False)
    block = plain(f"blocked by {c['blocked_by']} since {c['blocked_since']}: {c['block_reason']}") if c["blocked"] else "not blocked"
    totals = f["open_total"]
    assert isinstance(totals, dict)
    owed = ", ".join(f"{cur} {Decimal(amount):,.2f}" for cur, amount in totals.items()) or "nothing"
    out.print(f"credit limit {c['limit'] or '-'}; {block}; open: {owed}", markup=False, highlight=False)
    sections: list[tuple[str, tuple[str, ...]]] = [
        ("items", ("document", "due_date", "currency", "open", "days_late", "status")),
        ("payments", ("paid_on", "currency", "amount", "days_to_pay", "days_beyond_terms")),
        ("actions", ("date", "kind", "step", "effect", "channel", "state", "outcome")),
        ("disputes", ("id", "category", "reason", "opened_on", "review_on", "resolved_on")),
        ("promises", ("id", "state", "currency", "amount", "closed_on")),
        ("plans", ("id", "state", "currency", "amount", "closed_on")),
    ]
    for key, columns in sections:
        rows = f[key]
        assert isinstance(rows, list)
        if not rows:
            continue
        table = Table(*columns, title=key)
        for row in rows:
            table.add_row(*(for_markup(_cell(col, row.get(col))) for col in columns))
        out.print(table, crop=False)


def _cell(column: str, value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if column in ("open", "amount") and isinstance(value, str):
        return f"{Decimal(value):,.2f}"
    return str(value)


def register(app: typer.Typer) -> None:
    app.add_typer(dispute_app, name="dispute")
    app.add_typer(promise_app, name="promise")
    app.add_typer(plan_app, name="plan-agreement")
    app.command("debtor")(debtor)
