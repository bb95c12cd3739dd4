"""``plan(snapshot, rules, run_date)``: what should happen today, and why. Pure and deterministic.

Per debtor, per open item:

1. **Paused** items are left alone: disputed (in the package or in arconnect), under a payment
   plan or promise to pay, or in direct-debit collection.
2. Credit notes and unapplied payments (negative open amounts) are kept aside for **netting**.
3. The item's **segment** (first match wins) gives its profile; the journal history gives the
   step it reached in that profile; the **next step** (never a later one) is due when its day
   has come (``after_days`` from its anchor; due dates on a weekend or holiday roll to the next
   business day when ``business_days.roll_due_dates``).
4. Due items of one debtor at one step (and currency) form **one message**. The debtor's credits
   are netted against the messages, oldest due date first; a message whose net amount is at
   most the profile's tolerance is not sent (and its items stay where they are).
5. Messages go out on **business days** of the connection's country only, and not within
   ``min_days_between_messages`` of the last message to the debtor.
6. Costs come from :mod:`rules.costs` (never a flat guess): consumers (and debtors of unknown
   kind, flagged ``unknown_kind``) only on items whose 14-day letter term has passed (NL) / after
   the free first reminder and its term (BE); interest per item when the step asks for it.
7. **Credit limits** (:mod:`rules.credit`) block, unblock (our own blocks only) and set limits.
8. Where the package can pause its **own reminders** per item (Moneybird), they are paused on every
   open invoice arconnect dunns and resumed when the package takes reminding back.

The idempotency key of a step is sha256 of connection, debtor, profile, step and the sorted item
ids: the same step for the same items on a later day gets the same key, so the journal never
lets it go out twice. The output is sorted (debtor, kind, step, key).

Decisions:

* History is the journal (:mod:`rules.snapshot`): a step counts as reached when its entry is
  ``done``, ``already_true`` or ``unsupported``; ``pending``/``failed`` steps are planned again
  under the same key. An item that moves to another profile starts that profile's ladder.
* ``min_days_between_messages`` counts written messages (reminder, formal notice, notice of
  default, hand-over); a call task waits for it too but does not restart it.
* Costs per letter or per invoice is :func:`rules.costs.letter_costs`' decision (BE businesses:
  EUR 40 per late invoice; otherwise the combined principal of the letter).
* ``reminders_sent_by: package`` (connection or rules file): no dunning steps are planned, only
  credit limits (the package reminds; arconnect must not dun twice).
* Credit-limit blocks get a fresh key per block episode (how many blocks were applied before),
  so a debtor can be blocked again after arconnect lifted its block.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connector.errors import ArconnectError, ConfigError
from connector.model import ActionKind, DebtorKind, Money, PlannedAction
from rules import costs as legal
from rules.calendar import is_business_day, roll_to_business_day
from rules.credit import CreditPolicies, decide
from rules.dunning import Ladder, step_date
from rules.references import payment_reference
from rules.schema import MESSAGE_ACTIONS, Rules, Step, StepAction
from rules.segments import Segmenter
from rules.snapshot import Reached, SnapDebtor, SnapItem, Snapshot

LETTER_CHANNELS = ("email", "letter", "registered_letter")
KIND_ORDER = {kind: i for i, kind in enumerate(ActionKind)}
_STEP_KIND = {action: action.kind for action in StepAction}
ZERO = Decimal(0)
_js = json.encoder.encode_basestring
_NONE: dict[str, Reached] = {}


def idempotency_key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


@dataclass
class _Group:
    """Due items of one debtor at one step, in one currency: one message."""

    segment: str
    ladder: Ladder
    level: int
    currency: str
    items: list[SnapItem] = field(default_factory=list)
    reached: list[dict[str, Reached]] = field(default_factory=list)

    @property
    def step(self) -> Step:
        return self.ladder.steps[self.level]


@dataclass
class _Context:
    snapshot: Snapshot
    rules: Rules
    run_date: date
    calendar_country: str
    business_day: bool
    roll_cache: dict[date, date] = field(default_factory=dict)
    dates_cache: dict[tuple[str, int | None, bool], dict[str, str]] = field(default_factory=dict)
    iso_cache: dict[date, tuple[str, int]] = field(default_factory=dict)


def plan(snapshot: Snapshot, rules: Rules, run_date: date) -> list[PlannedAction]:
    """Every action due on ``run_date``, sorted; the same inputs always give the same list."""
    if snapshot.last_run_date is not None and run_date < snapshot.last_run_date:
        raise ConfigError(
            f"run date {run_date.isoformat()} is before the last run ({snapshot.last_run_date.isoformat()}): "
            "the run date never goes back"
        )
    # The snapshot of a million items is millions of objects; the cyclic collector would walk them
    # again and again while the plan allocates (measured: 40 % of plan time). Nothing here makes
    # cycles, so it is paused for the call and restored after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _plan(snapshot, rules, run_date)
    finally:
        if collecting:
            gc.enable()


def _plan(snapshot: Snapshot, rules: Rules, run_date: date) -> list[PlannedAction]:
    country = rules.business_days.country or snapshot.country
    ctx = _Context(snapshot, rules, run_date, country, is_business_day(run_date, country))
    segmenter = Segmenter(rules)
    ladders = {name: Ladder.of(name, profile) for name, profile in rules.profiles.items()}
    credit = CreditPolicies(rules)
    dunning_on = (snapshot.reminders_sent_by or rules.reminders_sent_by) != "package"
    actions: list[PlannedAction] = []
    empty: list[SnapItem] = []
    for debtor_id in sorted(snapshot.debtors.keys() | snapshot.items_by_debtor.keys()):
        debtor = snapshot.debtors.get(debtor_id)
        items = snapshot.items_by_debtor.get(debtor_id, empty)
        if debtor is None:
            continue  # items of a debtor the store does not know (yet): nothing to address them to
        open_total = sum((i.open_base for i in items), ZERO)
        if dunning_on and items:
            _dunning(ctx, debtor, items, open_total, segmenter, ladders, actions)
        if snapshot.pauses_source_reminders:
            _source_reminders(ctx, debtor, items, dunning_on, actions)
        ours = debtor_id in snapshot.blocks_by_us
        if credit.policies or ours:
            held_by_dunning = ours and _held(ctx, items, ladders)
            _credit(ctx, debtor, items, open_total, credit, held_by_dunning, actions)
    actions.sort(key=lambda a: (a.debtor_source_id, KIND_ORDER[a.kind], a.step or "", a.idempotency_key))
    return actions


def _source_reminders(
    ctx: _Context, debtor: SnapDebtor, items: list[SnapItem], dunning_on: bool, actions: list[PlannedAction]
) -> None:
    """Where the package can pause its own reminders per item (Moneybird's workflows), pause them on
    every open invoice arconnect dunns, so the debtor is never reminded twice; resume them when the
    package takes reminding back (``reminders_sent_by: package``). Paid items need neither."""
    paused = ctx.snapshot.paused_in_source
    if dunning_on:
        ids = sorted(i.source_id for i in items if i.open > 0 and i.source_id not in paused)
        kind, verb = ActionKind.PAUSE_SOURCE_REMINDERS, "pause"
        reason = "arconnect dunns these invoices: the package's own reminders are paused so nobody is reminded twice"
    else:
        ids = sorted(i.source_id for i in items if i.source_id in paused)
        kind, verb = ActionKind.RESUME_SOURCE_REMINDERS, "resume"
        reason = "the package sends reminders again: its own reminders resume on the invoices arconnect had paused"
    if not ids:
        return
    snapshot = ctx.snapshot
    actions.append(
        PlannedAction(
            idempotency_key=idempotency_key(snapshot.connection_id, debtor.source_id, verb, ",".join(ids)),
            connection_id=snapshot.connection_id,
            debtor_source_id=debtor.source_id,
            item_source_ids=tuple(ids),
            kind=kind,
            run_date=ctx.run_date,
            reason=reason,
        )
    )


def _held(ctx: _Context, items: list[SnapItem], ladders: dict[str, Ladder]) -> bool:
    """True when an open item of the debtor (paused or not) reached a dunning ``block`` step: our
    block then stays, whatever the credit limit says."""
    history = ctx.snapshot.history
    for item in items:
        reached = history.get(item.source_id)
        if reached and any(r.step in ladders[r.profile].block_steps for r in reached if r.profile in ladders):
            return True
    return False


def _dunning(
    ctx: _Context,
    debtor: SnapDebtor,
    items: list[SnapItem],
    open_total: Decimal,
    segmenter: Segmenter,
    ladders: dict[str, Ladder],
    actions: list[PlannedAction],
) -> None:
    # The hot loop of a million items: names bound locally, no model access, no allocation for
    # items that are not due.
    snapshot = ctx.snapshot
    run_date = ctx.run_date
    history = snapshot.history
    disputed = snapshot.disputed_items
    under_plan = snapshot.items_under_plan
    roll = ctx.roll_cache if ctx.rules.business_days.roll_due_dates else None
    country = ctx.calendar_country
    credits: dict[str, list[SnapItem]] = defaultdict(list)
    groups: dict[tuple[str, int, str], _Group] = {}
    per_item, fallback = segmenter.for_debtor(debtor, open_total)
    for item in items:
        sid = item.source_id
        if item.disputed or item.in_direct_debit or sid in disputed or sid in under_plan:
            continue  # paused
        amount = item.open
        if amount <= 0:
            if amount < 0:
                credits[item.currency].append(item)
            continue
        due = item.due_date
        if roll is not None:
            rolled = roll.get(due)
            if rolled is None:
                rolled = roll[due] = roll_to_business_day(due, country)
            due = rolled
        segment = fallback
        if per_item:
            overdue = (run_date - due).days
            for candidate in per_item:
                if candidate.test is not None and candidate.test(debtor, open_total, amount, overdue):
                    segment = candidate
                    break
        ladder = ladders[segment.profile]
        reached = history.get(sid)
        if reached is None:
            level, mine = 0, _NONE
        else:
            level, mine = ladder.position(reached)
        resumed = _resume_level(ladder, level, snapshot.resume_at.get(sid), run_date) if snapshot.resume_at else None
        if resumed is not None:
            level = resumed  # a broken promise or plan: the profile's step for it, due at once
        if level >= ladder.length:
            continue  # at the end of the ladder
        step = ladder.steps[level]
        anchor = step.from_
        if resumed is not None:
            pass
        elif anchor == "due_date":
            if run_date < due + ladder.deltas[level]:
                continue
        elif anchor == "invoice_date":
            if run_date < item.invoice_date + ladder.deltas[level]:
                continue
        else:
            previous = mine[ladder.steps[level - 1].name].on if level else None
            target = step_date(step, invoice_date=item.invoice_date, due_date=due, previous=previous)
            if target is None or run_date < target:
                continue
        key = (ladder.name, level, item.currency)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(segment.name, ladder, level, item.currency)
        elif segment.name not in group.segment.split(","):
            # Two segments that share a profile: still one message for the step.
            group.segment = ",".join(sorted({*group.segment.split(","), segment.name}))
        group.items.append(item)
        group.reached.append(mine)
    if not groups:
        return
    last = snapshot.last_message.get(debtor.source_id)
    remaining = {cur: -sum((c.open for c in found), ZERO) for cur, found in credits.items()}
    ordered = sorted(groups.values(), key=lambda g: (min(i.due_date for i in g.items), g.ladder.name, g.level))
    for group in ordered:
        # Credits go to the oldest debts first, whether or not their message goes out today.
        gross = sum((i.open for i in group.items), ZERO)
        netted = min(remaining.get(group.currency, ZERO), gross)
        if netted:
            remaining[group.currency] -= netted
        net = gross - netted
        if net <= group.ladder.profile.tolerance:
            continue  # nothing worth sending after netting
        if group.step.action in MESSAGE_ACTIONS:
            if not ctx.business_day:
                continue  # messages wait for the next business day
            if last is not None and (run_date - last).days < group.ladder.profile.min_days_between_messages:
                continue
        actions.append(_action(ctx, debtor, group, net, netted, credits.get(group.currency, [])))


def _resume_level(ladder: Ladder, level: int, broke_on: date | None, run_date: date) -> int | None:
    """The level a broken promise resumes at (the profile's ``broken_promise_step``), when the item
    has not reached it yet; None leaves the ladder as it is."""
    name = ladder.profile.broken_promise_step
    if broke_on is None or name is None or broke_on > run_date:
        return None
    target = ladder.index.get(name)
    if target is None or level > target:
        return None
    return target


_COSTS_KIND = {
    "business": DebtorKind.BUSINESS,
    "consumer": DebtorKind.CONSUMER,
    "unknown": DebtorKind.CONSUMER,  # unknown kind: treated as a consumer for costs, and flagged
}


def _consumer_kind(debtor: SnapDebtor) -> tuple[DebtorKind, list[str]]:
    return _COSTS_KIND[debtor.kind], (["unknown_kind"] if debtor.kind == "unknown" else [])


def _interest(country: str, kind: DebtorKind, amount: Decimal, currency: str, due: date, on: date) -> legal.InterestQuote:
    return legal.interest(country=country, debtor_kind=kind, principal=Money(amount=amount, currency=currency), due=due, on=on)


def _letter_dates(ctx: _Context, step: Step, consumer: bool) -> dict[str, str]:
    """assumed_receipt, pay_by (and costs_from for a consumer letter): the same for every letter of
    a step on one run, so computed once per (channel, term, consumer letter)."""
    consumer_letter = step.consumer_letter and consumer
    key = (step.channel, step.term_days, consumer_letter)
    found = ctx.dates_cache.get(key)
    if found is not None:
        return found
    run_date = ctx.run_date
    country = ctx.snapshot.country
    channel = step.channel
    receipt = run_date
    if channel in LETTER_CHANNELS:
        receipt = _safe(lambda: legal.assumed_receipt(country=country, sent=run_date, channel=channel), run_date)
    dates = {"assumed_receipt": receipt.isoformat()}
    if consumer_letter:
        costs_from = _safe(
            lambda: legal.consumer_costs_from(country=country, letter_sent=run_date, channel=_channel_for_terms(channel)),
            None,
        )
        if costs_from is not None:
            dates["pay_by"] = (costs_from - timedelta(days=1)).isoformat()
            dates["costs_from"] = costs_from.isoformat()
    elif step.term_days:
        dates["pay_by"] = roll_to_business_day(receipt + timedelta(days=step.term_days), ctx.calendar_country).isoformat()
    ctx.dates_cache[key] = dates
    return dates


def _items_json(items: list[SnapItem], run_date: date, dates: dict[date, tuple[str, int]]) -> str:
    """The ``items`` detail: a JSON list of objects (RULES interface), written directly for speed;
    strings go through json's own escaping. ``dates`` caches (ISO text, days overdue) per date."""
    parts = []
    for i in items:
        number = "null" if i.document_number is None else _js(i.document_number)
        invoiced = dates.get(i.invoice_date)
        if invoiced is None:
            invoiced = dates[i.invoice_date] = (i.invoice_date.isoformat(), (run_date - i.invoice_date).days)
        due = dates.get(i.due_date)
        if due is None:
            due = dates[i.due_date] = (i.due_date.isoformat(), (run_date - i.due_date).days)
        parts.append(
            f'{{"source_id": {_js(i.source_id)}, "document_number": {number}, "invoice_date": "{invoiced[0]}", '
            f'"due_date": "{due[0]}", "open": "{i.open}", "currency": {_js(i.currency)}, "days_overdue": {due[1]}}}'
        )
    return "[" + ", ".join(parts) + "]"


def _channel_for_terms(channel: str) -> str:
    return channel if channel in LETTER_CHANNELS else "letter"


def _action(
    ctx: _Context, debtor: SnapDebtor, group: _Group, net: Decimal, netted: Decimal, credits: list[SnapItem]
) -> PlannedAction:
    snapshot = ctx.snapshot
    rules = ctx.rules
    run_date = ctx.run_date
    step = group.step
    country = snapshot.country
    currency = group.currency
    ids = sorted(i.source_id for i in group.items)
    kind = _STEP_KIND[step.action]
    key = idempotency_key(snapshot.connection_id, debtor.source_id, group.ladder.name, step.name, ",".join(ids))
    costs_kind, flags = _consumer_kind(debtor)
    consumer = costs_kind is not DebtorKind.BUSINESS
    details: dict[str, str] = {"segment": group.segment, "profile": group.ladder.name}
    items = sorted(group.items, key=lambda i: (i.due_date, i.source_id))
    costs: Money | None = None
    interest: Money | None = None
    reason = f"step {step.name} ({step.action.value}) of profile {group.ladder.name}, segment {group.segment}: "
    reason += f"{len(items)} item(s), oldest due {items[0].due_date.isoformat()}"
    if netted:
        reason += f", after netting {currency} {netted:.2f} of credits"
        details["netted"] = f"{netted:.2f}"
        details["credits"] = json.dumps(sorted(c.source_id for c in credits))

    if step.action in MESSAGE_ACTIONS:
        details.update(_letter_dates(ctx, step, consumer))
        reference = _reference(country, debtor, items)
        if reference is not None:
            details["payment_reference"] = reference
        else:
            flags.append("no_payment_reference")
        details["items"] = _items_json(items, run_date, ctx.iso_cache)
        costs, costs_lines, cost_flags = _costs(ctx, debtor, group, costs_kind, items, net)
        flags.extend(cost_flags)
        details["costs_explanation"] = "\n".join(costs_lines)
        if step.consumer_letter and consumer and step.costs != "none":
            announced = _safe(
                lambda: legal.collection_costs(
                    country=country, debtor_kind=costs_kind, principal=Money(amount=net, currency=currency),
                    on=run_date, has_clause=rules.costs.contract_clause, reminder_number=2,
                    postage=_postage(rules, step, currency),
                ),
                None,
            )
            if announced is not None and announced.allowed:
                details["costs_announced"] = f"{announced.costs.amount:.2f}"
        if step.interest and rules.costs.interest:
            interest, lines = _interest_total(country, costs_kind, debtor, items, run_date, currency)
            details["interest_explanation"] = "\n".join(lines)
        else:
            details["interest_explanation"] = ""
    if flags:
        details["flags"] = ",".join(sorted(set(flags)))
    language = debtor.language if debtor.language in rules.letters.languages else rules.letters.default_language
    # Validated construction: pydantic-core is faster here than model_construct (measured: 6 µs
    # against 11 µs per action, bench/plan.py), and the result is checked.
    return PlannedAction(
        idempotency_key=key,
        connection_id=snapshot.connection_id,
        debtor_source_id=debtor.source_id,
        item_source_ids=tuple(ids),
        kind=kind,
        step=step.name,
        channel=step.channel,
        template=step.template,
        language=language,
        run_date=run_date,
        amount=_money(net, currency),
        costs=costs,
        interest=interest,
        reason=reason,
        details=details,
    )


def _postage(rules: Rules, step: Step, currency: str) -> Money | None:
    """Postage of a reminder sent by post (BE consumers: EUR 7.50 plus postage per reminder)."""
    postage = rules.costs.postage
    if postage is None or step.channel not in ("letter", "registered_letter"):
        return None
    return Money(amount=postage, currency=currency)


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def _safe(compute: Callable[[], Any], default: Any) -> Any:
    try:
        return compute()
    except ArconnectError:
        return default


def _costs_from(country: str, gate: Reached) -> date | None:
    try:
        return legal.consumer_costs_from(
            country=country, letter_sent=gate.on, channel=_channel_for_terms(gate.channel or "letter")
        )
    except ArconnectError:
        return None


def _reference(country: str, debtor: SnapDebtor, items: list[SnapItem]) -> str | None:
    if len(items) == 1 and items[0].payment_reference:
        return items[0].payment_reference
    document = items[0].document_number or "" if len(items) == 1 else ""
    try:
        return payment_reference(country, debtor.code or debtor.source_id, document)
    except ArconnectError:
        return None


def _costs(
    ctx: _Context, debtor: SnapDebtor, group: _Group, kind: DebtorKind, items: list[SnapItem], net: Decimal
) -> tuple[Money | None, list[str], list[str]]:
    """(costs or None, explanation lines, flags) for one message."""
    step = group.step
    if step.costs == "none":
        return None, [], []
    currency = group.currency
    country = ctx.snapshot.country
    rules = ctx.rules
    flags: list[str] = []
    principals = [i.open for i in items] if net == sum((i.open for i in items), ZERO) else [net]
    reminder_number = 1
    if kind is not DebtorKind.BUSINESS:
        # Consumers: only items whose 14-day letter (NL) / free first reminder (BE) term has passed.
        eligible = ZERO
        counts: list[int] = []
        letters = group.ladder.consumer_letters
        for item, reached in zip(group.items, group.reached, strict=True):
            counts.append(sum(1 for r in reached.values() if group.ladder.steps[group.ladder.index[r.step]].action in MESSAGE_ACTIONS))
            gates = [r for name, r in reached.items() if name in letters]
            if not gates:
                continue
            gate = max(gates, key=lambda r: r.on)
            starts = _costs_from(country, gate)
            if starts is not None and ctx.run_date >= starts:
                eligible += item.open
        reminder_number = min(counts) + 1 if counts else 1
        if eligible <= 0:
            flags.append("costs_not_yet_allowed")
            return None, ["no costs: the consumer's 14-day term after the required letter has not passed"], flags
        principals = [min(eligible, net)]
    # Per letter or per invoice is rules.costs' decision (letter_costs: BE businesses per invoice).
    quote = _safe(
        lambda: legal.letter_costs(
            country=country,
            debtor_kind=kind,
            principals=[Money(amount=p, currency=currency) for p in principals],
            on=ctx.run_date,
            has_clause=rules.costs.contract_clause,
            reminder_number=reminder_number,
            postage=_postage(rules, step, currency),
        ),
        None,
    )
    if quote is None:
        flags.append("costs_unknown")
        return None, ["no costs: the statutory amount could not be computed"], flags
    lines = list(quote.explanation)
    if not quote.allowed:
        flags.append("costs_not_allowed")
        return None, [*lines, f"no costs: {quote.reason}"], flags
    if step.costs == "statutory":
        return quote.costs, [*lines, quote.reason, f"basis: {quote.basis}"], flags
    fixed = step.costs
    assert isinstance(fixed, Decimal)
    if kind is not DebtorKind.BUSINESS and fixed > quote.costs.amount:
        return quote.costs, [f"fixed costs {currency} {fixed:.2f} capped at the legal maximum", *lines], flags
    return _money(fixed, currency), [f"fixed costs {currency} {fixed:.2f} per the rules file"], flags


def _interest_total(
    country: str, kind: DebtorKind, debtor: SnapDebtor, items: list[SnapItem], run_date: date, currency: str
) -> tuple[Money | None, list[str]]:
    total = ZERO
    lines: list[str] = []
    for item in items:
        try:
            quote = _interest(country, kind, item.open, currency, item.due_date, run_date)
        except ArconnectError:
            lines.append(f"{item.document_number or item.source_id}: interest could not be computed")
            continue
        total += quote.amount.amount
        lines.append(f"{item.document_number or item.source_id}: {currency} {quote.amount.amount:.2f}")
        lines.extend(f"  {line}" for line in quote.explanation)
    return _money(total, currency), lines


def _credit(
    ctx: _Context,
    debtor: SnapDebtor,
    items: list[SnapItem],
    open_total: Decimal,
    credit: CreditPolicies,
    held_by_dunning: bool,
    actions: list[PlannedAction],
) -> None:
    snapshot = ctx.snapshot
    policy = credit.policy_for(debtor, open_total)
    decisions = decide(
        debtor,
        policy,
        items,
        run_date=ctx.run_date,
        currency=snapshot.base_currency,
        disputed_ids=snapshot.disputed_items,
        blocked_by_us=debtor.source_id in snapshot.blocks_by_us,
        held_by_dunning=held_by_dunning,
        open_total=open_total,
    )
    for decision in decisions:
        if decision.kind is ActionKind.BLOCK:
            parts = ["block", str(snapshot.blocks_applied.get(debtor.source_id, 0))]
        elif decision.kind is ActionKind.UNBLOCK:
            parts = ["unblock", str(snapshot.unblocks_applied.get(debtor.source_id, 0))]
        else:
            current = "" if debtor.credit_limit is None else f"{debtor.credit_limit:.2f}"
            parts = ["set_credit_limit", f"{decision.limit:.2f}", current]
        key = idempotency_key(snapshot.connection_id, debtor.source_id, *parts)
        limit = _money(decision.limit, snapshot.base_currency)
        actions.append(
            PlannedAction(
                idempotency_key=key,
                connection_id=snapshot.connection_id,
                debtor_source_id=debtor.source_id,
                kind=decision.kind,
                run_date=ctx.run_date,
                amount=_money(decision.exposure, snapshot.base_currency),
                credit_limit=limit if decision.kind is not ActionKind.UNBLOCK or decision.policy else None,
                reason=decision.reason,
                details={"policy": decision.policy} if decision.policy else {},
            )
        )


__all__ = ["StepAction", "idempotency_key", "plan"]
