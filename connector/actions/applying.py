"""``arconnect apply``: plan with the connection's rules, then apply everything once, journaled.

:func:`apply_connection` is what the CLI and the scheduler's dunning job call. It holds the
connection's lease (:func:`connector.store.lease.connection_lease`) for the whole run, plans through
:func:`connector.actions.planning.plan_connection`, and hands the actions to a
:class:`~connector.actions.dispatch.Dispatcher` wired to the package's adapter and arconnect's own channels:

* e-mail over SMTP with ``ConnectionConfig.mail`` (the password from ``ARCONNECT_SMTP_PASSWORD``
  or the secret store, never from config.yaml, never logged);
* letters to print in ``<data dir>/outbox/<connection>/``;
* the call list in ``<data dir>/calls/<connection>.csv``;
* hand-over files in ``<data dir>/handover/<connection>/``.

Templates are looked up in the rules' own template dir first (``letters.templates_dir``, relative
to the rules file, as ``rules check`` validates them), then in the shipped ``rules/templates``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from connector import config as cfg
from connector.actions.channels.email import SmtpSender, smtp_password
from connector.actions.dispatch import Channels, Dispatcher, DispatchReport, EffectResult
from connector.actions.planning import PlanResult, plan_connection, rules_path
from connector.actions.rebuild import needs_rebuild, rebuild_journal
from connector.auth import open_secret_store
from connector.errors import ArconnectError, JournalUnchecked, ReauthRequired
from connector.escaping import NAME_LIMIT, for_markup
from connector.model import ApplyOutcome, PlannedAction
from connector.packages import package_spec
from connector.store import Store
from connector.store.lease import connection_lease
from rules.letters import CreditorFacts


@dataclass
class ApplyRunResult:
    connection: str
    run_date: date
    planned: int = 0
    confirmed: bool = True
    warnings: list[str] = field(default_factory=list)
    report: DispatchReport | None = None
    #: debtor source id → "code name", for tables
    debtor_names: dict[str, str] = field(default_factory=dict)

    @property
    def results(self) -> list[EffectResult]:
        return self.report.results if self.report else []

    @property
    def changed(self) -> int:
        return self.report.changed if self.report else 0

    @property
    def failed(self) -> int:
        return self.report.count(ApplyOutcome.FAILED) if self.report else 0

    @property
    def emails_sent(self) -> int:
        return self.report.emails_sent if self.report else 0

    def counts(self) -> dict[str, int]:
        if self.report is None:
            return {"planned": self.planned}
        out = {"planned": self.planned, "skipped": self.report.skipped, "emails": self.report.emails_sent}
        for outcome in (ApplyOutcome.DONE, ApplyOutcome.ALREADY_TRUE, ApplyOutcome.FAILED, ApplyOutcome.UNSUPPORTED):
            out[outcome.value] = self.report.count(outcome)
        return out


def creditor_facts(creditor: Any) -> CreditorFacts:
    """The letter's view of ``Rules.creditor`` (any pydantic model or mapping with those fields)."""
    raw = creditor.model_dump() if hasattr(creditor, "model_dump") else dict(creditor)
    return CreditorFacts.model_validate(raw)


def template_dir(connection: cfg.ConnectionConfig, rules: Any) -> Path | None:
    """``letters.templates_dir`` of the rules, relative to the rules file (the dir ``rules check``
    validates); None when the rules use only the shipped templates."""
    letters = getattr(rules, "letters", None)
    name = getattr(letters, "templates_dir", None)
    if not name or not connection.rules_file:
        return None
    return rules_path(connection).parent / str(name)


def channels_for(connection: cfg.ConnectionConfig, data_dir: Path | None = None) -> Channels:
    base = data_dir or cfg.data_dir()
    mail = None
    if connection.mail is not None:
        password = smtp_password(connection.name) if connection.mail.username else None
        mail = SmtpSender(connection.mail, password)
    return Channels(
        outbox_dir=base / "outbox" / connection.name,
        calls_file=base / "calls" / f"{connection.name}.csv",
        handover_dir=base / "handover" / connection.name,
        mail=mail,
    )


def unverified_rate_refusals(actions: Sequence[PlannedAction]) -> tuple[list[PlannedAction], list[str]]:
    """(actions to apply, one warning per refused action): a letter whose interest uses a rate marked
    unverified in rules/data/interest.yaml is not sent unless the rules file accepts such rates
    (``costs.accept_unverified_rates``; issue 10 point 12)."""
    kept: list[PlannedAction] = []
    refused: list[str] = []
    for action in actions:
        details = action.details
        if details.get("rate_status") == "unverified" and details.get("unverified_rate_accepted") != "true":
            why = "; ".join(details.get("rate_warnings", "").splitlines())
            refused.append(
                f"not applied: {action.step or action.kind.value} for debtor {action.debtor_source_id} uses an unverified "
                f"interest rate ({why}); verify it in rules/data/interest.yaml or set costs.accept_unverified_rates"
            )
        else:
            kept.append(action)
    return kept, refused


def send_date(planned: date | None, today: date) -> tuple[date, str | None]:
    """(the run date apply uses, a warning when it is not the one asked for).

    A letter is never dated before the day it is actually sent (issue 10 point 7(c)): its pay-by
    date, the consumer's 14-day term and the costs and interest that follow all count from its
    date. Applying a plan for an earlier day therefore plans again for today, so every letter is
    re-dated and re-computed; the journal keys do not depend on the date, so nothing goes out twice.
    A later run date is a simulation of a later run and is kept."""
    if planned is None or planned >= today:
        return (planned or today), None
    return today, (
        f"run date {planned.isoformat()} is before today ({today.isoformat()}): letters are dated and computed for "
        f"the day they are sent, so the plan is made again for {today.isoformat()}"
    )


def apply_connection(
    name: str,
    run_date: date | None = None,
    *,
    yes: bool = True,
    console: Console | None = None,
) -> ApplyRunResult:
    """Plan ``name`` with its rules file and apply every action once, journaled, under its lease."""
    from connector.runtime import api_for, build_adapter, open_store, today

    config = cfg.load_config()
    connection = config.connection(name)
    day, redated = send_date(run_date, today(connection.timezone))
    store = open_store()
    try:
        if needs_rebuild(store, connection.name):
            with connection_lease(connection.name):
                restored = ensure_journal(config, connection, store)
            if restored and console is not None:
                console.print(f"{connection.name}: journal rebuilt from the package's records ({restored} step(s))")
        confirmed: PlanResult | None = None
        if not yes:
            # Asked outside the lease, so a person at the prompt never holds up the scheduler; what
            # another runner applies in the meantime is skipped by its journal key.
            confirmed = plan_connection(connection, store, day)
            _warn(console, confirmed.warnings)
            if confirmed.actions:
                if console is not None:
                    names = debtor_names(store, connection.name, confirmed.actions)
                    console.print(plan_table(connection.name, confirmed.actions, names))
                import typer

                if not typer.confirm(f"Apply these {len(confirmed.actions)} action(s) to {connection.name}?", default=False):
                    result = ApplyRunResult(connection.name, day, planned=len(confirmed.actions), confirmed=False,
                                            warnings=list(confirmed.warnings))
                    return result
        with connection_lease(connection.name):
            # The day may have turned while a person looked at the plan: what goes out is dated and
            # computed for the day it is sent (issue 10 point 7(c)).
            later, turned = send_date(day, today(connection.timezone))
            if turned is not None:
                day, redated, confirmed = later, turned, None
            plan = confirmed or plan_connection(connection, store, day)
            if confirmed is None:
                _warn(console, plan.warnings)
            actions, refused = unverified_rate_refusals(plan.actions)
            _warn(console, [*([redated] if redated else []), *refused])
            notes = [*plan.warnings, *([redated] if redated else []), *refused]
            result = ApplyRunResult(connection.name, day, planned=len(plan.actions), warnings=notes)
            if not actions:
                result.report = DispatchReport()
                return result
            result.debtor_names = debtor_names(store, connection.name, actions)
            credential = config.credential(connection.credential)
            run_id = store.run_started(connection.name, "apply")
            calls = 0
            try:
                with api_for(credential, connection.administration, open_secret_store()) as api:
                    adapter = build_adapter(api, connection, store)
                    dispatcher = Dispatcher(
                        store=store,
                        adapter_apply=adapter.apply,
                        capabilities=adapter.capabilities,
                        channels=channels_for(connection),
                        creditor=creditor_facts(plan.rules.creditor),
                        template_dir=template_dir(connection, plan.rules),
                        package_title=package_spec(connection.package).title,
                    )
                    try:
                        result.report = dispatcher.run(actions)
                    finally:
                        calls = api.stats.calls
            except ArconnectError as exc:
                store.run_finished(run_id, "failed", result.counts(), api_calls=calls, error=str(exc))
                raise
            outcome = "ok" if result.failed == 0 else "partial"
            # A partial run names what failed, for whom and why: `arconnect status` shows it.
            store.run_finished(run_id, outcome, result.counts(), api_calls=calls, error=failure_summary(result) or None)
            return result
    finally:
        store.close()


def debtor_names(store: Any, connection: str, actions: Sequence[PlannedAction]) -> dict[str, str]:
    """Debtor source id → "code name" of the debtors in ``actions``."""
    wanted = {a.debtor_source_id for a in actions}
    return {d.source_id: f"{d.code or ''} {d.name}".strip() for d in store.debtors(connection) if d.source_id in wanted}


def failures(result: ApplyRunResult) -> list[str]:
    """One line per failed effect: the debtor by name, the action and effect, and the reason."""
    lines = []
    for item in result.results:
        if item.outcome != ApplyOutcome.FAILED:
            continue
        who = result.debtor_names.get(item.action.debtor_source_id, item.action.debtor_source_id)
        what = item.action.kind.value + (f" {item.effect.value}" if item.effect else "")
        lines.append(f"{who}: {what}: {item.reason or 'failed'}")
    return lines


def failure_summary(result: ApplyRunResult, show: int = 5) -> str:
    """The failed effects of a run in one line (the first ``show`` of them), for the run record."""
    lines = failures(result)
    if not lines:
        return ""
    more = f"; and {len(lines) - show} more" if len(lines) > show else ""
    return f"{len(lines)} effect(s) failed: " + "; ".join(lines[:show]) + more


def ensure_journal(config: cfg.Config, connection: cfg.ConnectionConfig, store: Store) -> int:
    """Rebuild the journal of ``connection`` from the package's records (:mod:`connector.actions.rebuild`);
    the steps added. Anything that stops it is :class:`JournalUnchecked`: nothing may be applied yet."""
    from connector.runtime import api_for, build_adapter

    title = package_spec(connection.package).title
    credential = config.credential(connection.credential)
    try:
        with api_for(credential, connection.administration, open_secret_store()) as api:
            return rebuild_journal(store, connection.name, build_adapter(api, connection, store))
    except ReauthRequired:
        raise
    except ArconnectError as exc:
        raise JournalUnchecked(
            f"{connection.name}: the journal is new and could not be rebuilt from {title}'s own records ({exc}); "
            f"nothing was applied. Run 'arconnect journal rebuild {connection.name}' once {title} answers"
        ) from None


def _warn(console: Console | None, warnings: Sequence[str]) -> None:
    if console is not None:
        for warning in warnings:
            console.print(f"[yellow]warning[/yellow]: {for_markup(warning)}", highlight=False)


# --------------------------------------------------------------------------- presentation


def plan_table(connection: str, actions: Sequence[PlannedAction], debtor_names: dict[str, str] | None = None) -> Table:
    """The plan a person confirms: debtors by code and name (their source id only when unknown)."""
    names = debtor_names or {}
    table = Table(title=for_markup(f"Plan {connection}"))
    for column in ("debtor", "step", "action", "channel", "amount", "why"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    for action in actions:
        table.add_row(
            for_markup(names.get(action.debtor_source_id, action.debtor_source_id), NAME_LIMIT),
            for_markup(action.step or "-"), action.kind.value, action.channel or "-",
            str(action.amount) if action.amount else "-", for_markup(action.reason),
        )
    return table


def results_table(result: ApplyRunResult) -> Table:
    table = Table(title=for_markup(f"Applied {result.connection} on {result.run_date.isoformat()}"))
    for column in ("debtor", "action", "effect", "outcome", "reference / reason"):
        table.add_column(column)
    for item in result.results:
        outcome = item.outcome.value if item.outcome else "skipped"
        detail = item.reason or item.remote_reference or ""
        if item.outcome == ApplyOutcome.DONE and item.remote_reference:
            detail = item.remote_reference
        table.add_row(
            for_markup(result.debtor_names.get(item.action.debtor_source_id, item.action.debtor_source_id), 32),
            item.action.kind.value, item.effect.value if item.effect else "-", outcome, for_markup(detail, 80),
        )
    return table


def effects_table(result: ApplyRunResult) -> Table:
    """How many effects of each action kind ended how: the short version of :func:`results_table`."""
    counts = Counter(
        (item.action.kind.value, item.effect.value if item.effect else "-", item.outcome.value if item.outcome else "skipped")
        for item in result.results
    )
    table = Table(title=for_markup(f"Applied {result.connection} on {result.run_date.isoformat()}"))
    for column in ("action", "effect", "outcome", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for (kind, effect, outcome), count in sorted(counts.items()):
        table.add_row(kind, effect, outcome, str(count))
    return table


def summary_line(result: ApplyRunResult) -> str:
    if not result.confirmed:
        return f"{result.connection}: nothing applied (not confirmed)"
    c = result.counts()
    return (
        f"{result.connection}: {result.planned} action(s) planned; effects: {c.get('done', 0)} done, "
        f"{c.get('already_true', 0)} already true, {c.get('failed', 0)} failed, {c.get('unsupported', 0)} unsupported; "
        f"{c.get('skipped', 0)} action(s) already applied; {c.get('emails', 0)} e-mail(s) sent"
    )
