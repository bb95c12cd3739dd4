"""Everything :func:`rules.engine.plan` needs, in plain slotted objects (no I/O here).

A snapshot is built once per run by :mod:`connector.actions.planning` from the store. It is designed for a
million open items: items and debtors are slotted dataclasses holding ``Decimal`` amounts (no
pydantic validation in the engine's hot loop), grouped by debtor once, and the history of the
journal is reduced to what the engine asks: which step each item reached, when, and by which
channel; when each debtor was last written to; how often arconnect blocked or unblocked it.

:meth:`Snapshot.from_models` builds one from common-model objects (tests, small runs);
:mod:`connector.actions.planning` fills the same structures straight from the store's columns.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connector.model import ActionKind, ApplyOutcome, Debtor, ItemKind, OpenItem, Payment, PlannedAction

#: Journal states that mean "this step happened" for the ladder. ``unsupported`` counts: the
#: package could not take the action and retrying cannot change that, so the ladder goes on.
#: ``pending`` and ``failed`` do not: the step is planned again, with the same idempotency key.
REACHED_STATES = frozenset({ApplyOutcome.DONE.value, ApplyOutcome.ALREADY_TRUE.value, ApplyOutcome.UNSUPPORTED.value})

#: Action kinds that write to the debtor (count for ``min_days_between_messages``).
MESSAGE_KINDS = frozenset(
    {ActionKind.REMINDER, ActionKind.FORMAL_NOTICE, ActionKind.NOTICE_OF_DEFAULT, ActionKind.COLLECTION_HANDOVER}
)


@dataclass(slots=True, frozen=True)
class SnapDebtor:
    source_id: str
    code: str | None
    name: str
    kind: str  # business | consumer | unknown
    country: str | None
    language: str | None
    tags: frozenset[str]
    blocked: bool
    credit_limit: Decimal | None
    credit_limit_currency: str | None
    avg_days_late: Decimal | None = None
    vat_number: str | None = None
    coc_number: str | None = None  # KvK (NL) or KBO (BE)


@dataclass(slots=True, frozen=True)
class SnapItem:
    source_id: str
    debtor_id: str
    document_number: str | None
    kind: str  # invoice | credit_note | unapplied_payment
    invoice_date: date
    due_date: date
    currency: str
    open: Decimal
    base_currency: str
    open_base: Decimal
    disputed: bool  # status disputed in the package
    in_direct_debit: bool
    payment_reference: str | None
    #: what the invoice is for, as the package describes it (Book XIX: the first reminder names it)
    description: str | None = None


@dataclass(slots=True, frozen=True)
class Reached:
    """A step an item reached: in which profile, on which day, over which channel."""

    profile: str
    step: str
    on: date
    channel: str | None


@dataclass(slots=True)
class Snapshot:
    connection_id: str
    package: str
    country: str  # the connection's (creditor's) country: NL or BE
    base_currency: str
    debtors: dict[str, SnapDebtor]
    items_by_debtor: dict[str, list[SnapItem]]
    #: item id → steps it reached (any order)
    history: dict[str, list[Reached]] = field(default_factory=dict)
    #: debtor id → the last day arconnect wrote to it
    last_message: dict[str, date] = field(default_factory=dict)
    #: debtor id → how many blocks / unblocks arconnect applied (for fresh idempotency keys)
    blocks_applied: dict[str, int] = field(default_factory=dict)
    unblocks_applied: dict[str, int] = field(default_factory=dict)
    disputed_items: frozenset[str] = frozenset()
    items_under_plan: frozenset[str] = frozenset()
    blocks_by_us: frozenset[str] = frozenset()
    last_run_date: date | None = None
    reminders_sent_by: str | None = None
    #: the package lets arconnect pause its own reminders per item (Moneybird), and the items
    #: arconnect paused there and has not resumed (from the journal)
    pauses_source_reminders: bool = False
    paused_in_source: set[str] = field(default_factory=set)
    #: items of a broken promise or payment plan → the day it broke: they resume the ladder at
    #: their profile's ``broken_promise_step`` (rules/desk.py)
    resume_at: dict[str, date] = field(default_factory=dict)
    #: how the connection treats debtors of unknown kind (None: the rules file's setting, else consumer)
    unknown_as: str | None = None

    def item_count(self) -> int:
        return sum(len(items) for items in self.items_by_debtor.values())

    @classmethod
    def from_models(
        cls,
        *,
        connection_id: str,
        package: str = "exact",
        country: str = "NL",
        base_currency: str = "EUR",
        debtors: Iterable[Debtor],
        items: Iterable[OpenItem],
        payments: Iterable[Payment] = (),
        closed_items: Iterable[OpenItem] = (),
        journal: Iterable[tuple[PlannedAction, str]] = (),
        disputed_items: Iterable[str] = (),
        items_under_plan: Iterable[str] = (),
        blocks_by_us: Iterable[str] = (),
        reminders_sent_by: str | None = None,
        pauses_source_reminders: bool = False,
    ) -> Snapshot:
        """A snapshot from common-model objects; ``journal`` is (action, state) pairs."""
        open_items = [i for i in items if i.status.value in ("open", "disputed")]
        due_dates = {i.source_id: (i.due_date or i.invoice_date) for i in [*open_items, *closed_items]}
        late = average_days_late(
            ((p.debtor_source_id, p.item_source_ids, p.paid_on, p.amount.amount) for p in payments), due_dates
        )
        snap_debtors = {d.source_id: snap_debtor(d, late.get(d.source_id)) for d in debtors}
        by_debtor: dict[str, list[SnapItem]] = defaultdict(list)
        for item in open_items:
            by_debtor[item.debtor_source_id].append(snap_item(item))
        snapshot = cls(
            connection_id=connection_id,
            package=package,
            country=country,
            base_currency=base_currency,
            debtors=snap_debtors,
            items_by_debtor=dict(by_debtor),
            disputed_items=frozenset(disputed_items),
            items_under_plan=frozenset(items_under_plan),
            blocks_by_us=frozenset(blocks_by_us),
            reminders_sent_by=reminders_sent_by,
            pauses_source_reminders=pauses_source_reminders,
        )
        for action, state in journal:
            snapshot.add_journal(action, state)
        return snapshot

    def add_journal(self, action: PlannedAction, state: str) -> None:
        """Fold one journal entry into the history."""
        if self.last_run_date is None or action.run_date > self.last_run_date:
            self.last_run_date = action.run_date
        if state not in REACHED_STATES or "#" in action.idempotency_key:
            return  # not reached, or one effect of an action (APPLY's ``<key>#<effect>``), not a step
        debtor = action.debtor_source_id
        if action.kind in MESSAGE_KINDS and state != ApplyOutcome.UNSUPPORTED.value:
            previous = self.last_message.get(debtor)
            if previous is None or action.run_date > previous:
                self.last_message[debtor] = action.run_date
        if action.kind == ActionKind.PAUSE_SOURCE_REMINDERS and state != ApplyOutcome.UNSUPPORTED.value:
            self.paused_in_source.update(action.item_source_ids)
        if action.kind == ActionKind.RESUME_SOURCE_REMINDERS and state != ApplyOutcome.UNSUPPORTED.value:
            self.paused_in_source.difference_update(action.item_source_ids)
        if action.kind == ActionKind.BLOCK:
            self.blocks_applied[debtor] = self.blocks_applied.get(debtor, 0) + 1
        if action.kind == ActionKind.UNBLOCK:
            self.unblocks_applied[debtor] = self.unblocks_applied.get(debtor, 0) + 1
        profile = action.details.get("profile")
        if action.step and profile:
            # One letter per debtor carries items at different steps (issue 10 point 2): each item
            # reaches its own step, given in ``item_steps`` ({item id: "profile/step"}); an item
            # listed only for the record (not due at a step of its own) reaches none.
            raw = action.details.get("item_steps")
            steps: dict[str, str] | None = json.loads(raw) if raw else None
            reached = Reached(profile, action.step, action.run_date, action.channel)
            for item_id in action.item_source_ids:
                if steps is None:
                    self.history.setdefault(item_id, []).append(reached)
                    continue
                own = steps.get(item_id)
                if own:
                    own_profile, _, own_step = own.partition("/")
                    self.history.setdefault(item_id, []).append(Reached(own_profile, own_step, action.run_date, action.channel))


def snap_debtor(debtor: Debtor, avg_days_late: Decimal | None = None) -> SnapDebtor:
    limit = debtor.credit_limit
    return SnapDebtor(
        source_id=debtor.source_id,
        code=debtor.code,
        name=debtor.name,
        kind=debtor.kind.value,
        country=(debtor.country or "").upper() or None,
        language=(debtor.language or "").lower()[:2] or None,
        tags=frozenset(debtor.tags),
        blocked=debtor.blocked,
        credit_limit=limit.amount if limit else None,
        credit_limit_currency=limit.currency if limit else None,
        avg_days_late=avg_days_late,
        vat_number=debtor.vat_number,
        coc_number=debtor.coc_number,
    )


def snap_item(item: OpenItem) -> SnapItem:
    return SnapItem(
        source_id=item.source_id,
        debtor_id=item.debtor_source_id,
        document_number=item.document_number,
        kind=item.kind.value,
        invoice_date=item.invoice_date,
        due_date=item.due_date or item.invoice_date,
        currency=item.open.currency,
        open=item.open.amount,
        base_currency=item.open_base.currency,
        open_base=item.open_base.amount,
        disputed=item.status.value == "disputed",
        in_direct_debit=item.in_direct_debit,
        payment_reference=item.payment_reference,
        description=item.description,
    )


def average_days_late(
    payments: Iterable[tuple[str | None, Iterable[str], date, Decimal]], due_dates: Mapping[str, date]
) -> dict[str, Decimal]:
    """Per debtor, the amount-weighted average of days paid beyond the due date (early = 0).

    ``payments`` are (debtor id, item ids, paid on, amount); a payment of several items counts
    against the latest due date of them. "Days beyond terms" per docs/reference/legal-and-kpi.md §4.
    """
    weighted: dict[str, Decimal] = defaultdict(Decimal)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for debtor, item_ids, paid_on, amount in payments:
        if debtor is None:
            continue
        dues = [due_dates[i] for i in item_ids if i in due_dates]
        if not dues:
            continue
        weight = abs(amount)
        if weight == 0:
            continue
        late = max(0, (paid_on - max(dues)).days)
        weighted[debtor] += weight * late
        totals[debtor] += weight
    return {d: (weighted[d] / totals[d]).quantize(Decimal("0.1")) for d in totals}


ITEM_KINDS = tuple(k.value for k in ItemKind)
