"""Routes each planned action to its effects and runs every effect once, journaled.

One dunning step may need several effects: a reminder by e-mail is the e-mail (SMTP), the letter
stored as a document in the package, and a communication note that records the step; a call task
is a task in the package and a row on the call list; a hand-over is the hand-over file and a note.
Block, unblock, credit limit, doubtful and write-off go to the adapter as they are.

Journal (docs/architecture.md §3, §9):

* the planned action itself is journaled first, under its own idempotency key; a key that is
  already final is skipped whole, so a second apply does nothing and reads nothing remote;
* each effect is journaled under a derived key ``<key>#<effect>`` **before** it runs, through
  :func:`connector.actions.writeback.apply_actions`, and finished with its own outcome;
* the action is then finished with the combined outcome: ``done`` when every effect is done or was
  already true, ``failed`` when one failed (the next run retries only the effects not yet final).

Actions with a single effect in the package (block, unblock, credit limit, …) are journaled once
under their own key, exactly as :func:`apply_actions` always did, so blocks are recorded the same way.

The journal is not the only guard (issue 11.2): the package's own record of a step (the note, the
document, each tagged with the effect's key) is written **before** anything leaves the building (the
e-mail, the letter, the hand-over file). When that record is already in the package on the first try
of a step the journal does not know (a removed connection, a lost database), the step was carried out
before: the deliveries are journaled ``already_true`` and nothing is sent. When the record cannot be
written (the package is down), nothing is sent on this run. A record without a delivery (the e-mail
then failed) errs on the side of never dunning twice.

E-mail is at most once: see :mod:`connector.actions.channels.email`. A pending e-mail found on a later run
(the process stopped after handing it to the server) is not resent but marked ``failed`` with a
reason that starts with :data:`MANUAL_CHECK`; it stays so (never resent) until a person acts.

An action the package cannot take is ``unsupported`` with the reason (docs/architecture.md §5), and the
connector's own channel takes over where one fits: e-mail or a letter file instead of the package's
reminders, the call list, the hand-over file. arconnect never lifts a block it did not set: an
``unblock`` of a debtor that is not in :meth:`Store.blocks_by_us` is refused, whatever the plan says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path

from connector.actions.channels import calls, handover, outbox
from connector.actions.channels.email import (
    DeliveryUncertain,
    InvalidAddress,
    MailNotSent,
    SmtpSender,
    build_message,
    checked_address,
)
from connector.actions.writeback import FINAL_STATES, apply_actions
from connector.errors import ArconnectError, ConfigError, ReauthRequired, UnsupportedAction
from connector.model import ActionKind, ApplyOutcome, ApplyResult, Debtor, DebtorKind, PlannedAction
from connector.ports import Capability
from connector.store import Store
from rules.letters import LANGUAGES, CreditorFacts, LetterError, RenderedLetter, context_for, render

MANUAL_CHECK = "manual check:"

log = logging.getLogger(__name__)


class Effect(StrEnum):
    EMAIL = "email"  # our SMTP channel
    LETTER = "letter"  # a letter file to print and post (our outbox)
    DOCUMENT = "document"  # the letter stored as a document in the package
    NOTE = "note"  # the step recorded as a communication note in the package
    TASK = "task"  # a task in the package (call)
    CALL_LIST = "call_list"  # our call list
    HANDOVER = "handover"  # our hand-over file
    PACKAGE = "package"  # the adapter does the action itself


MESSAGE_KINDS = frozenset({ActionKind.REMINDER, ActionKind.FORMAL_NOTICE, ActionKind.NOTICE_OF_DEFAULT})
#: Effects that record the step in the package, tagged with its key (the package's marker).
RECORDS = frozenset({Effect.NOTE, Effect.DOCUMENT})
#: Effects that leave the building: they wait for the package's record and never run when it shows
#: the step was already carried out.
DELIVERIES = frozenset({Effect.EMAIL, Effect.LETTER, Effect.HANDOVER})
MARKED_BEFORE = "the package's own record shows this step was already carried out; not sent again"


def route(action: PlannedAction, capabilities: Iterable[Capability]) -> list[Effect]:
    """The effects of one planned action, in the order they run (pure; see the module docstring)."""
    caps = set(capabilities)
    channel = (action.channel or "none").lower()
    kind = action.kind
    effects: list[Effect] = []

    def record(effect: Effect, capability: Capability) -> None:
        if capability in caps:
            effects.append(effect)

    if kind in MESSAGE_KINDS:
        if channel in ("email", "letter", "registered_letter"):
            # The package's record of the step first: the marker is there before the message leaves.
            record(Effect.DOCUMENT, Capability.ADD_DOCUMENT)
            record(Effect.NOTE, Capability.ADD_NOTE)
            effects.append(Effect.EMAIL if channel == "email" else Effect.LETTER)
            return effects
        if channel == "phone":
            record(Effect.TASK, Capability.ADD_TASK)
            effects.append(Effect.CALL_LIST)
        elif channel == "package":
            effects.append(Effect.PACKAGE)
        record(Effect.NOTE, Capability.ADD_NOTE)
        return effects
    if kind == ActionKind.CALL_TASK:
        record(Effect.TASK, Capability.ADD_TASK)
        effects.append(Effect.CALL_LIST)
        return effects
    if kind == ActionKind.COLLECTION_HANDOVER:
        record(Effect.NOTE, Capability.ADD_NOTE)
        effects.append(Effect.HANDOVER)
        if channel == "email":
            effects.append(Effect.EMAIL)
        elif channel in ("letter", "registered_letter"):
            effects.append(Effect.LETTER)
        return effects
    return [Effect.PACKAGE]


def sub_key(key: str, effect: Effect) -> str:
    return f"{key}#{effect.value}"


@dataclass(frozen=True)
class EffectResult:
    action: PlannedAction
    effect: Effect | None  # None: the action as a whole (skipped, or single-effect)
    outcome: ApplyOutcome | None  # None: skipped, already final in the journal
    reason: str = ""
    remote_reference: str | None = None


@dataclass
class DispatchReport:
    actions: int = 0
    skipped: int = 0
    results: list[EffectResult] = field(default_factory=list)
    emails_sent: int = 0

    def count(self, outcome: ApplyOutcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def changed(self) -> int:
        """Effects that changed something (done), across all actions."""
        return self.count(ApplyOutcome.DONE)


@dataclass
class Channels:
    """Where our own channels write, and the SMTP sender (None: no mail settings)."""

    outbox_dir: Path
    calls_file: Path
    handover_dir: Path
    mail: SmtpSender | None = None
    sender_name: str | None = None


class Dispatcher:
    """Applies planned actions for one connection: adapter + our channels, journaled in ``store``."""

    def __init__(
        self,
        *,
        store: Store,
        adapter_apply: Callable[[PlannedAction], ApplyResult],
        capabilities: Iterable[Capability],
        channels: Channels,
        creditor: CreditorFacts,
        template_dir: Path | None = None,
        package_title: str = "the package",
    ) -> None:
        self.store = store
        self.adapter_apply = adapter_apply
        self.capabilities = frozenset(capabilities)
        self.channels = channels
        self.creditor = creditor
        self.template_dir = template_dir
        self.package_title = package_title
        self._debtors: dict[tuple[str, str], Debtor | None] = {}
        self._letters: dict[str, RenderedLetter] = {}

    # ------------------------------------------------------------------ run

    def run(self, actions: Iterable[PlannedAction]) -> DispatchReport:
        report = DispatchReport()
        for action in actions:
            report.actions += 1
            effects = route(action, self.capabilities)
            if effects == [Effect.PACKAGE] and action.kind not in MESSAGE_KINDS:
                self._single(action, report)
            else:
                self._multi(action, effects, report)
        return report

    def _single(self, action: PlannedAction, report: DispatchReport) -> None:
        result = apply_actions([action], self.store, partial(self._guarded, self._package))
        _, outcome = result.results[0]
        if outcome is None:
            report.skipped += 1
            report.results.append(EffectResult(action, None, None, "already applied"))
        else:
            report.results.append(EffectResult(action, Effect.PACKAGE, outcome.outcome, outcome.reason, outcome.remote_reference))

    def _multi(self, action: PlannedAction, effects: list[Effect], report: DispatchReport) -> None:
        entry, _ = self.store.journal_begin(action)
        if entry.state.value in FINAL_STATES:
            report.skipped += 1
            report.results.append(EffectResult(action, None, None, "already applied"))
            return
        outcomes: list[tuple[Effect, ApplyOutcome, str]] = []
        problem = self._cannot_deliver(action, effects)
        unrecorded = False  # a record of the step failed: nothing leaves the building on this run
        marked_before = False  # the package already had the step's marker, unknown to the journal
        # FAILED or UNSUPPORTED when a delivering effect that runs before the records (package, phone) was not done
        undelivered: ApplyOutcome | None = None
        for effect in effects:
            if problem is not None and effect not in DELIVERIES:
                # Not journaled: the step is recorded on the run that can deliver it.
                outcomes.append((effect, ApplyOutcome.FAILED, f"{effect.value} waits until the step can be delivered"))
                continue
            if effect in DELIVERIES and unrecorded and not marked_before:
                # Not journaled: it runs on the run that records the step in the package.
                outcomes.append((effect, ApplyOutcome.FAILED, f"{effect.value} waits until the step is recorded in the package"))
                continue
            if effect in RECORDS and undelivered is not None:
                outcomes.append((effect, undelivered, f"{effect.value} waits until the step is delivered"))
                continue
            sub = self._sub_action(action, effect)
            first_try = self.store.journal_entry(sub.idempotency_key) is None
            run: Callable[[PlannedAction], ApplyResult] = partial(self._run_effect, effect)
            if effect in DELIVERIES and marked_before:
                run = _marked_before
            elif effect in DELIVERIES and problem is not None:
                run = partial(_failed, problem)
            try:
                applied = apply_actions([sub], self.store, partial(self._guarded, run))
            except ReauthRequired:
                self.store.journal_finish(action.idempotency_key, ApplyResult(outcome=ApplyOutcome.FAILED, reason="re-link needed"))
                raise
            _, result = applied.results[0]
            if result is None:  # the effect was final already (an earlier run)
                state = self.store.journal_entry(sub.idempotency_key)
                outcome = state.state if state is not None else ApplyOutcome.DONE
                reason = (state.reason or "") if state is not None else ""
                report.results.append(EffectResult(action, effect, None, "already applied"))
            else:
                outcome, reason = result.outcome, result.reason
                if effect == Effect.EMAIL and outcome == ApplyOutcome.DONE:
                    report.emails_sent += 1
                report.results.append(EffectResult(action, effect, outcome, reason, result.remote_reference))
            outcomes.append((effect, outcome, reason))
            if effect in RECORDS:
                # Found in the package on a first try: an earlier run (whose journal is gone) did it.
                if result is not None and outcome == ApplyOutcome.ALREADY_TRUE and first_try:
                    marked_before = True
                if outcome == ApplyOutcome.FAILED:
                    unrecorded = True
            elif outcome in (ApplyOutcome.FAILED, ApplyOutcome.UNSUPPORTED):
                undelivered = ApplyOutcome.FAILED if ApplyOutcome.FAILED in (outcome, undelivered) else outcome
        self.store.journal_finish(action.idempotency_key, combine(outcomes))

    def _cannot_deliver(self, action: PlannedAction, effects: list[Effect]) -> str | None:
        """Why the message of this step cannot leave on this run (checked before its record is
        written, so the package never records a step that cannot be sent); None when it can."""
        if Effect.EMAIL not in effects and Effect.LETTER not in effects:
            return None
        try:
            self._letter(action)
        except LetterProblem as exc:
            return str(exc)
        except Exception as exc:  # odd data in the letter: this step fails alone, the run goes on
            log.debug("letter for %s failed unexpectedly", action.idempotency_key, exc_info=True)
            return f"the letter cannot be made: unexpected {type(exc).__name__}: {exc}"
        if Effect.EMAIL not in effects:
            return None
        if self.channels.mail is None:
            return "no mail settings for this connection (config.yaml: mail)"
        debtor = self._debtor(action)
        if not (debtor and debtor.emails):
            return "the debtor has no e-mail address; add one in the package"
        try:  # package data: an address with a line break or a comma is never used (nor recorded as sent)
            for address in debtor.emails:
                checked_address(address)
        except InvalidAddress as exc:
            return str(exc)
        return None

    # ------------------------------------------------------------------ effects

    def _sub_action(self, action: PlannedAction, effect: Effect) -> PlannedAction:
        # Without "profile": the planner folds journal entries with a profile into the step history,
        # and an effect is not a step of its own (the action's entry is).
        details = {k: v for k, v in action.details.items() if k != "profile"}
        details.update(effect=effect.value, parent_key=action.idempotency_key)
        if action.details.get("profile"):
            details["parent_profile"] = action.details["profile"]  # for the step record in the package's note
        update: dict[str, object] = {"idempotency_key": sub_key(action.idempotency_key, effect), "details": details}
        if effect == Effect.TASK:
            update["kind"] = ActionKind.CALL_TASK
        return action.model_copy(update=update)

    def _guarded(self, run: Callable[[PlannedAction], ApplyResult], action: PlannedAction) -> ApplyResult:
        """``run(action)``; an unexpected error fails this effect alone, never the run (one odd
        debtor never stops the others). Errors of the tree pass through to :func:`apply_actions`."""
        try:
            return run(action)
        except ArconnectError:
            raise
        except Exception as exc:
            log.debug("effect %s failed unexpectedly", action.idempotency_key, exc_info=True)
            raise EffectFailed(f"unexpected {type(exc).__name__}: {exc}") from None

    def _run_effect(self, effect: Effect, action: PlannedAction) -> ApplyResult:
        if effect == Effect.EMAIL:
            return self._email(action)
        if effect == Effect.LETTER:
            path, new = outbox.write_letter(self.channels.outbox_dir, action.idempotency_key, self._debtor_label(action), action.run_date, self._letter(action))
            return _written(path, new)
        if effect == Effect.CALL_LIST:
            added = calls.append_call(self.channels.calls_file, calls.call_row(action, self._debtor(action)))
            return _written(self.channels.calls_file, added)
        if effect == Effect.HANDOVER:
            claim = handover.build_claim(action, self._debtor(action), self.creditor, self._history(action))
            path, new = handover.write_claim(self.channels.handover_dir, claim)
            return _written(path, new)
        if effect == Effect.DOCUMENT:
            letter = self._letter(action)
            details = {
                **action.details,
                "document_subject": letter.subject,
                "document_body": letter.text,
                "document_html": letter.html,
                "document_file": f"{action.run_date.isoformat()}-{action.template or action.kind.value}.pdf",
            }
            return self.adapter_apply(action.model_copy(update={"details": details}))
        if effect == Effect.PACKAGE and Capability.SEND_REMINDER not in self.capabilities and action.kind in MESSAGE_KINDS:
            raise UnsupportedAction(
                f"{self.package_title} cannot send reminders through its API; use channel email or letter for step {action.step or action.kind.value}"
            )
        return self.adapter_apply(action)

    def _package(self, action: PlannedAction) -> ApplyResult:
        if action.kind == ActionKind.UNBLOCK and action.debtor_source_id not in self.store.blocks_by_us(action.connection_id):
            return ApplyResult(
                outcome=ApplyOutcome.UNSUPPORTED,
                reason="not lifted: this block was not set by arconnect (a bookkeeper's block is never lifted)",
            )
        return self.adapter_apply(action)

    def _email(self, action: PlannedAction) -> ApplyResult:
        entry = self.store.journal_entry(action.idempotency_key)
        if entry is not None:
            if entry.state == ApplyOutcome.PENDING and entry.attempts > 1:
                return ApplyResult(
                    outcome=ApplyOutcome.FAILED,
                    reason=f"{MANUAL_CHECK} a run stopped after this e-mail was handed to the mail server; it is not resent. "
                    f"Look for Message-ID {self._message_id(action)} and mark it done or send it by hand",
                )
            if entry.state == ApplyOutcome.FAILED and (entry.reason or "").startswith(MANUAL_CHECK):
                return ApplyResult(outcome=ApplyOutcome.FAILED, reason=entry.reason or MANUAL_CHECK)
        sender = self.channels.mail
        if sender is None:
            return ApplyResult(outcome=ApplyOutcome.FAILED, reason="no mail settings for this connection (config.yaml: mail)")
        debtor = self._debtor(action)
        to = list(debtor.emails) if debtor else []
        if not to:
            return ApplyResult(outcome=ApplyOutcome.FAILED, reason="the debtor has no e-mail address; add one in the package")
        try:  # before anything is handed to the server: a bad address is "not sent", never "uncertain"
            to = [checked_address(address) for address in to]
        except InvalidAddress as exc:
            return ApplyResult(outcome=ApplyOutcome.FAILED, reason=str(exc))
        message = build_message(
            self._letter(action), sender=sender.settings.sender, sender_name=self.channels.sender_name or self.creditor.name,
            to=to, idempotency_key=action.idempotency_key,
        )
        try:
            sender.send(message)
        except MailNotSent as exc:
            return ApplyResult(outcome=ApplyOutcome.FAILED, reason=str(exc))
        except DeliveryUncertain as exc:
            return ApplyResult(outcome=ApplyOutcome.FAILED, reason=f"{MANUAL_CHECK} {exc}; not resent")
        except Exception as exc:  # while talking to the server: it may have gone out, never resend on our own
            log.debug("e-mail %s: unexpected error while sending", action.idempotency_key, exc_info=True)
            return ApplyResult(outcome=ApplyOutcome.FAILED, reason=f"{MANUAL_CHECK} unexpected {type(exc).__name__} while sending; not resent")
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=str(message["Message-ID"]))

    # ------------------------------------------------------------------ helpers

    def _message_id(self, action: PlannedAction) -> str:
        from connector.actions.channels.email import message_id

        sender = self.channels.mail.settings.sender if self.channels.mail else ""
        return message_id(action.idempotency_key, sender)

    def _debtor(self, action: PlannedAction) -> Debtor | None:
        key = (action.connection_id, action.debtor_source_id)
        if key not in self._debtors:
            self._debtors[key] = self.store.debtor(*key)
        return self._debtors[key]

    def _debtor_label(self, action: PlannedAction) -> str:
        debtor = self._debtor(action)
        return (debtor.code or debtor.source_id) if debtor else action.debtor_source_id

    def _letter(self, action: PlannedAction) -> RenderedLetter:
        parent = action.details.get("parent_key") or action.idempotency_key
        if parent not in self._letters:
            self._letters[parent] = letter_for(action, self._debtor(action), self.creditor, self.template_dir)
        return self._letters[parent]

    def _history(self, action: PlannedAction) -> list[handover.HistoryLine]:
        lines: list[handover.HistoryLine] = []
        for entry in self.store.journal(action.connection_id):
            if entry.debtor_source_id != action.debtor_source_id or "#" in entry.idempotency_key:
                continue
            if entry.idempotency_key == action.details.get("parent_key"):
                continue
            lines.append(handover.HistoryLine(
                date=entry.run_date, step=entry.step, kind=entry.kind.value, channel=entry.channel,
                outcome=entry.state.value, reference=entry.remote_reference,
            ))
        return lines


class LetterProblem(ArconnectError):
    """A letter that does not render: the effect fails with the template's one-line problem."""


class EffectFailed(ArconnectError):
    """An effect stopped on an unexpected error (odd data): it fails alone, with the reason."""


def letter_language(action: PlannedAction, debtor: Debtor | None) -> str:
    for candidate in (action.language, debtor.language if debtor else None):
        if candidate and candidate.lower()[:2] in LANGUAGES:
            return candidate.lower()[:2]
    return "nl"


def letter_for(
    action: PlannedAction, debtor: Debtor | None, creditor: CreditorFacts, template_dir: Path | None = None
) -> RenderedLetter:
    """The letter (subject, text, HTML) of one planned message, exactly as apply sends it."""
    context = context_for(
        action,
        creditor=creditor,
        debtor_name=debtor.name if debtor else action.debtor_source_id,
        debtor_code=debtor.code if debtor else None,
        consumer=debtor is None or debtor.kind != DebtorKind.BUSINESS,
    )
    template = action.template or action.kind.value
    try:
        return render(template, letter_language(action, debtor), context, template_dir)
    except LetterError as exc:
        raise LetterProblem(str(exc)) from None


def _failed(reason: str, action: PlannedAction) -> ApplyResult:
    return ApplyResult(outcome=ApplyOutcome.FAILED, reason=reason)


def _marked_before(action: PlannedAction) -> ApplyResult:
    return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason=MARKED_BEFORE)


def _written(path: Path, new: bool) -> ApplyResult:
    if new:
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=str(path))
    return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, remote_reference=str(path), reason="already written")


def combine(outcomes: list[tuple[Effect, ApplyOutcome, str]]) -> ApplyResult:
    """The action's outcome from its effects' outcomes."""
    failed = [f"{effect.value}: {reason}" for effect, outcome, reason in outcomes if outcome == ApplyOutcome.FAILED]
    if failed:
        return ApplyResult(outcome=ApplyOutcome.FAILED, reason="; ".join(failed))
    states = {outcome for _, outcome, _ in outcomes}
    if not outcomes or states == {ApplyOutcome.UNSUPPORTED}:
        reasons = "; ".join(reason for _, _, reason in outcomes) or "no effect fits this action"
        return ApplyResult(outcome=ApplyOutcome.UNSUPPORTED, reason=reasons)
    if states <= {ApplyOutcome.ALREADY_TRUE, ApplyOutcome.UNSUPPORTED}:
        return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason="every effect was already true")
    unsupported = [f"{effect.value}: {reason}" for effect, outcome, reason in outcomes if outcome == ApplyOutcome.UNSUPPORTED]
    return ApplyResult(outcome=ApplyOutcome.DONE, reason="; ".join(unsupported))


def manual_checks(store: Store, connection_id: str) -> list[tuple[str, str, str]]:
    """E-mails waiting for a person: (effect key, debtor, reason)."""
    return [
        (e.idempotency_key, e.debtor_source_id, e.reason or "")
        for e in store.journal(connection_id, states=[ApplyOutcome.FAILED])
        if (e.reason or "").startswith(MANUAL_CHECK)
    ]


def resolve_manual_check(store: Store, key: str, *, sent: bool) -> None:
    """A person checked an e-mail marked for manual check: it was sent (done, never resent) or it
    was not (the next run sends it)."""
    entry = store.journal_entry(key)
    if entry is None:
        raise ConfigError(f"no journal entry {key!r}; 'arconnect mail checks' lists the e-mails to check")
    if entry.state != ApplyOutcome.FAILED or not (entry.reason or "").startswith(MANUAL_CHECK):
        raise ConfigError(f"{key!r} is not waiting for a manual check (it is {entry.state.value})")
    if sent:
        store.journal_finish(key, ApplyResult(outcome=ApplyOutcome.DONE, reason="confirmed sent by a person"))
    else:
        store.journal_finish(key, ApplyResult(outcome=ApplyOutcome.FAILED, reason="confirmed not sent by a person; the next run sends it"))
