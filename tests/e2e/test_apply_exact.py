"""Sync, plan and apply against the Exact sandbox on loopback with a real SMTP server; twice."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from connector import config as cfg
from connector.actions.applying import apply_connection
from connector.model import ActionKind, ApplyOutcome
from connector.runtime import sync_connections, today
from rules.calendar import business_day_in_all
from tests.e2e.conftest import World


def remote_state(world: World) -> dict[str, Any]:
    s, d = world.sandbox, world.division
    return {
        "blocked": sorted(str(a["ID"]) for a in s.accounts(d) if a.get("Blocked")),
        "credit_lines": sorted((str(a["ID"]), str(a.get("CreditLineSales"))) for a in s.accounts(d)),
        "notes": sorted(str(n["ID"]) for n in s.notes(d)),
        "tasks": sorted(str(t["ID"]) for t in s.tasks(d)),
        "documents": sorted(str(x["ID"]) for x in s.documents(d)),
        "attachments": sorted(str(x["ID"]) for x in s.attachments(d)),
    }


def test_sync_plan_apply_shows_in_the_sandbox_and_a_second_apply_changes_nothing(world: World) -> None:
    [synced] = sync_connections(world.connection)
    assert synced.error is None and synced.stored > 0
    blocked_by_bookkeeper = {str(a["ID"]) for a in world.sandbox.accounts(world.division) if a.get("Blocked")}
    run_date = business_day_in_all(today(), ("NL",))  # letters go out on business days only

    first = apply_connection(world.connection, run_date)
    kinds = Counter(r.action.kind for r in first.results if r.outcome == ApplyOutcome.DONE)
    after_first = remote_state(world)
    assert first.failed == 0, [r.reason for r in first.results if r.outcome == ApplyOutcome.FAILED]
    # The sandbox shows what was done: notes for the steps, documents with the letter attached,
    # tasks for calls, blocks and credit lines on the accounts.
    assert len(after_first["notes"]) > 0
    assert len(after_first["documents"]) == len(after_first["attachments"]) > 0
    assert kinds[ActionKind.REMINDER] > 0
    # Every e-mail arrived exactly once, each under its own Message-ID.
    ids = [m.message_id for m in world.smtp.received]
    assert len(ids) == first.emails_sent > 0
    assert len(set(ids)) == len(ids)
    # Blocks and credit lines are on the accounts; a block the bookkeeper set is still there.
    blocked_now = set(after_first["blocked"])
    assert kinds[ActionKind.BLOCK] > 0
    assert blocked_by_bookkeeper <= blocked_now
    assert len(blocked_now - blocked_by_bookkeeper) == kinds[ActionKind.BLOCK]
    written_limits = {
        (r.action.debtor_source_id, r.action.credit_limit.amount) for r in first.results
        if r.action.kind == ActionKind.SET_CREDIT_LIMIT and r.outcome == ApplyOutcome.DONE and r.action.credit_limit
    }
    assert written_limits
    lines = {a["ID"]: a.get("CreditLineSales") for a in world.sandbox.accounts(world.division)}
    assert all(lines[debtor] == limit for debtor, limit in written_limits)

    second = apply_connection(world.connection, run_date)
    assert second.changed == 0
    assert remote_state(world) == after_first
    assert len(world.smtp.received) == len(ids)


def test_the_ladder_over_weeks_leaves_tasks_letters_and_handover_files_and_never_repeats_an_email(world: World) -> None:
    sync_connections(world.connection)
    start = today()
    # Runs on business days only (as `serve` runs them): letters never go out on weekends or holidays.
    runs = [business_day_in_all(start + timedelta(days=days), ("NL",)) for days in (0, 15, 22, 30, 45)]
    results = [apply_connection(world.connection, run) for run in runs]
    assert all(r.failed == 0 for r in results), [x.reason for r in results for x in r.results if x.outcome == ApplyOutcome.FAILED]
    done = Counter((x.action.kind, x.effect.value if x.effect else "") for r in results for x in r.results if x.outcome == ApplyOutcome.DONE)
    # Calls became Exact tasks and rows on our call list; hand-overs became files with the whole claim.
    assert done[(ActionKind.CALL_TASK, "task")] == len(world.sandbox.tasks(world.division)) > 0
    assert done[(ActionKind.NOTICE_OF_DEFAULT, "letter")] > 0
    data = cfg.data_dir()
    claims = sorted((data / "handover" / world.connection).glob("*.json"))
    assert len(claims) == done[(ActionKind.COLLECTION_HANDOVER, "handover")] > 0
    claim = json.loads(claims[0].read_text(encoding="utf-8"))
    assert {"principal", "costs", "interest", "total", "history", "items", "creditor", "debtor"} <= set(claim)
    assert [h["kind"] for h in claim["history"]][:1] == ["reminder"]
    # Over all runs, every e-mail arrived once.
    ids = Counter(m.message_id for m in world.smtp.received)
    assert sum(r.emails_sent for r in results) == len(ids) == sum(ids.values())
