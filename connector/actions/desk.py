"""The desk's daily check and its write-back: promises, plans and disputes after each sync.

:func:`check` (no I/O beyond the store) judges every active promise and plan of a connection with
:func:`rules.desk.judge` on the payments the store holds, closes what was kept, completed or broken,
and returns what must reach the package or the debtor:

* a **note in the package** (``ADD_NOTE``) for each promise kept or broken, each plan completed or
  broken, and each dispute opened or resolved through arconnect;
* an **instalment reminder** (a reminder with the ``instalment_reminder`` template, over the rules'
  channel) ``desk.instalment_reminder_days`` before each instalment not yet paid;
* a **call** (call list, and a task in the package where it can take one) for each dispute past its
  review date.

Every one of them carries a deterministic idempotency key (``desk|<connection>|<what>|<id>``) and goes
through :class:`connector.actions.dispatch.Dispatcher`, so it is journaled before it runs and happens
once, however often the check runs. :func:`run_desk` is what ``serve`` calls after each sync and what
``arconnect promise check`` runs by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from connector import config as cfg
from connector.actions.dispatch import Dispatcher, DispatchReport
from connector.config import ConnectionConfig
from connector.model import ActionKind, ApplyOutcome, Money, OpenItem, Page, PlannedAction
from connector.packages import package_spec
from connector.store import Store
from connector.store.desk import AgreementRow, Desk, DisputeRow
from rules.desk import AgreementState, judge
from rules.engine import idempotency_key
from rules.schema import Rules


@dataclass(frozen=True)
class DeskEvent:
    """Something the check found, for ``status`` and the log: what, about whom, since when."""

    what: str  # promise kept | promise broken | plan completed | plan broken | instalment due | dispute past review
    debtor: str
    ref: int
    on: date
    detail: str = ""


@dataclass
class DeskCheck:
    connection: str
    day: date
    events: list[DeskEvent] = field(default_factory=list)
    actions: list[PlannedAction] = field(default_factory=list)


#: the detail that marks an action of the desk in the journal (to retry one that failed)
DESK = "desk"
#: how often a failed desk action is tried before it is left to a person (``arconnect status``)
MAX_ATTEMPTS = 5


def _key(connection_id: str, *parts: object) -> str:
    return idempotency_key("desk", connection_id, *(str(p) for p in parts))


def note_action(connection_id: str, debtor: str, items: Sequence[str], day: date, key: str, text: str,
                amount: Money | None = None) -> PlannedAction:
    """A note in the package (its body is :func:`connector.model.action_summary` of this action)."""
    return PlannedAction(
        idempotency_key=key, connection_id=connection_id, debtor_source_id=debtor, item_source_ids=tuple(sorted(items)),
        kind=ActionKind.ADD_NOTE, run_date=day, amount=amount, reason=text, details={DESK: "note"},
    )


def dispute_note(dispute: DisputeRow, day: date, *, resolved: bool, items: Sequence[str]) -> PlannedAction:
    what = "opgelost / resolved" if resolved else "geopend / opened"
    about = f"factuur / invoice {dispute.item_source_id}" if dispute.item_source_id else "alle facturen / all invoices"
    text = (f"Geschil {what} ({dispute.category}): {dispute.reason} — {about}. "
            f"Aanmanen {'hervat' if resolved else 'gepauzeerd'} / dunning {'resumes' if resolved else 'paused'}.")
    if dispute.note:
        text += f"\n{dispute.note}"
    assert dispute.debtor_source_id is not None
    return note_action(dispute.connection_id, dispute.debtor_source_id, items, day,
                       _key(dispute.connection_id, "dispute", "resolved" if resolved else "opened", dispute.id), text)


def agreement_note(agreement: AgreementRow, state: AgreementState, day: date, detail: str) -> PlannedAction:
    kind = "Betalingsbelofte / promise to pay" if agreement.kind == "promise" else "Betalingsregeling / payment plan"
    words = {
        AgreementState.KEPT: "nagekomen / kept",
        AgreementState.COMPLETED: "volledig betaald / paid in full",
        AgreementState.BROKEN: "niet nagekomen, aanmanen hervat / broken, dunning resumes",
        AgreementState.CANCELLED: "ingetrokken, aanmanen hervat / cancelled, dunning resumes",
    }
    amount = Money(amount=agreement.amount, currency=agreement.currency) if agreement.amount is not None and agreement.currency else None
    return note_action(
        agreement.connection_id, agreement.debtor_source_id, agreement.item_source_ids, day,
        _key(agreement.connection_id, agreement.kind, agreement.id, state.value), f"{kind} {words[state]}. {detail}".strip(),
        amount,
    )


def check(store: Store, connection: ConnectionConfig, rules: Rules, day: date) -> DeskCheck:
    """Judge the connection's promises, plans and disputes on ``day`` (see the module docstring)."""
    desk = Desk(store)
    cid = connection.name
    result = DeskCheck(cid, day)
    settings = rules.desk
    for agreement in desk.agreements(cid, states=[AgreementState.ACTIVE]):
        _judge_agreement(desk, agreement, settings.instalment_reminder_days, day, rules, result)
    # A desk action that failed or stopped half-way on an earlier check is carried out again (its
    # agreement is closed by now, so nothing else would bring it back), up to MAX_ATTEMPTS times.
    for entry in store.journal(cid, states=[ApplyOutcome.FAILED, ApplyOutcome.PENDING]):
        action = entry.action
        if DESK in action.details and "#" not in action.idempotency_key and entry.attempts < MAX_ATTEMPTS:
            result.actions.append(action)
    for dispute in desk.disputes(cid, open_only=True):
        if dispute.past_review(day) and dispute.debtor_source_id is not None:
            assert dispute.review_on is not None
            result.events.append(DeskEvent("dispute past review", dispute.debtor_source_id, dispute.id, dispute.review_on,
                                           f"{dispute.category}: {dispute.reason}"))
            result.actions.append(PlannedAction(
                idempotency_key=_key(cid, "dispute", "review", dispute.id, dispute.review_on.isoformat()),
                connection_id=cid, debtor_source_id=dispute.debtor_source_id,
                item_source_ids=(dispute.item_source_id,) if dispute.item_source_id else (),
                kind=ActionKind.CALL_TASK, step="dispute_review", channel="phone", template="call_task", run_date=day,
                details={DESK: "dispute_review"},
                reason=f"Geschil voorbij reviewdatum / dispute past its review date ({dispute.review_on.isoformat()}): "
                       f"{dispute.category}: {dispute.reason}",
            ))
    return result


def _judge_agreement(desk: Desk, agreement: AgreementRow, remind_days: int | None, day: date, rules: Rules,
                     result: DeskCheck) -> None:
    cid = agreement.connection_id
    is_plan = agreement.kind == "plan"
    states = desk.item_states(cid, agreement.item_source_ids)
    amounts = {k: (a, cur, status) for k, (a, cur, status, _) in states.items()}
    open_left = sum((a for a, _, status in amounts.values() if status in ("open", "disputed")), Decimal(0))
    payments = desk.payments_towards(cid, agreement.item_source_ids, agreement.agreed_on)
    payments += unexplained_reductions(agreement, states, payments, day)
    verdict = judge(agreement.schedule, payments, today=day, grace_days=agreement.grace_days, open_left=open_left,
                    remind_days_before=remind_days if is_plan else None, is_plan=is_plan)
    noun = "plan" if is_plan else "promise"
    if verdict.state == AgreementState.ACTIVE:
        for index in verdict.to_remind:
            result.events.append(DeskEvent("instalment due", agreement.debtor_source_id, agreement.id,
                                           agreement.schedule[index].due, f"instalment {index + 1}"))
            result.actions.append(_instalment_reminder(agreement, index, verdict.allocated[index], amounts, day, rules))
        return
    on = verdict.on or day
    closed = desk.close_agreement(cid, agreement.id, verdict.state, on)
    if verdict.state == AgreementState.BROKEN:
        missed = agreement.schedule[verdict.instalment or 0]
        detail = (f"Termijn / instalment {(verdict.instalment or 0) + 1} van / of {missed.due.isoformat()} "
                  f"({missed.amount}) niet betaald / not paid; betaald / paid {verdict.paid}.")
    else:
        detail = f"Betaald / paid {verdict.paid} op / on {on.isoformat()}."
    result.events.append(DeskEvent(f"{noun} {verdict.state.value}", agreement.debtor_source_id, agreement.id, on, detail))
    result.actions.append(agreement_note(closed, verdict.state, day, detail))


def unexplained_reductions(
    agreement: AgreementRow, states: dict[str, tuple[Decimal, str, str, date | None]],
    payments: Sequence[tuple[date, Decimal]], day: date,
) -> list[tuple[date, Decimal]]:
    """Payments the package shows only as a lower open amount (no payment record): what the covered
    items lost since the agreement beyond the recorded payments, dated on the day an item closed or,
    while it is still open, on ``day`` (the first check that sees it)."""
    drops: list[tuple[date, Decimal]] = []
    for item, start in agreement.open_at_start.items():
        found = states.get(item)
        if found is None:
            continue
        amount, _, status, closed_on = found
        now = amount if status in ("open", "disputed") else Decimal(0)
        if start - now > 0:
            drops.append((closed_on or day if now == 0 else day, start - now))
    extra = sum((a for _, a in drops), Decimal(0)) - sum((a for _, a in payments if a > 0), Decimal(0))
    out: list[tuple[date, Decimal]] = []
    for when, amount in sorted(drops):
        if extra <= 0:
            break
        share = min(amount, extra)
        out.append((max(when, agreement.agreed_on), share))
        extra -= share
    return out


def _instalment_reminder(agreement: AgreementRow, index: int, paid: Decimal, amounts: dict[str, tuple[Decimal, str, str]],
                         day: date, rules: Rules) -> PlannedAction:
    instalment = agreement.schedule[index]
    currency = agreement.currency or "EUR"
    due = instalment.amount - paid
    items = [
        {"source_id": item, "document_number": item, "open": str(amount), "currency": cur}
        for item, (amount, cur, status) in sorted(amounts.items()) if status in ("open", "disputed")
    ]
    settings = rules.desk
    return PlannedAction(
        idempotency_key=_key(agreement.connection_id, "plan", agreement.id, "instalment", index),
        connection_id=agreement.connection_id, debtor_source_id=agreement.debtor_source_id,
        item_source_ids=agreement.item_source_ids, kind=ActionKind.REMINDER, step="instalment_reminder",
        channel=settings.instalment_reminder_channel, template=settings.instalment_reminder_template, run_date=day,
        amount=Money(amount=due, currency=currency),
        reason=f"Termijn / instalment {index + 1} of the payment plan falls due on {instalment.due.isoformat()}",
        details={DESK: "instalment", "pay_by": instalment.due.isoformat(), "items": json.dumps(items), "instalment": str(index + 1),
                 "instalments": str(len(agreement.schedule))},
    )


# --------------------------------------------------------------------------- the edge


@dataclass
class DeskRun:
    check: DeskCheck
    report: DispatchReport | None = None
    #: settled invoices of the last 13 months stored by this run (None: nothing to backfill)
    history: int | None = None

    @property
    def failed(self) -> int:
        return self.report.count(ApplyOutcome.FAILED) if self.report else 0


def dispatch(connection: ConnectionConfig, store: Store, rules: Rules, actions: Iterable[PlannedAction]) -> DispatchReport:
    """Carry desk actions out through the package's adapter and our channels, journaled."""
    from connector.actions.applying import channels_for, creditor_facts, template_dir
    from connector.auth import open_secret_store
    from connector.runtime import api_for, build_adapter

    todo = list(actions)
    if not todo:
        return DispatchReport()
    config = cfg.load_config()
    credential = config.credential(connection.credential)
    with api_for(credential, connection.administration, open_secret_store()) as api:
        adapter = build_adapter(api, connection, store)
        dispatcher = Dispatcher(
            store=store, adapter_apply=adapter.apply, capabilities=adapter.capabilities, channels=channels_for(connection),
            creditor=creditor_facts(rules.creditor), template_dir=template_dir(connection, rules),
            package_title=package_spec(connection.package).title,
        )
        return dispatcher.run(todo)


HISTORY_KEY = "desk:history"


def backfill_history(connection: ConnectionConfig, store: Store, day: date) -> int | None:
    """Once per connection: store the settled invoices of the last 13 months of a package whose
    sync reads only unpaid ones (an adapter with ``settled_history``, Moneybird), so the first KPI
    report has history. Returns the invoices stored, or None when it was done before or the
    package's sync reads history itself (Exact). Nothing is marked done until every page is stored."""
    from connector.auth import open_secret_store
    from connector.runtime import api_for, build_adapter

    if store.get_state(connection.name, [HISTORY_KEY]).get(HISTORY_KEY):
        return None
    config = cfg.load_config()
    stored = 0
    with api_for(config.credential(connection.credential), connection.administration, open_secret_store()) as api:
        adapter = build_adapter(api, connection, store)
        history = getattr(adapter, "settled_history", None)
        if history is not None:
            for page in history():
                store.save_page(connection.name, "open_items", page)
                stored += len(page.records)
    store.save_page(connection.name, "open_items", Page[OpenItem](state={HISTORY_KEY: day.isoformat()}))
    return stored if history is not None else None


def run_desk(name: str, day: date | None = None, *, snapshot: bool = True) -> DeskRun:
    """After a sync: take the day's receivables snapshot, judge promises, plans and disputes, and
    carry out the notes, reminders and calls, under the connection's lease."""
    from connector.actions.planning import rules_path
    from connector.runtime import open_store, today
    from connector.store.lease import connection_lease
    from rules.loading import load_rules

    config = cfg.load_config()
    connection = config.connection(name)
    run_day = day or today(connection.timezone)
    store = open_store()
    try:
        with connection_lease(connection.name):
            history = backfill_history(connection, store, run_day)
            if snapshot:
                Desk(store).take_snapshot(connection.name, run_day, datetime.now(UTC))
            if not connection.rules_file:
                return DeskRun(DeskCheck(connection.name, run_day), history=history)
            rules = load_rules(rules_path(connection))
            found = check(store, connection, rules, run_day)
            return DeskRun(found, dispatch(connection, store, rules, found.actions), history=history)
    finally:
        store.close()


def attention(store: Store, connections: Iterable[str], day: date, *, days_back: int = 30) -> list[dict[str, str]]:
    """What ``arconnect status`` lists for the desk: promises and plans broken in the last
    ``days_back`` days, instalments past their date and not paid, disputes past their review date."""
    from datetime import timedelta

    desk = Desk(store)
    since = day - timedelta(days=days_back)
    rows: list[dict[str, str]] = []
    for cid in connections:
        names = desk.debtor_names(cid)
        for agreement in desk.agreements(cid, states=[AgreementState.BROKEN, AgreementState.ACTIVE]):
            who = names.get(agreement.debtor_source_id, agreement.debtor_source_id)
            if agreement.state == AgreementState.BROKEN and agreement.closed_on and agreement.closed_on >= since:
                what = "broken promise" if agreement.kind == "promise" else "plan broken (missed instalment)"
                rows.append({"connection": cid, "what": what, "ref": str(agreement.id), "debtor": who,
                             "since": agreement.closed_on.isoformat()})
            elif agreement.state == AgreementState.ACTIVE and agreement.kind == "plan":
                payments = desk.payments_towards(cid, agreement.item_source_ids, agreement.agreed_on)
                verdict = judge(agreement.schedule, payments, today=day, grace_days=agreement.grace_days, is_plan=True)
                index = verdict.instalment
                if index is not None and agreement.schedule[index].due < day:
                    rows.append({"connection": cid, "what": f"instalment {index + 1} missed (in grace)",
                                 "ref": str(agreement.id), "debtor": who,
                                 "since": agreement.schedule[index].due.isoformat()})
        for dispute in desk.disputes(cid, open_only=True):
            if dispute.past_review(day) and dispute.review_on is not None:
                rows.append({"connection": cid, "what": "dispute past review", "ref": str(dispute.id),
                             "debtor": names.get(dispute.debtor_source_id or "", dispute.debtor_source_id or ""),
                             "since": dispute.review_on.isoformat()})
    return rows
