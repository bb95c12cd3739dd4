"""Issue 10 point 7(c): a letter is never dated before it is actually sent. Applying on a later day
than planned re-dates the letters and re-computes what counts from their date (pay-by date, term,
costs and interest), and the journal records the day they went out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from connector import config as cfg
from connector.actions.applying import apply_connection
from connector.actions.planning import plan_connection
from connector.config import MailConfig
from connector.model import ActionKind, ApplyOutcome
from connector.runtime import open_store, sync_connections, today
from connector.store import Store
from rules.calendar import business_day_in_all
from rules.letters import format_day
from tests.e2e.conftest import World


def _days() -> tuple[date, date]:
    planned = business_day_in_all(today(), ("NL",))
    later = business_day_in_all(planned + timedelta(days=3), ("NL",))
    return planned, later


def _pretend_today(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    monkeypatch.setattr("connector.runtime.today", lambda tz="Europe/Amsterdam": day)


def _letters(store: Store, connection: str) -> list[tuple[str, date, dict[str, str]]]:
    return [
        (e.idempotency_key, e.run_date, dict(e.action.details))
        for e in store.journal(connection)
        if e.kind == ActionKind.REMINDER and "#" not in e.idempotency_key
    ]


def test_a_plan_for_an_earlier_day_is_applied_as_of_the_day_it_is_sent(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    sync_connections(world.connection)
    planned, later = _days()
    connection = cfg.load_config().connection(world.connection)
    with open_store() as store:
        as_planned = {a.idempotency_key: a for a in plan_connection(connection, store, planned).actions}
        as_sent = {a.idempotency_key: a for a in plan_connection(connection, store, later).actions}
    _pretend_today(monkeypatch, later)

    result = apply_connection(world.connection, planned)

    assert result.run_date == later
    assert any(w.startswith(f"run date {planned.isoformat()} is before today ({later.isoformat()})") for w in result.warnings)
    assert result.failed == 0
    with open_store() as store:
        letters = _letters(store, world.connection)
    assert letters
    moved = 0
    for key, sent_on, details in letters:
        assert sent_on == later
        # pay-by date and term are those of the day it was sent, not of the day it was planned
        assert details["pay_by"] == as_sent[key].details["pay_by"]
        if key in as_planned:  # (a later day may find more items due)
            moved += details["pay_by"] != as_planned[key].details["pay_by"]
    assert moved > 0
    # the e-mails carry the day they were sent
    dated = format_day(later, "nl_NL")
    bodies = [m.message.get_body(("plain",)) for m in world.smtp.received]
    assert bodies and all(body is not None and f"Datum: {dated}" in body.get_content() for body in bodies)


def test_a_letter_that_failed_and_goes_out_on_a_later_day_is_journaled_on_that_day(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_connections(world.connection)
    planned, later = _days()
    config = cfg.load_config()
    working = config.connections[world.connection]
    # First try: the mail server is down, every e-mail fails (nothing was sent).
    config.connections[world.connection] = working.model_copy(
        update={"mail": MailConfig(host="127.0.0.1", port=1, sender="debiteuren@vandijk-installatie.nl")}
    )
    cfg.save_config(config)
    _pretend_today(monkeypatch, planned)
    first = apply_connection(world.connection, planned)
    assert first.failed > 0 and world.smtp.received == []
    with open_store() as store:
        tried = {key: on for key, on, _ in _letters(store, world.connection)}
    assert tried and set(tried.values()) == {planned}

    # Three days later the mail server is back: the letters go out, dated and journaled that day.
    config.connections[world.connection] = working
    cfg.save_config(config)
    _pretend_today(monkeypatch, later)
    second = apply_connection(world.connection, later)
    assert second.failed == 0
    with open_store() as store:
        journal = {e.idempotency_key: e for e in store.journal(world.connection)}
        # (a debtor with more items overdue by then gets one letter for all of them, under a new key)
        retried = {r.action.idempotency_key for r in second.results} & set(tried)
        assert retried
        for key in retried:
            assert journal[key].state == ApplyOutcome.DONE
            assert journal[key].run_date == journal[key].action.run_date == later
    dated = format_day(later, "nl_NL")
    assert len(world.smtp.received) == second.emails_sent > 0
    assert all(f"Datum: {dated}" in (m.message.get_body(("plain",)) or m.message).get_content() for m in world.smtp.received)


def test_a_plan_confirmed_as_the_day_turns_goes_out_dated_the_new_day(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    sync_connections(world.connection)
    planned, later = _days()
    days = iter([planned, later])  # the plan is shown on one day, confirmed after midnight
    monkeypatch.setattr("connector.runtime.today", lambda tz="Europe/Amsterdam": next(days, later))
    monkeypatch.setattr("typer.confirm", lambda *args, **kwargs: True)

    result = apply_connection(world.connection, None, yes=False)

    assert result.confirmed and result.run_date == later
    assert any(w.startswith(f"run date {planned.isoformat()} is before today ({later.isoformat()})") for w in result.warnings)
    with open_store() as store:
        letters = _letters(store, world.connection)
    assert letters and {on for _, on, _ in letters} == {later}


@pytest.mark.parametrize(
    ("asked", "expected", "warned"),
    [
        (None, date(2026, 3, 5), False),  # no date: today
        (date(2026, 3, 5), date(2026, 3, 5), False),
        (date(2026, 3, 2), date(2026, 3, 5), True),  # an earlier day: re-dated to today
        (date(2026, 3, 20), date(2026, 3, 20), False),  # a later day: a simulated later run, kept
    ],
)
def test_apply_never_runs_for_a_day_before_today(asked: date | None, expected: date, warned: bool) -> None:
    from connector.actions.applying import send_date

    day, warning = send_date(asked, date(2026, 3, 5))
    assert day == expected and (warning is not None) == warned
