"""``arconnect costs``: what may I charge? Statutory collection costs and interest, explained.

Registered on the main app by ``connector/cli.py`` (``cli_costs.register(app)``). The work is done
by the pure functions of :mod:`rules.costs`; this module only parses, picks today's date in the
country's time zone when none is given, and prints a table or JSON.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from connector.errors import ConfigError, DataError
from connector.model import DebtorKind, Money
from rules.costs import CostsQuote, InterestQuote, be_consumer_interest, collection_costs, consumer_costs_from, interest

ZONES = {"NL": "Europe/Amsterdam", "BE": "Europe/Brussels"}
KINDS = {"consumer": DebtorKind.CONSUMER, "business": DebtorKind.BUSINESS, "unknown": DebtorKind.UNKNOWN}
FORMATS = ("table", "json")


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None


def _principal(value: str, currency: str, option: str = "--principal") -> Money:
    try:
        amount = Decimal(value.strip().replace("_", ""))
    except InvalidOperation:
        raise ConfigError(f"{option}: not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ConfigError(f"{option}: not an amount: {value!r}")
    if amount < 0:
        raise ConfigError(f"{option}: must not be negative: {value!r}")
    try:
        return Money(amount=amount, currency=currency)
    except ValueError:
        raise ConfigError(f"--currency: not a currency code: {currency!r}") from None


def _choice(value: str, allowed: tuple[str, ...], option: str, *, upper: bool = False) -> str:
    text = value.strip().upper() if upper else value.strip().lower()
    if text not in allowed:
        raise ConfigError(f"{option}: unknown value {value!r}; use one of {', '.join(allowed)}")
    return text


def quote_payload(
    country: str, kind: DebtorKind, principal: Money, on: date, due: date | None, costs: CostsQuote, owed: InterestQuote | None
) -> dict[str, Any]:
    """The JSON document of ``arconnect costs --format json`` (amounts as decimal strings)."""
    payload: dict[str, Any] = {
        "country": country,
        "debtor": kind.value,
        "principal": f"{principal.amount:.2f}",
        "currency": principal.currency,
        "on": on.isoformat(),
        "costs": f"{costs.costs.amount:.2f}",
        "allowed": costs.allowed,
        "reason": costs.reason,
        "basis": costs.basis,
        "explanation": costs.explanation,
        "due": due.isoformat() if due else None,
        "interest": None,
        "interest_periods": [],
        "interest_explanation": [],
    }
    if owed is not None:
        payload["interest"] = f"{owed.amount.amount:.2f}"
        payload["interest_regime"] = owed.regime
        payload["rate_status"] = owed.rate_status
        payload["rate_warnings"] = owed.rate_warnings
        payload["interest_explanation"] = owed.explanation
        payload["interest_periods"] = [
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "days": p.days,
                "rate": f"{p.rate}",
                "principal": f"{p.principal.amount:.2f}",
                "amount": f"{p.amount.amount:.2f}",
            }
            for p in owed.periods
        ]
        total = principal.amount + (costs.costs.amount if costs.allowed else Decimal(0)) + owed.amount.amount
        payload["total"] = f"{total:.2f}"
    return payload


def register(app: typer.Typer) -> None:
    """Add the ``costs`` command to ``app``."""

    @app.command("costs")
    def costs_command(
        country: Annotated[str, typer.Option("--country", help="NL or BE")],
        debtor: Annotated[str, typer.Option("--debtor", help="consumer, business or unknown (= consumer)")],
        principal: Annotated[str, typer.Option("--principal", help="The principal (hoofdsom), e.g. 1234.56")],
        due: Annotated[str | None, typer.Option("--due", help="Due date YYYY-MM-DD: also compute interest")] = None,
        on: Annotated[str | None, typer.Option("--on", help="Quote date YYYY-MM-DD (default: today)")] = None,
        no_clause: Annotated[
            bool, typer.Option("--no-clause", help="The contract has no damages clause (matters for BE consumers)")
        ] = False,
        reminder: Annotated[
            int | None,
            typer.Option("--reminder", help="Number of the reminder the costs go on (default: 2 for BE consumers, whose first is free; else 1)"),
        ] = None,
        postage: Annotated[
            str | None, typer.Option("--postage", help="Postage of each reminder after the first (BE consumers)")
        ] = None,
        regular_delivery: Annotated[
            bool,
            typer.Option(
                "--regular-delivery",
                help="BE consumers: a contract for the regular delivery of goods or services (the only case of a reminder fee)",
            ),
        ] = False,
        due_date_number: Annotated[
            int, typer.Option("--due-date-number", help="BE consumers: which unpaid due date of the calendar year this is")
        ] = 1,
        first_reminder: Annotated[
            str | None,
            typer.Option("--first-reminder", help="BE consumers with a clause: day the free first reminder was sent (interest after its term)"),
        ] = None,
        first_reminder_channel: Annotated[
            str, typer.Option("--first-reminder-channel", help="letter or email (the free first reminder's channel)")
        ] = "letter",
        notice: Annotated[
            str | None,
            typer.Option("--notice", help="BE consumers without a clause: day of the formal notice of default (legal interest after it)"),
        ] = None,
        currency: Annotated[str, typer.Option("--currency", help="Currency of the principal")] = "EUR",
        output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    ) -> None:
        """The most the law allows as collection costs, and with --due the statutory interest, explained."""
        code = _choice(country, ("NL", "BE"), "--country", upper=True)
        kind = KINDS[_choice(debtor, tuple(KINDS), "--debtor")]
        fmt = _choice(output, FORMATS, "--format")
        money = _principal(principal, currency)
        postage_money = _principal(postage, currency, "--postage") if postage is not None else None
        today = datetime.now(ZoneInfo(ZONES[code])).date()
        quote_day = _date(on, "--on") if on else today
        due_day = _date(due, "--due") if due else None
        if reminder is not None and reminder < 1:
            raise ConfigError(f"--reminder: must be 1 or more, not {reminder}")
        if due_date_number < 1:
            raise ConfigError(f"--due-date-number: must be 1 or more, not {due_date_number}")
        channel = _choice(first_reminder_channel, ("letter", "email"), "--first-reminder-channel")
        reminder_day = _date(first_reminder, "--first-reminder") if first_reminder else None
        notice_day = _date(notice, "--notice") if notice else None
        be_consumer = code == "BE" and kind is not DebtorKind.BUSINESS
        number = reminder if reminder is not None else (2 if code == "BE" and kind is not DebtorKind.BUSINESS else 1)
        try:
            costs = collection_costs(
                country=code,
                debtor_kind=kind,
                principal=money,
                on=quote_day,
                has_clause=not no_clause,
                reminder_number=number,
                postage=postage_money,
                regular_delivery=regular_delivery,
                due_date_number=due_date_number,
            )
            owed: InterestQuote | None = None
            if due_day is not None and be_consumer:
                term_ended = (
                    consumer_costs_from(country="BE", letter_sent=reminder_day, channel=channel) - timedelta(days=1)
                    if reminder_day is not None
                    else None
                )
                owed = be_consumer_interest(
                    principal=money, on=quote_day, has_clause=not no_clause, term_ended=term_ended, notice_of_default=notice_day
                )
            elif due_day is not None:
                owed = interest(country=code, debtor_kind=kind, principal=money, due=due_day, on=quote_day)
        except DataError as exc:
            raise ConfigError(str(exc)) from None
        console = Console(soft_wrap=True)
        if fmt == "json":
            payload = quote_payload(code, kind, money, quote_day, due_day, costs, owed)
            typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        _print_table(console, code, kind, money, quote_day, costs, owed)


def _print_table(
    console: Console, country: str, kind: DebtorKind, principal: Money, on: date, costs: CostsQuote, owed: InterestQuote | None
) -> None:
    console.print(f"{country} {kind.value}, principal {principal}, on {on.isoformat()}", markup=False, highlight=False)
    verdict = "may be charged" if costs.allowed else "not owed"
    console.print(f"Collection costs: {costs.costs} ({verdict}: {costs.reason})", markup=False, highlight=False)
    for line in costs.explanation:
        console.print(f"  {line}", markup=False, highlight=False)
    if costs.basis:
        console.print(f"  source: {costs.basis}", markup=False, highlight=False)
    if owed is not None:
        status = "" if owed.rate_status == "verified" else f" (rate {owed.rate_status}: check before use)"
        console.print(f"Interest: {owed.amount}{status}", markup=False, highlight=False)
        for line in owed.explanation:
            console.print(f"  {line}", markup=False, highlight=False)
