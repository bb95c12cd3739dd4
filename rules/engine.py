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

import dataclasses
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
from rules.calendar import is_business_day, roll_to_business_day, term_end
from rules.classify import Classified, classify
from rules.credit import CreditPolicies, decide
from rules.dunning import Ladder, step_date
from rules.references import payment_reference
from rules.schema import MESSAGE_ACTIONS, Rules, Step, StepAction
from rules.segments import Segmenter
from rules.snapshot import MESSAGE_KINDS as WRITTEN_KINDS
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
    #: one letter per debtor (issue 10 point 2): the ladder of each item (empty: all ``ladder``) and
    #: the step each item reaches ("profile/step", "" for an item listed without a step of its own)
    item_ladders: list[Ladder] = field(default_factory=list)
    item_steps: list[str] = field(default_factory=list)
    due_date_number: int = 1

    @property
    def step(self) -> Step:
        return self.ladder.steps[self.level]

    def ladder_of(self, index: int) -> Ladder:
        return self.item_ladders[index] if self.item_ladders else self.ladder


@dataclass
class _Context:
    snapshot: Snapshot
    rules: Rules
    run_date: date
    calendar_country: str
    business_day: bool
    classified: dict[str, Classified] = field(default_factory=dict)
    roll_cache: dict[date, date] = field(default_factory=dict)
    dates_cache: dict[tuple[str, str, int | None, bool], dict[str, str]] = field(default_factory=dict)
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
    ctx.classified = classify_debtors(snapshot, rules)
    for debtor_id in sorted(snapshot.debtors.keys() | snapshot.items_by_debtor.keys()):
        debtor = snapshot.debtors.get(debtor_id)
        items = snapshot.items_by_debtor.get(debtor_id, empty)
        if debtor is None:
            continue  # items of a debtor the store does not know (yet): nothing to address them to
        found = ctx.classified[debtor_id]
        if found.kind != debtor.kind:
            debtor = dataclasses.replace(debtor, kind=found.kind)
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


def unknown_treatment(snapshot: Snapshot, rules: Rules) -> tuple[str, str]:
    """(how debtors of unknown kind are treated, who says so): the connection (config.yaml
    ``unknown_as``), else the rules file (``debtors.unknown_as``), else consumer, the safe reading."""
    if snapshot.unknown_as in ("consumer", "business"):
        return snapshot.unknown_as, "the connection's unknown_as in config.yaml"
    if rules.debtors.unknown_as is not None:
        return rules.debtors.unknown_as, "the rules file's debtors.unknown_as"
    return "consumer", "the default"


def classify_debtors(snapshot: Snapshot, rules: Rules) -> dict[str, Classified]:
    """Who is a consumer, per debtor id, with the reason (:mod:`rules.classify`); ``plan`` counts the
    unknown ones and says why."""
    overrides = dict(rules.debtors.kinds)
    treat: Any = unknown_treatment(snapshot, rules)[0]
    return {
        debtor.source_id: classify(
            code=debtor.code, name=debtor.name, kind=debtor.kind, vat_number=debtor.vat_number,
            coc_number=debtor.coc_number, overrides=overrides, unknown_as=treat,
        )
        for debtor in snapshot.debtors.values()
    }


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
    waiting: list[tuple[SnapItem, Ladder, int, dict[str, Reached]]] = []
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
        resumed = _resume_level(ladder, level, mine, snapshot.resume_at.get(sid), run_date) if snapshot.resume_at else None
        if resumed is not None:
            level = resumed  # a broken promise or plan: the profile's step for it, due at once
        if level >= ladder.length:
            continue  # at the end of the ladder
        step = ladder.steps[level]
        anchor = step.from_
        if resumed is not None:
            waits = False  # a broken promise or plan: its step is due at once
        elif anchor == "due_date":
            waits = run_date < due + ladder.deltas[level]
        elif anchor == "invoice_date":
            waits = run_date < item.invoice_date + ladder.deltas[level]
        else:
            previous = mine[ladder.steps[level - 1].name].on if level else None
            target = step_date(step, invoice_date=item.invoice_date, due_date=due, previous=previous)
            waits = target is None or run_date < target
        if waits:
            if run_date > item.due_date:
                waiting.append((item, ladder, level, mine))  # overdue: it goes into a letter sent today
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
    consumer = ctx.classified[debtor.source_id].treat_as == "consumer"
    written_today = False  # a call task is not held back by a letter planned in the same run
    merged = _one_letter_per_debtor(list(groups.values()), waiting, consumer)
    if ctx.rules.costs.regular_delivery:
        _number_due_dates(merged, items)
    ordered = sorted(merged, key=lambda g: (min(i.due_date for i in g.items), g.ladder.name, g.level))
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
            # At most what the profile allows, within this run too (issue 11 point 8): a message
            # planned above counts as sent today.
            since = last if group.step.action is StepAction.CALL_TASK else (run_date if written_today else last)
            if since is not None and (run_date - since).days < group.ladder.profile.min_days_between_messages:
                continue
        action = _action(ctx, debtor, group, net, netted, credits.get(group.currency, []))
        actions.append(action)
        if action.kind in WRITTEN_KINDS:
            written_today = True


def _resume_level(
    ladder: Ladder, level: int, mine: dict[str, Reached], broke_on: date | None, run_date: date
) -> int | None:
    """The level a broken promise resumes at (the profile's ``broken_promise_step``), when the item
    has not reached it yet and took no step since it broke; None leaves the ladder as it is."""
    name = ladder.profile.broken_promise_step
    if broke_on is None or name is None or broke_on > run_date:
        return None
    if any(reached.on >= broke_on for reached in mine.values()):
        return None  # it already went on after the break
    target = ladder.index.get(name)
    if target is None or level > target:
        return None
    return target


_SEVERITY = {
    StepAction.REMINDER: 0,
    StepAction.FORMAL_NOTICE: 1,
    StepAction.NOTICE_OF_DEFAULT: 2,
    StepAction.COLLECTION_HANDOVER: 3,
}


def _is_letter(group: _Group) -> bool:
    step = group.step
    return step.action in _SEVERITY and step.channel in LETTER_CHANNELS


def _one_letter_per_debtor(
    groups: list[_Group], waiting: list[tuple[SnapItem, Ladder, int, dict[str, Reached]]], consumer: bool
) -> list[_Group]:
    """Art. 6:96(7) BW (docs/reference/legal-and-kpi.md §3.5): the debtor's claims that can be dunned go in
    ONE letter, and the costs scale applies once to their sum. Per currency, every due letter step
    of the debtor (whatever step each item's ladder is at) becomes one letter, and every other
    overdue item that is not paused is listed in it too.

    The letter is the step that protects the debtor most when a consumer's statutory letter (NL
    14-day letter, BE free first reminder) is among them, else the most advanced step. Each item
    reaches its own due step; an item listed without a due step reaches the statutory letter of
    its own ladder when the letter is one (its 14-day term then runs with the others'), else none.
    Items due at a step only after this letter get their own later letter.
    """
    letters: dict[str, list[_Group]] = defaultdict(list)
    out: list[_Group] = []
    for group in groups:
        if _is_letter(group):
            letters[group.currency].append(group)
        else:
            out.append(group)
    for currency, found in letters.items():
        statutory = [g for g in found if consumer and g.step.consumer_letter]
        lead = max(statutory or found, key=lambda g: (_SEVERITY[g.step.action], g.level, g.ladder.name))
        extra = [w for w in waiting if w[0].currency == currency]
        if len(found) == 1 and not extra:
            out.append(found[0])
            continue
        merged = _Group(",".join(sorted({n for g in found for n in g.segment.split(",")})), lead.ladder, lead.level, currency)
        statutory_letter = consumer and lead.step.consumer_letter

        def gate_step(ladder: Ladder, level: int, statutory_letter: bool = statutory_letter) -> str:
            # An item carried in the statutory letter reaches its own ladder's statutory letter, so its
            # 14-day term runs with the others' and its costs share the one scale.
            if statutory_letter:
                gate = next((i for i, s in enumerate(ladder.steps) if s.consumer_letter), None)
                if gate is not None and gate >= level:
                    return f"{ladder.name}/{ladder.steps[gate].name}"
            return ""

        for group in found:
            own_step = gate_step(group.ladder, group.level) or f"{group.ladder.name}/{group.step.name}"
            for item, reached in zip(group.items, group.reached, strict=True):
                merged.items.append(item)
                merged.reached.append(reached)
                merged.item_ladders.append(group.ladder)
                merged.item_steps.append(own_step)
        for item, ladder, level, reached in extra:
            own = gate_step(ladder, level)
            merged.items.append(item)
            merged.reached.append(reached)
            merged.item_ladders.append(ladder)
            merged.item_steps.append(own)
        out.append(merged)
    return out


def _number_due_dates(groups: list[_Group], items: list[SnapItem]) -> None:
    """Book XIX reminder fee: which unpaid due date of its calendar year each letter's latest item is."""
    by_year: dict[int, list[date]] = defaultdict(list)
    for item in items:
        if item.open > 0:
            by_year[item.due_date.year].append(item.due_date)
    for group in groups:
        latest = max(i.due_date for i in group.items)
        group.due_date_number = sum(1 for d in by_year[latest.year] if d <= latest)


def _consumer_kind(ctx: _Context, debtor: SnapDebtor) -> tuple[DebtorKind, list[str]]:
    """The kind costs and letters follow (unknown: as the connection / rules file say, default consumer)."""
    found = ctx.classified[debtor.source_id]
    kind = DebtorKind.BUSINESS if found.treat_as == "business" else DebtorKind.CONSUMER
    return kind, (["unknown_kind"] if found.kind == "unknown" else [])


def _law(ctx: _Context, debtor: SnapDebtor, consumer: bool, net: Decimal, currency: str) -> tuple[str, str]:
    """(country whose law sets costs, interest and terms, why).

    Consumers: the law of the consumer's country where it protects more (Rome I Regulation art. 6,
    docs/reference/legal-and-kpi.md §3.5): the lower statutory costs on this letter decide, the
    consumer's country on a tie. Businesses: the creditor's country unless the rules file says
    ``costs.business_law: debtor``.
    """
    creditor = ctx.snapshot.country
    home = debtor.country if debtor.country in legal.COUNTRIES else None
    if not consumer:
        if ctx.rules.costs.business_law == "debtor" and home is not None:
            return home, f"{home} law: the debtor's country (rules file: costs.business_law)"
        return creditor, f"{creditor} law: the creditor's country"
    if home is None or home == creditor:
        return creditor, f"{creditor} law: the consumer's and the creditor's country"
    principal = Money(amount=net, currency=currency)

    def charge(country: str) -> Decimal:
        quote = _safe(
            lambda: legal.collection_costs(
                country=country, debtor_kind=DebtorKind.CONSUMER, principal=principal, on=ctx.run_date,
                has_clause=ctx.rules.costs.contract_clause, reminder_number=2,
            ),
            None,
        )
        return quote.costs.amount if quote is not None and quote.allowed else ZERO

    at_home, at_creditor = charge(home), charge(creditor)
    if at_home <= at_creditor:
        return home, (
            f"{home} law: the consumer lives in {home} and its law protects more (Rome I art. 6): costs "
            f"{currency} {at_home:.2f} instead of {currency} {at_creditor:.2f} under {creditor} law"
        )
    return creditor, (
        f"{creditor} law: the creditor's country protects this consumer more than {home} law "
        f"(costs {currency} {at_creditor:.2f} instead of {currency} {at_home:.2f}; Rome I art. 6)"
    )


def _letter_dates(ctx: _Context, step: Step, consumer: bool, country: str) -> dict[str, str]:
    """assumed_receipt, pay_by (and costs_from for a consumer letter): the same for every letter of
    a step on one run, so computed once per (country, channel, term, consumer letter)."""
    consumer_letter = step.consumer_letter and consumer
    key = (country, step.channel, step.term_days, consumer_letter)
    found = ctx.dates_cache.get(key)
    if found is not None:
        return found
    run_date = ctx.run_date
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
            dates["term_days"] = "14"
    elif step.term_days:
        # a stated term ends by the calendar of terms (NL Algemene termijnenwet, BE Ger.W. art. 53)
        dates["pay_by"] = term_end(receipt + timedelta(days=step.term_days), country).isoformat()
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
        described = "" if not i.description else f', "description": {_js(i.description)}'
        parts.append(
            f'{{"source_id": {_js(i.source_id)}, "document_number": {number}, "invoice_date": "{invoiced[0]}", '
            f'"due_date": "{due[0]}", "open": "{i.open}", "currency": {_js(i.currency)}, "days_overdue": {due[1]}{described}}}'
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
    currency = group.currency
    ids = sorted(i.source_id for i in group.items)
    kind = _STEP_KIND[step.action]
    if group.item_steps:
        # a letter for items at several steps: the key names the step each item reaches, so the
        # next letter with the same items (each a step further) is a new one
        own = dict(zip((i.source_id for i in group.items), group.item_steps, strict=True))
        key = idempotency_key(
            snapshot.connection_id, debtor.source_id, group.ladder.name, step.name, ",".join(f"{i}={own[i]}" for i in ids)
        )
    else:
        key = idempotency_key(snapshot.connection_id, debtor.source_id, group.ladder.name, step.name, ",".join(ids))
    costs_kind, flags = _consumer_kind(ctx, debtor)
    consumer = costs_kind is not DebtorKind.BUSINESS
    details: dict[str, str] = {"segment": group.segment, "profile": group.ladder.name}
    if flags:
        details["classification"] = ctx.classified[debtor.source_id].reason
    order = sorted(range(len(group.items)), key=lambda n: (group.items[n].due_date, group.items[n].source_id))
    items = [group.items[n] for n in order]
    if group.item_steps:
        details["item_steps"] = json.dumps(
            {group.items[n].source_id: group.item_steps[n] for n in order}, sort_keys=True, separators=(",", ":")
        )
    costs: Money | None = None
    interest: Money | None = None
    reason = f"step {step.name} ({step.action.value}) of profile {group.ladder.name}, segment {group.segment}: "
    reason += f"{len(items)} item(s), oldest due {items[0].due_date.isoformat()}"
    if group.item_steps:
        reason += "; one letter for all of the debtor's overdue items (art. 6:96(7) BW)"
    if netted:
        reason += f", after netting {currency} {netted:.2f} of credits"
        details["netted"] = f"{netted:.2f}"
        details["credits"] = json.dumps(sorted(c.source_id for c in credits))

    if step.action in MESSAGE_ACTIONS:
        country, why = _law(ctx, debtor, consumer, net, currency)
        details["law"] = why
        details["law_country"] = country
        details["debtor_kind"] = "consumer" if consumer else "business"
        details.update(_letter_dates(ctx, step, consumer, country))
        reference = _reference(snapshot.country, debtor, items)
        if reference is not None:
            details["payment_reference"] = reference
        else:
            flags.append("no_payment_reference")
        details["items"] = _items_json(items, run_date, ctx.iso_cache)
        costs, costs_lines, cost_flags = _costs(ctx, group, costs_kind, net, country)
        flags.extend(cost_flags)
        details["costs_explanation"] = "\n".join(costs_lines)
        if step.consumer_letter and consumer:
            details["consumer_letter"] = country
            _announce(ctx, details, step, costs_kind, net, currency, country, group)
        if step.interest and rules.costs.interest:
            interest, lines, status, warnings = _interest_total(ctx, group, costs_kind, currency, country)
            details["interest_explanation"] = "\n".join(lines)
            _rate_status(details, flags, status, warnings, rules.costs.accept_unverified_rates)
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


def _rate_status(details: dict[str, str], flags: list[str], status: str, warnings: list[str], accepted: bool) -> None:
    """Say when a rate on the letter is not verified; apply refuses an unverified one unless accepted."""
    if status == "verified":
        return
    details["rate_status"] = status
    details["rate_warnings"] = "\n".join(warnings)
    flags.append(f"rate_{status}")
    if status == "unverified" and accepted:
        details["unverified_rate_accepted"] = "true"


def _announce(
    ctx: _Context, details: dict[str, str], step: Step, kind: DebtorKind, net: Decimal, currency: str, country: str, group: _Group
) -> None:
    """What the statutory consumer letter must state: the exact costs that will be charged if the
    debtor does not pay within the term (NL art. 6:96(6) BW; BE Book XIX), on the combined principal
    of every item in it (art. 6:96(7) BW), and for BE the interest that will be claimed."""
    rules = ctx.rules
    if step.costs != "none":
        announced = _safe(
            lambda: legal.collection_costs(
                country=country, debtor_kind=kind, principal=Money(amount=net, currency=currency), on=ctx.run_date,
                has_clause=rules.costs.contract_clause, reminder_number=2, postage=_postage(rules, step, currency),
                regular_delivery=rules.costs.regular_delivery, due_date_number=group.due_date_number,
            ),
            None,
        )
        if announced is not None and announced.allowed:
            details["costs_announced"] = f"{announced.costs.amount:.2f}"
    if country == "BE" and rules.costs.interest and _interest_clause(rules):
        found = _safe(lambda: legal.rate_on("be_commercial", ctx.run_date), None)
        if found is not None:
            details["interest_rate_announced"] = f"{found[0].normalize():f}"


def _interest_clause(rules: Rules) -> bool:
    clause = rules.costs.interest_clause
    return rules.costs.contract_clause if clause is None else clause


def _postage(rules: Rules, step: Step, currency: str) -> Money | None:
    """Postage of a reminder sent by post (BE consumers, regular-delivery contracts only)."""
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


def _gate(group: _Group, index: int) -> Reached | None:
    """The statutory consumer letter (14-day letter / free first reminder) item ``index`` reached."""
    ladder = group.ladder_of(index)
    gates = [r for name, r in group.reached[index].items() if name in ladder.consumer_letters]
    return max(gates, key=lambda r: r.on) if gates else None


def _costs(
    ctx: _Context, group: _Group, kind: DebtorKind, net: Decimal, country: str
) -> tuple[Money | None, list[str], list[str]]:
    """(costs or None, explanation lines, flags) for one message (the lines go to plan and journal,
    never into the letter)."""
    step = group.step
    if step.costs == "none":
        return None, [], []
    currency = group.currency
    rules = ctx.rules
    flags: list[str] = []
    items = group.items
    principals = [i.open for i in items] if net == sum((i.open for i in items), ZERO) else [net]
    reminder_number = 1
    if kind is not DebtorKind.BUSINESS:
        # Consumers: only items whose 14-day letter (NL) / free first reminder (BE) term has passed.
        eligible = ZERO
        counts: list[int] = []
        for index, item in enumerate(items):
            ladder = group.ladder_of(index)
            reached = group.reached[index]
            counts.append(sum(1 for r in reached.values() if ladder.steps[ladder.index[r.step]].action in MESSAGE_ACTIONS))
            gate = _gate(group, index)
            if gate is None:
                continue
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
            regular_delivery=rules.costs.regular_delivery,
            due_date_number=group.due_date_number,
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
    ctx: _Context, group: _Group, kind: DebtorKind, currency: str, country: str
) -> tuple[Money | None, list[str], str, list[str]]:
    """(total interest, explanation lines, weakest rate status, rate warnings) of one message."""
    total = ZERO
    lines: list[str] = []
    status = "verified"
    warnings: list[str] = []
    be_consumer = country == "BE" and kind is not DebtorKind.BUSINESS
    for index, item in enumerate(group.items):
        label = item.document_number or item.source_id
        principal = Money(amount=item.open, currency=currency)
        try:
            if be_consumer:
                quote = _be_consumer_interest(ctx, group, index, principal, country)
            else:
                quote = legal.interest(country=country, debtor_kind=kind, principal=principal, due=item.due_date, on=ctx.run_date)
        except ArconnectError:
            lines.append(f"{label}: interest could not be computed")
            continue
        total += quote.amount.amount
        lines.append(f"{label}: {currency} {quote.amount.amount:.2f}")
        lines.extend(f"  {line}" for line in quote.explanation)
        if quote.periods and quote.rate_status != "verified":
            if quote.rate_status == "unverified" or status == "verified":
                status = quote.rate_status
            warnings.extend(w for w in quote.rate_warnings if w not in warnings)
    return _money(total, currency), lines, status, warnings


def _be_consumer_interest(ctx: _Context, group: _Group, index: int, principal: Money, country: str) -> legal.InterestQuote:
    """Book XIX: with a clause, at most the commercial rate after the free reminder's term; without
    one, the legal rate after a formal notice of default (an earlier notice_of_default step)."""
    ladder = group.ladder_of(index)
    gate = _gate(group, index)
    starts = _costs_from(country, gate) if gate is not None else None
    notices = [r.on for name, r in group.reached[index].items() if ladder.steps[ladder.index[name]].action == StepAction.NOTICE_OF_DEFAULT]
    return legal.be_consumer_interest(
        principal=principal,
        on=ctx.run_date,
        has_clause=_interest_clause(ctx.rules),
        term_ended=starts - timedelta(days=1) if starts is not None else None,
        notice_of_default=min(notices) if notices else None,
    )


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


__all__ = ["StepAction", "classify_debtors", "idempotency_key", "plan", "unknown_treatment"]
