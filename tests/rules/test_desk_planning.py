"""The planner and the desk: paused items, and a broken promise resuming at the profile's step."""

from __future__ import annotations

from datetime import date

import pytest

from connector.errors import RulesError
from rules.engine import plan
from tests.rules.builders import debtor, item, journal_step, rules, snapshot

LADDER = """
segments:
  - name: all
    default: true
    profile: p
profiles:
  p:
    min_days_between_messages: 0
    broken_promise_step: s2
    steps:
      - {name: s1, after_days: 1, action: reminder, template: reminder}
      - {name: s2, after_days: 30, action: formal_notice, template: formal_notice}
      - {name: s3, after_days: 7, from: previous_step, action: call_task, channel: phone}
"""
R = rules(LADDER)
DUE = date(2026, 1, 5)


def test_an_item_of_a_broken_promise_resumes_at_the_named_step_at_once() -> None:
    snap = snapshot([debtor()], [item("I1", "100", DUE)], [journal_step(("I1",), "s1", date(2026, 1, 6))])
    # Without the broken promise s2 waits for day 30 after the due date.
    assert [a.step for a in plan(snap, R, date(2026, 1, 20))] == []
    snap.resume_at = {"I1": date(2026, 1, 20)}
    assert [a.step for a in plan(snap, R, date(2026, 1, 20))] == ["s2"]


def test_an_item_past_the_named_step_goes_on_where_it_was() -> None:
    history = [journal_step(("I1",), "s1", date(2026, 1, 6)), journal_step(("I1",), "s2", date(2026, 2, 4))]
    snap = snapshot([debtor()], [item("I1", "100", DUE)], history)
    snap.resume_at = {"I1": date(2026, 2, 6)}
    assert [a.step for a in plan(snap, R, date(2026, 2, 6))] == []  # s3 waits 7 days after s2
    assert [a.step for a in plan(snap, R, date(2026, 2, 11))] == ["s3"]


def test_a_profile_without_the_setting_just_resumes_the_ladder() -> None:
    plain = rules(LADDER.replace("    broken_promise_step: s2\n", ""))
    snap = snapshot([debtor()], [item("I1", "100", DUE)], [journal_step(("I1",), "s1", date(2026, 1, 6))])
    snap.resume_at = {"I1": date(2026, 1, 20)}
    assert [a.step for a in plan(snap, plain, date(2026, 1, 20))] == []


def test_the_named_step_must_be_a_step_of_the_profile() -> None:
    with pytest.raises(RulesError, match="broken_promise_step 'nope'"):
        rules(LADDER.replace("broken_promise_step: s2", "broken_promise_step: nope"))


def test_a_step_taken_after_the_break_means_the_item_already_went_on() -> None:
    history = [journal_step(("I1",), "s1", date(2026, 1, 21))]
    snap = snapshot([debtor()], [item("I1", "100", DUE)], history)
    snap.resume_at = {"I1": date(2026, 1, 20)}  # broke, then s1 went out the next day
    assert [a.step for a in plan(snap, R, date(2026, 1, 22))] == []  # s2 waits for its own day again
    assert [a.step for a in plan(snap, R, date(2026, 2, 4))] == ["s2"]
