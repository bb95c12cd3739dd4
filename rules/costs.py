"""Statutory collection costs and interest for NL and BE: what the law allows, explained.

Pure functions over the dated tables in ``rules/data/costs.yaml`` and ``rules/data/interest.yaml``
(no figure lives in this code). The legal sources are summarised in
``docs/reference/legal-and-kpi.md`` (cited as "docs/reference/legal-and-kpi.md §x"); each table row names its own.

Decisions (each one is also stated in the explanation a quote carries):

* **Rounding.** Every amount this module returns is the most that may be charged, so it is
  rounded **down** to the cent (ROUND_DOWN): rounding half up could exceed a legal maximum by half
  a cent. Costs: the scale slices are kept exact and only the total is rounded, once. Interest:
  each rate period is rounded down to the cent and the total is the sum of the rounded periods,
  so the explanation adds up; with yearly compounding the capitalised interest is that sum.
* **Per letter or per invoice.** NL: the BIK scale is applied to the combined principal of all
  invoices in one letter (das.nl "hoe gaat u om met meerdere vorderingen", ruebincasso.nl
  "incassokosten bij meerdere vorderingen"; not in the reference file). BE consumers: the Book
  XIX damages bracket is applied to the balance due of the letter. BE businesses: EUR 40 per late
  invoice (docs/reference/legal-and-kpi.md §3.4, Directive 2011/7/EU art. 6). :func:`letter_costs` takes the principals of
  one letter and ``per_invoice`` to override the default.
* **VAT.** No VAT is ever added. Ref §3.1 (Besluit BIK art. 2(3)): the fee may be raised by VAT
  only when the creditor outsourced collection to a VAT-charging service, cannot deduct that VAT
  and says so (for consumers in the 14-day letter); that is outside what this module knows.
* **Unknown debtor kind** is treated as a consumer (the stricter regime).
* **Assumed receipt** (NL 14-day letter, BE Book XIX term): see :func:`assumed_receipt`.
* **Interest days.** Interest runs from the day after the due date up to and including the quote
  date (art. 6:119a(1) BW: "from the day after the agreed payment date"; docs/reference/legal-and-kpi.md §3.1, §3.3), per
  day at rate / the actual days of the calendar year (366 in a leap year; issue 10 point 11). NL compounds yearly (art. 6:119(2), 6:119a(3) BW, docs/reference/legal-and-kpi.md §3.1): after each full year
  counted from the first interest day the year's interest is added to the principal. BE interest
  is simple.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connector.errors import DataError
from connector.model import DebtorKind as DebtorKind
from connector.model import Money
from rules.calendar import add_business_days, holiday_name, is_term_holiday, term_end

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
COUNTRIES = ("NL", "BE")
CHANNELS = ("email", "letter", "registered_letter")

# --------------------------------------------------------------------------- results


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CostsQuote(_Frozen):
    """The most that may be charged as collection costs, with how it was worked out."""

    costs: Money
    explanation: list[str]
    basis: str
    allowed: bool
    reason: str


class InterestPeriod(_Frozen):
    """Interest over ``days`` days, ``start`` to ``end`` inclusive, at ``rate`` percent a year on ``principal``."""

    start: date
    end: date
    days: int
    rate: Decimal
    principal: Money
    amount: Money
    year_days: int = 365


RateStatus = Literal["verified", "computed", "unverified"]


class InterestQuote(_Frozen):
    amount: Money
    periods: list[InterestPeriod]
    explanation: list[str]
    regime: str = ""
    basis: str = ""
    #: the weakest status of the rates used: "unverified" also when a day lies after the table's
    #: ``published_until`` (the last known rate was assumed); "computed" when derived by formula
    rate_status: RateStatus = "verified"
    #: one line per rate that is not verified (for ``costs``, ``plan`` and ``apply``'s refusal)
    rate_warnings: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- tables


class _Slice(_Frozen):
    up_to: Decimal | None
    rate: Decimal


class _BikVersion(_Frozen):
    valid_from: date
    source: str
    currency: str
    slices: list[_Slice]
    minimum: Decimal
    maximum: Decimal


class _FixedVersion(_Frozen):
    valid_from: date
    source: str
    currency: str
    fixed: Decimal


class _Bracket(_Frozen):
    up_to: Decimal | None
    base: Decimal
    above: Decimal
    rate: Decimal


class _ConsumerVersion(_Frozen):
    valid_from: date
    source: str
    currency: str
    brackets: list[_Bracket]
    damages_maximum: Decimal
    reminder_fee: Decimal
    reminder_fee_needs: Literal["regular_delivery"]
    reminder_fee_from_due_date: int = Field(ge=1)


class _Receipt(_Frozen):
    receipt_after: int = Field(ge=0)
    unit: Literal["days", "business_days", "nl_delivery_days"]
    term_starts: Literal["receipt_day", "day_after_receipt"]


class _TermVersion(_Frozen):
    country: Literal["NL", "BE"]
    valid_from: date
    source: str
    term_days: int = Field(ge=1)
    extend_to_business_day: bool
    letter: _Receipt
    email: _Receipt


class _CostTables(_Frozen):
    nl_bik: list[_BikVersion] = Field(min_length=1)
    be_business: list[_FixedVersion] = Field(min_length=1)
    be_consumer: list[_ConsumerVersion] = Field(min_length=1)
    consumer_term: list[_TermVersion] = Field(min_length=2)


class _Rate(_Frozen):
    valid_from: date
    rate: Decimal
    status: RateStatus
    source: str


class _Regime(_Frozen):
    title: str
    compounding: Literal["yearly", "none"]
    days_per_year: Literal["actual"]
    published_until: date
    rates: list[_Rate] = Field(min_length=1)


class _InterestTables(_Frozen):
    regimes: dict[str, _Regime]


def _load_yaml(name: str) -> Any:
    text = resources.files("rules").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


_V = TypeVar("_V", _BikVersion, _FixedVersion, _ConsumerVersion, _TermVersion)


@lru_cache(maxsize=1)
def cost_tables() -> _CostTables:
    try:
        return _CostTables.model_validate(_load_yaml("costs.yaml"))
    except (ValidationError, yaml.YAMLError) as exc:  # a broken shipped table is a packaging bug
        raise DataError(f"rules/data/costs.yaml is invalid: {exc}") from None


@lru_cache(maxsize=1)
def interest_tables() -> _InterestTables:
    try:
        return _InterestTables.model_validate(_load_yaml("interest.yaml"))
    except (ValidationError, yaml.YAMLError) as exc:
        raise DataError(f"rules/data/interest.yaml is invalid: {exc}") from None


def _version(versions: Sequence[_V], on: date, what: str) -> _V:
    current = [v for v in versions if v.valid_from <= on]
    if not current:
        first = min(v.valid_from for v in versions)
        raise DataError(f"no {what} rule known for {on.isoformat()} (the table starts {first.isoformat()})")
    return max(current, key=lambda v: v.valid_from)


# --------------------------------------------------------------------------- helpers


def _country(country: str) -> str:
    code = country.strip().upper()
    if code not in COUNTRIES:
        raise DataError(f"unknown country {country!r}: use one of {', '.join(COUNTRIES)}")
    return code


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise DataError(f"unknown channel {channel!r}: use one of {', '.join(CHANNELS)}")
    return channel


def _down(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_DOWN)


def _num(amount: Decimal) -> str:
    """Grouped with two decimals, or exact when more decimals matter (a slice before rounding)."""
    if amount == amount.quantize(CENT):
        return f"{amount:,.2f}"
    return f"{amount.normalize():,f}"


def _money(amount: Decimal, currency: str) -> str:
    return f"{currency} {_num(amount)}"


def _pct(rate: Decimal) -> str:
    return f"{rate.normalize():f} %"


def _check_principal(principal: Money) -> None:
    if principal.amount < 0:
        raise DataError(f"principal must not be negative: {principal}")


def _is_consumer(kind: DebtorKind) -> bool:
    return kind is not DebtorKind.BUSINESS


# --------------------------------------------------------------------------- NL: BIK scale


def bik_scale(principal: Decimal, on: date) -> tuple[Decimal, list[str], str]:
    """The BIK fee for ``principal`` (EUR) with one line per slice; exact, before rounding.

    Returns (fee within minimum and maximum, explanation lines, source).
    """
    table = _version(cost_tables().nl_bik, on, "NL collection costs (BIK)")
    lines: list[str] = []
    total = Decimal(0)
    lower = Decimal(0)
    for part in table.slices:
        if principal <= lower:
            break
        upper = principal if part.up_to is None else min(principal, part.up_to)
        amount = (upper - lower) * part.rate / HUNDRED
        total += amount
        span = f"above {_num(lower)}" if part.up_to is None else f"{_num(lower)} to {_num(part.up_to)}"
        lines.append(f"{_pct(part.rate)} of {_money(upper - lower, table.currency)} (slice {span}) = {_money(amount, table.currency)}")
        if part.up_to is None:
            break
        lower = part.up_to
    lines.append(f"scale total {_money(total, table.currency)}")
    fee = total
    if fee < table.minimum:
        fee = table.minimum
        lines.append(f"below the minimum: {_money(table.minimum, table.currency)}")
    if fee > table.maximum:
        fee = table.maximum
        lines.append(f"above the maximum: {_money(table.maximum, table.currency)}")
    return fee, lines, table.source


def _nl_costs(kind: DebtorKind, principal: Money, on: date) -> CostsQuote:
    fee, lines, source = bik_scale(principal.amount, on)
    costs = _down(fee)
    lines.append(f"costs {_money(costs, principal.currency)} (rounded down to the cent; no VAT added)")
    lines.append(f"basis: the principal {principal} only; interest is not added to it (docs/reference/legal-and-kpi.md §3.1)")
    if _is_consumer(kind):
        reason = (
            "owed by a consumer only once the 14-day letter's term has passed (art. 6:96(6) BW); the letter must state "
            "this exact amount; the scale is also the maximum (art. 6:96(5) BW)"
        )
        if kind is DebtorKind.UNKNOWN:
            reason += "; debtor kind unknown: treated as a consumer"
    else:
        reason = (
            "owed by a business from the day after the due date without reminder, at least EUR 40 (art. 6:96(4) BW); "
            "the scale applies unless the contract says otherwise"
        )
    lines.append("no contract clause is needed: the scale applies by law")
    return CostsQuote(
        costs=Money(amount=costs, currency=principal.currency), explanation=lines, basis=source, allowed=True, reason=reason
    )


# --------------------------------------------------------------------------- BE


def _be_business_costs(principal: Money, on: date) -> CostsQuote:
    table = _version(cost_tables().be_business, on, "BE business collection costs")
    lines = [
        f"fixed recovery compensation {_money(table.fixed, table.currency)} per late invoice, owed by law without a reminder",
        "reasonable further recovery costs the creditor can prove may be claimed on top (not computed)",
        "no VAT added",
    ]
    return CostsQuote(
        costs=Money(amount=_down(table.fixed), currency=principal.currency),
        explanation=lines,
        basis=table.source,
        allowed=True,
        reason="owed by a business from the day after the due date (law of 2 August 2002, art. 6)",
    )


def be_consumer_damages(balance: Decimal, on: date) -> tuple[Decimal, list[str], str]:
    """The Book XIX maximum damages for ``balance`` (EUR), exact, with the bracket that applied."""
    table = _version(cost_tables().be_consumer, on, "BE consumer damages (Book XIX)")
    index = next(i for i, b in enumerate(table.brackets) if b.up_to is None or balance <= b.up_to)
    bracket = table.brackets[index]
    part = max(balance - bracket.above, Decimal(0))
    amount = bracket.base + part * bracket.rate / HUNDRED
    lower = table.brackets[index - 1].up_to if index else None
    if bracket.up_to is None:
        bound = f"bracket above {_num(lower or Decimal(0))}"
    elif lower is None:
        bound = f"bracket up to {_num(bracket.up_to)}"
    else:
        bound = f"bracket above {_num(lower)} up to {_num(bracket.up_to)}"
    if bracket.rate:
        line = (
            f"balance {_money(balance, table.currency)} ({bound}): {_money(bracket.base, table.currency)} + "
            f"{_pct(bracket.rate)} of {_money(part, table.currency)} above {_num(bracket.above)} = {_money(amount, table.currency)}"
        )
    else:
        line = f"balance {_money(balance, table.currency)} ({bound}): {_money(amount, table.currency)}"
    lines = [line]
    if amount > table.damages_maximum:
        amount = table.damages_maximum
        lines.append(f"above the maximum: {_money(table.damages_maximum, table.currency)}")
    return amount, lines, table.source


def _be_consumer_costs(
    kind: DebtorKind,
    principal: Money,
    on: date,
    has_clause: bool,
    reminder_number: int,
    postage: Money | None,
    regular_delivery: bool,
    due_date_number: int,
) -> CostsQuote:
    table = _version(cost_tables().be_consumer, on, "BE consumer damages (Book XIX)")
    zero = Money.zero(principal.currency)
    flag = "; debtor kind unknown: treated as a consumer" if kind is DebtorKind.UNKNOWN else ""
    if not has_clause:
        return CostsQuote(
            costs=zero,
            explanation=[
                "Book XIX allows damages and reminder fees only when the contract provides for them",
                "without a damages clause only the principal and interest are owed",
            ],
            basis=table.source,
            allowed=False,
            reason="no damages clause in the contract" + flag,
        )
    if reminder_number <= 1:
        return CostsQuote(
            costs=zero,
            explanation=[
                "the first reminder is free and must give at least 14 days to pay (Book XIX)",
                "damages may be claimed only once that term has passed without payment",
            ],
            basis=table.source,
            allowed=False,
            reason="first reminder is free" + flag,
        )
    damages, lines, source = be_consumer_damages(principal.amount, on)
    postage_amount = Decimal(0)
    if postage is not None:
        if postage.currency != principal.currency:
            raise DataError(f"postage {postage} is not in the principal's currency {principal.currency}")
        if postage.amount < 0:
            raise DataError(f"postage must not be negative: {postage}")
        postage_amount = postage.amount
    fees = Decimal(0)
    if not regular_delivery:
        lines.append(
            "no reminder fee: Book XIX allows EUR 7.50 + postage only for a contract for the regular delivery "
            "of goods or services"
        )
    elif due_date_number < table.reminder_fee_from_due_date:
        lines.append(
            f"no reminder fee: unpaid due date {due_date_number} of the calendar year; the fee is allowed from "
            f"due date {table.reminder_fee_from_due_date} of a regular-delivery contract (Book XIX)"
        )
    else:
        paid_reminders = reminder_number - 1
        fees = paid_reminders * (table.reminder_fee + postage_amount)
        lines.append(
            f"reminder fees (regular-delivery contract, unpaid due date {due_date_number} of the calendar year): "
            f"{paid_reminders} reminder(s) after the free first one x ({_money(table.reminder_fee, table.currency)} "
            f"+ postage {_money(postage_amount, table.currency)}) = {_money(fees, table.currency)}"
        )
    total = damages + fees
    if total > table.damages_maximum:
        total = table.damages_maximum
        lines.append(f"damages and fees together above the maximum: {_money(table.damages_maximum, table.currency)}")
    costs = _down(total)
    lines.append(f"costs {_money(costs, principal.currency)} (rounded down to the cent)")
    lines.append("only after the first reminder's term of at least 14 days has passed")
    return CostsQuote(
        costs=Money(amount=costs, currency=principal.currency),
        explanation=lines,
        basis=source,
        allowed=True,
        reason="damages clause in the contract, first reminder's term passed" + flag,
    )


# --------------------------------------------------------------------------- public: costs


def collection_costs(
    *,
    country: str,
    debtor_kind: DebtorKind,
    principal: Money,
    on: date,
    has_clause: bool = True,
    reminder_number: int = 1,
    postage: Money | None = None,
    regular_delivery: bool = False,
    due_date_number: int = 1,
) -> CostsQuote:
    """The most the law allows as collection costs on ``principal`` on day ``on``.

    NL: the BIK scale (consumers and businesses; for consumers only after the 14-day letter, see
    :func:`consumer_costs_from`); ``has_clause`` does not matter. BE businesses: EUR 40 fixed.
    BE consumers: Book XIX damages, only with a damages clause (``has_clause``), never on the first
    reminder; ``reminder_number`` is the 1-based number of the reminder the charge goes on. The
    EUR 7.50 + ``postage`` reminder fee only for a ``regular_delivery`` contract whose unpaid due
    date is at least the 4th of the calendar year (``due_date_number``), and within the EUR 2,000
    maximum. ``DebtorKind.UNKNOWN`` is treated as a consumer.
    """
    code = _country(country)
    _check_principal(principal)
    if reminder_number < 1:
        raise DataError(f"reminder number must be 1 or more, not {reminder_number}")
    zero = Money.zero(principal.currency)
    if principal.currency != "EUR":
        return CostsQuote(
            costs=zero,
            explanation=["the statutory amounts are in EUR; convert the principal to EUR first"],
            basis="",
            allowed=False,
            reason=f"principal in {principal.currency}, not EUR",
        )
    if principal.is_zero():
        return CostsQuote(costs=zero, explanation=["nothing is owed"], basis="", allowed=False, reason="no principal")
    if code == "NL":
        return _nl_costs(debtor_kind, principal, on)
    if debtor_kind is DebtorKind.BUSINESS:
        return _be_business_costs(principal, on)
    return _be_consumer_costs(
        debtor_kind, principal, on, has_clause, reminder_number, postage, regular_delivery, due_date_number
    )


def default_per_invoice(country: str, debtor_kind: DebtorKind) -> bool:
    """Whether costs go per invoice (True) or on the combined principal of one letter (False).

    Only BE businesses are per invoice (EUR 40 per late invoice, docs/reference/legal-and-kpi.md §3.4); the NL scale and the
    BE consumer bracket apply to the combined principal of the letter (see the module docstring).
    """
    return _country(country) == "BE" and debtor_kind is DebtorKind.BUSINESS


def letter_costs(
    *,
    country: str,
    debtor_kind: DebtorKind,
    principals: Sequence[Money],
    on: date,
    has_clause: bool = True,
    reminder_number: int = 1,
    postage: Money | None = None,
    per_invoice: bool | None = None,
    regular_delivery: bool = False,
    due_date_number: int = 1,
) -> CostsQuote:
    """Collection costs of one letter that covers several invoices (their open principals).

    ``per_invoice=None`` takes :func:`default_per_invoice`. Combined: one quote on the sum of the
    principals. Per invoice: the sum of one quote per invoice (BE businesses: EUR 40 each).
    """
    if not principals:
        raise DataError("a letter needs at least one invoice")
    currencies = {p.currency for p in principals}
    if len(currencies) > 1:
        raise DataError(f"one letter cannot combine currencies: {', '.join(sorted(currencies))}")
    split = default_per_invoice(country, debtor_kind) if per_invoice is None else per_invoice
    common: dict[str, Any] = {
        "country": country,
        "debtor_kind": debtor_kind,
        "on": on,
        "has_clause": has_clause,
        "reminder_number": reminder_number,
        "postage": postage,
        "regular_delivery": regular_delivery,
        "due_date_number": due_date_number,
    }
    if not split or len(principals) == 1:
        combined = principals[0]
        for extra in principals[1:]:
            combined = combined + extra
        quote = collection_costs(principal=combined, **common)
        if len(principals) > 1:
            head = f"on the combined principal {combined} of {len(principals)} invoices in one letter"
            return quote.model_copy(update={"explanation": [head, *quote.explanation]})
        return quote
    quotes = [collection_costs(principal=p, **common) for p in principals]
    total = quotes[0].costs
    for q in quotes[1:]:
        total = total + q.costs
    lines = [f"per invoice, {len(principals)} invoices:"]
    for p, q in zip(principals, quotes, strict=True):
        lines.append(f"invoice {p}: costs {q.costs}")
    lines.append(f"total {total}")
    return CostsQuote(
        costs=total,
        explanation=lines,
        basis=quotes[0].basis,
        allowed=any(q.allowed for q in quotes),
        reason=quotes[0].reason,
    )


# --------------------------------------------------------------------------- public: the 14-day term


def _nl_delivery_day(day: date) -> bool:
    # Practitioners assume delivery on the 2nd day after posting "not counting Sunday/Monday/holidays"
    # (docs/reference/legal-and-kpi.md §3.1, 14-dagenbrief): letters are not delivered on Sundays, Mondays and holidays.
    # Holidays of the Algemene termijnenwet (5 May every year, Good Friday, decree days) count as
    # no-delivery days too: that can only make the assumed receipt later, never earlier.
    return day.weekday() not in (0, 6) and holiday_name(day, "NL") is None and is_term_holiday(day, "NL") is None


def assumed_receipt(*, country: str, sent: date, channel: str) -> date:
    """The day a reminder sent on ``sent`` is assumed to reach the debtor.

    * NL letter or registered letter: the 2nd delivery day after posting, delivery days being
      Tuesday to Saturday except public holidays (practitioners' rule, docs/reference/legal-and-kpi.md §3.1).
    * NL e-mail: the day after sending. The law counts from receipt (HR 25 Nov 2016,
      ECLI:NL:HR:2016:2704, docs/reference/legal-and-kpi.md §3.1) and the creditor must prove it; an e-mail sent late in the
      day or held by a filter may be read the next day, and a term stated one day too long costs
      nothing while one day too short forfeits all costs, so we assume the later day.
    * BE letter or registered letter: the third working day after sending; BE e-mail: the day it
      is sent. These are the days Book XIX starts the 14-day term from (docs/reference/legal-and-kpi.md §3.2).

    The counts live in ``rules/data/costs.yaml`` (``consumer_term``), dated by the send day.
    """
    return _assumed_receipt(_country(country), sent, _channel(channel))


def _term(code: str, sent: date) -> _TermVersion:
    versions = [v for v in cost_tables().consumer_term if v.country == code]
    return _version(versions, sent, f"{code} consumer term")


def _after(code: str, sent: date, rule: _Receipt) -> date:
    if rule.unit == "days":
        return sent + timedelta(days=rule.receipt_after)
    if rule.unit == "business_days":
        return add_business_days(sent, rule.receipt_after, code)
    day = sent
    counted = 0
    while counted < rule.receipt_after:
        day += timedelta(days=1)
        if _nl_delivery_day(day):
            counted += 1
    return day


@lru_cache(maxsize=4096)
def _assumed_receipt(code: str, sent: date, kind: str) -> date:
    term = _term(code, sent)
    return _after(code, sent, term.email if kind == "email" else term.letter)


def consumer_costs_from(*, country: str, letter_sent: date, channel: str) -> date:
    """The first day costs may be charged to a consumer after the 14-day letter sent on ``letter_sent``.

    NL (art. 6:96(6) BW, docs/reference/legal-and-kpi.md §3.1): 14 days starting the day after the assumed receipt; when the
    14th day is a Saturday, Sunday or holiday of the Algemene termijnenwet (art. 1 and 3: 5 May
    every year, Good Friday, decree days) the term runs to the next day that is none of these
    (:func:`rules.calendar.term_end`); BE: Ger.W. art. 53. BE (Book XIX, docs/reference/legal-and-kpi.md §3.2): at least 14 calendar days starting the third
    working day after a letter is sent, or the day after an e-mail is sent. Costs may be charged
    from the day after the term's last day. The figures live in ``rules/data/costs.yaml``.
    """
    return _consumer_costs_from(_country(country), letter_sent, _channel(channel))


@lru_cache(maxsize=4096)
def _consumer_costs_from(code: str, letter_sent: date, kind: str) -> date:
    term = _term(code, letter_sent)
    rule = term.email if kind == "email" else term.letter
    receipt = _after(code, letter_sent, rule)
    first = receipt if rule.term_starts == "receipt_day" else receipt + timedelta(days=1)
    last = first + timedelta(days=term.term_days - 1)
    if term.extend_to_business_day:
        last = term_end(last, code)
    return last + timedelta(days=1)


def term_explanation(*, country: str, letter_sent: date, channel: str) -> list[str]:
    """Human lines for the 14-day term (for letters and the plan's explanation)."""
    receipt = assumed_receipt(country=country, sent=letter_sent, channel=channel)
    start = consumer_costs_from(country=country, letter_sent=letter_sent, channel=channel)
    return [
        f"sent {letter_sent.isoformat()} by {channel}, assumed receipt {receipt.isoformat()}",
        f"14-day term ends {(start - timedelta(days=1)).isoformat()}; costs from {start.isoformat()}",
    ]


# --------------------------------------------------------------------------- public: interest


def regime_for(country: str, debtor_kind: DebtorKind, commercial: bool | None = None) -> str:
    """The name of the rate table: commercial for businesses (or when ``commercial`` says so)."""
    code = _country(country)
    is_commercial = debtor_kind is DebtorKind.BUSINESS if commercial is None else commercial
    if code == "NL":
        return "nl_commercial" if is_commercial else "nl_statutory"
    return "be_commercial" if is_commercial else "be_legal"


def _anniversary(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February: the year is complete on 1 March
        return date(start.year + years, 3, 1)


class _Span(NamedTuple):
    start: date
    end: date
    days: int
    rate: Decimal
    compounds: bool  # the interest so far is added to the principal before this span (NL, a full year)
    rate_text: str
    year_days: int  # 366 in a leap year, else 365 (actual days of the calendar year)


class _Schedule(NamedTuple):
    spans: tuple[_Span, ...]
    notes: tuple[str, ...]
    status: RateStatus


def _year_days(year: int) -> int:
    return 366 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 365


@lru_cache(maxsize=16384)
def _schedule(name: str, due: date, on: date) -> _Schedule:
    """The rate periods of ``name`` from the day after ``due`` to ``on``; independent of the amount, so cached."""
    regime = interest_tables().regimes.get(name)
    if regime is None:
        raise DataError(f"rules/data/interest.yaml has no {name} table")
    rates = sorted(regime.rates, key=lambda r: r.valid_from)
    first_day = due + timedelta(days=1)
    if first_day < rates[0].valid_from:
        raise DataError(
            f"no {name} interest rate known before {rates[0].valid_from.isoformat()} (late since {first_day.isoformat()})"
        )
    # Boundaries: each rate change, each 1 January (a leap year counts 366 days) and (NL) each
    # anniversary of the first interest day.
    changes = {r.valid_from for r in rates if first_day < r.valid_from <= on}
    changes |= {date(y, 1, 1) for y in range(first_day.year + 1, on.year + 1)}
    anniversaries: set[date] = set()
    if regime.compounding == "yearly":
        year = 1
        while (mark := _anniversary(first_day, year)) <= on:
            anniversaries.add(mark)
            year += 1
    bounds = sorted(changes | anniversaries)
    starts = [first_day, *bounds]
    ends = [b - timedelta(days=1) for b in bounds] + [on]
    spans: list[_Span] = []
    used: dict[date, _Rate] = {}
    for begin, end in zip(starts, ends, strict=True):
        rate = max((r for r in rates if r.valid_from <= begin), key=lambda r: r.valid_from)
        used[rate.valid_from] = rate
        spans.append(
            _Span(begin, end, (end - begin).days + 1, rate.rate, begin in anniversaries, _pct(rate.rate), _year_days(begin.year))
        )
    notes: list[str] = []
    status: RateStatus = "verified"
    for day, row in sorted(used.items()):
        if row.status != "verified":
            notes.append(f"rate {_pct(row.rate)} from {day.isoformat()} is {row.status}: {row.source}")
            if row.status == "unverified" or status == "verified":
                status = row.status
    if on > regime.published_until:
        notes.append(
            f"rate for days after {regime.published_until.isoformat()} is unverified: not yet published when "
            "rules/data/interest.yaml was written; the last known rate is assumed"
        )
        status = "unverified"
    return _Schedule(tuple(spans), tuple(notes), status)


def interest(
    *,
    country: str,
    debtor_kind: DebtorKind,
    principal: Money,
    due: date,
    on: date,
    commercial: bool | None = None,
) -> InterestQuote:
    """Statutory (consumer) or commercial (business) interest on ``principal`` late since ``due``, up to ``on``.

    ``commercial=None`` chooses by the debtor kind (unknown = consumer). Interest runs from the day
    after ``due`` to ``on`` inclusive, per half-year rate period; NL compounds yearly, BE is simple.

    For a consumer this assumes the due date was a fixed term, so the debtor is in default from the
    next day (art. 6:83(a) BW, not in the reference); where default starts later (a notice of
    default), pass that day minus one as ``due``. A BE contract may agree consumer interest up to
    the commercial rate (Book XIX, docs/reference/legal-and-kpi.md §3.2): pass ``commercial=True`` for that.
    """
    _check_principal(principal)
    name = regime_for(country, debtor_kind, commercial)
    regime = interest_tables().regimes.get(name)
    if regime is None:
        raise DataError(f"rules/data/interest.yaml has no {name} table")
    currency = principal.currency
    header = f"{regime.title}, {'compounded yearly' if regime.compounding == 'yearly' else 'simple interest'}"
    if on <= due or principal.is_zero():
        why = f"not late on {on.isoformat()} (due {due.isoformat()})" if on <= due else "no principal"
        return InterestQuote(
            amount=Money.zero(currency), periods=[], explanation=[header, why], regime=name, basis=regime.title
        )
    schedule = _schedule(name, due, on)
    base = principal.amount
    year_interest = Decimal(0)
    total = Decimal(0)
    periods: list[InterestPeriod] = []
    lines = [header, f"late since {schedule.spans[0].start.isoformat()} (the day after the due date {due.isoformat()}), up to {on.isoformat()}"]
    # Models are built with model_construct: every value here is already a checked Decimal/date and
    # the currency comes from a validated Money (this runs once per item in a plan of a million).
    for span in schedule.spans:
        if span.compounds:
            base += year_interest
            lines.append(
                f"{span.start.isoformat()}: a full year's interest {_money(year_interest, currency)} added to the principal, "
                f"now {_money(base, currency)}"
            )
            year_interest = Decimal(0)
        amount = _down(base * span.rate / HUNDRED * span.days / span.year_days)
        year_interest += amount
        total += amount
        periods.append(
            InterestPeriod.model_construct(
                start=span.start,
                end=span.end,
                days=span.days,
                rate=span.rate,
                principal=Money.model_construct(amount=base, currency=currency),
                amount=Money.model_construct(amount=amount, currency=currency),
                year_days=span.year_days,
            )
        )
        lines.append(
            f"{span.start.isoformat()} to {span.end.isoformat()}: {span.days} days x {span.rate_text} x "
            f"{_money(base, currency)} / {span.year_days} = {_money(amount, currency)}"
        )
    lines.append(f"interest {_money(total, currency)} (each period rounded down to the cent)")
    lines.extend(schedule.notes)
    if name == "be_legal":
        lines.append("a consumer contract may agree interest up to the commercial rate of the law of 2 August 2002 (Book XIX)")
    return InterestQuote.model_construct(
        amount=Money.model_construct(amount=total, currency=currency),
        periods=periods,
        explanation=lines,
        regime=name,
        basis=regime.title,
        rate_status=schedule.status,
        rate_warnings=list(schedule.notes),
    )


def be_consumer_interest(
    *,
    principal: Money,
    on: date,
    has_clause: bool,
    term_ended: date | None,
    notice_of_default: date | None,
) -> InterestQuote:
    """Interest a Belgian consumer owes (Book XIX; docs/reference/legal-and-kpi.md §3.2, §3.5).

    With an interest clause in the contract: at most the commercial rate of the law of 2 August
    2002 (we quote that maximum), and only from the day after the free first reminder's term ended
    (``term_ended``, its last day). Without a clause: only the legal interest (wettelijke
    interestvoet), from the day after a formal notice of default (``notice_of_default``). With no
    such day yet, nothing is owed.
    """
    _check_principal(principal)
    if has_clause:
        header = "interest clause in the contract: at most the commercial rate (Book XIX)"
        start, missing = term_ended, "the free first reminder's term has not yet ended: no interest yet"
        rule = "runs from the day after the free first reminder's term"
    else:
        header = "no interest clause: only the legal interest rate, from a formal notice of default"
        start, missing = notice_of_default, "no formal notice of default yet: no interest"
        rule = "runs from the day after the formal notice of default"
    if start is None or on <= start:
        return InterestQuote(
            amount=Money.zero(principal.currency),
            periods=[],
            explanation=[header, missing],
            regime="be_commercial" if has_clause else "be_legal",
        )
    quote = interest(
        country="BE", debtor_kind=DebtorKind.CONSUMER, principal=principal, due=start, on=on, commercial=has_clause
    )
    return quote.model_copy(update={"explanation": [header, f"{rule} ({start.isoformat()})", *quote.explanation]})


def rate_on(name: str, day: date) -> tuple[Decimal, RateStatus]:
    """The rate of table ``name`` on ``day`` and its status (unverified after ``published_until``)."""
    regime = interest_tables().regimes.get(name)
    if regime is None:
        raise DataError(f"rules/data/interest.yaml has no {name} table")
    current = [r for r in regime.rates if r.valid_from <= day]
    if not current:
        raise DataError(f"no {name} interest rate known on {day.isoformat()}")
    row = max(current, key=lambda r: r.valid_from)
    return row.rate, ("unverified" if day > regime.published_until else row.status)
