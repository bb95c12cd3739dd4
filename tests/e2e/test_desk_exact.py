"""The desk against the Exact sandbox on loopback: disputes, promises and plans as a credit
controller types them, each pausing and resuming dunning and leaving its note in Exact once."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from connector import config as cfg
from connector.actions.planning import plan_connection
from connector.cli.main import app
from connector.model import ActionKind, PlannedAction
from connector.runtime import open_store, sync_connections, today
from connector.store.desk import Desk
from rules.calendar import business_day_in_all
from tests.e2e.conftest import World

CREDIT_NOTE = "Credit control note"
MESSAGES = (ActionKind.REMINDER, ActionKind.FORMAL_NOTICE, ActionKind.NOTICE_OF_DEFAULT, ActionKind.CALL_TASK)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def planned(world: World, day: date) -> list[PlannedAction]:
    connection = cfg.load_config().connection(world.connection)
    with open_store() as store:
        return plan_connection(connection, store, day).actions


def dunned_debtors(actions: list[PlannedAction]) -> Counter[str]:
    return Counter(a.debtor_source_id for a in actions if a.kind in MESSAGES)


def desk_notes(world: World) -> list[dict[str, object]]:
    return [n for n in world.sandbox.notes(world.division) if CREDIT_NOTE in str(n.get("Subject"))]


def code_of(world: World, debtor_id: str) -> str:
    with open_store() as store:
        found = store.debtor(world.connection, debtor_id)
    assert found is not None and found.code
    return found.code


def owed_terms(world: World, debtor_id: str) -> list[tuple[str, Decimal]]:
    """The debtor's open receivable terms in Exact (ID, amount owed)."""
    # Exact books what a customer owes as a negative receivable term (a credit note is positive).
    return [(str(t["ID"]), -Decimal(str(t["AmountFC"]))) for t in world.sandbox.open_terms(world.division)
            if str(t["Account"]) == debtor_id and Decimal(str(t["AmountFC"])) < 0]


def pay_everything(world: World, debtor_id: str) -> Decimal:
    paid = Decimal(0)
    for term_id, amount in owed_terms(world, debtor_id):
        world.sandbox.pay(world.division, term_id, amount)
        paid += amount
    return paid


def open_total(world: World, debtor_id: str) -> Decimal:
    with open_store() as store:
        return sum((i.open.amount for i in store.open_items(world.connection) if i.debtor_source_id == debtor_id
                    and i.open.amount > 0), Decimal(0))


def run_day() -> date:
    return business_day_in_all(today(), ("NL",))


def test_a_dispute_pauses_dunning_until_it_is_resolved_and_each_leaves_one_note_in_exact(world: World) -> None:
    sync_connections(world.connection)
    day = run_day()
    before = dunned_debtors(planned(world, day))
    debtor = sorted(before)[0]
    code = code_of(world, debtor)

    said = invoke("dispute", "add", code, "--reason", "Prijs klopt niet", "--category", "price", "-c", world.connection,
                  "--on", day.isoformat())
    assert "dispute 1 open on every item" in said
    assert "no dispute flag" in said  # says what the package can hold
    assert debtor not in dunned_debtors(planned(world, day))
    assert len(desk_notes(world)) == 1
    assert "Prijs klopt niet" in str(desk_notes(world)[0].get("Notes"))
    listed = invoke("dispute", "list", "-c", world.connection)
    assert "price" in listed and "Prijs klopt niet" in listed

    invoke("dispute", "resolve", "1", "-c", world.connection, "--on", day.isoformat())
    assert dunned_debtors(planned(world, day))[debtor] == before[debtor]
    invoke("dispute", "resolve", "1", "-c", world.connection, "--on", day.isoformat())  # again: nothing new
    assert len(desk_notes(world)) == 2


def test_a_dispute_past_its_review_date_releases_dunning_and_goes_on_the_call_list(world: World) -> None:
    sync_connections(world.connection)
    day = run_day()
    debtor = sorted(dunned_debtors(planned(world, day)))[0]
    invoke("dispute", "add", code_of(world, debtor), "--reason", "Levering onvolledig", "--category", "delivery",
           "--review", (today() - timedelta(days=1)).isoformat(), "--on", (today() - timedelta(days=10)).isoformat(),
           "-c", world.connection)
    assert debtor in dunned_debtors(planned(world, day))  # the review date has passed
    said = invoke("promise", "check", "--on", day.isoformat(), "-c", world.connection)
    assert "dispute past review" in said
    calls = (cfg.data_dir() / "calls" / f"{world.connection}.csv").read_text(encoding="utf-8")
    assert "Levering onvolledig" in calls
    invoke("promise", "check", "--on", day.isoformat(), "-c", world.connection)
    again = (cfg.data_dir() / "calls" / f"{world.connection}.csv").read_text(encoding="utf-8")
    assert again.count("Levering onvolledig") == 1
    assert "dispute past review" in invoke("status")


def test_a_kept_and_a_broken_promise_each_leave_their_note_once_and_the_broken_one_resumes_dunning(world: World) -> None:
    sync_connections(world.connection)
    day = run_day()
    keeper, breaker = sorted(dunned_debtors(planned(world, day)))[:2]
    amount = sum((a for _, a in owed_terms(world, keeper)), Decimal(0))
    invoke("promise", "add", code_of(world, keeper), "--amount", str(amount), "--date", (day + timedelta(days=5)).isoformat(),
           "--on", today().isoformat(), "-c", world.connection)
    invoke("promise", "add", code_of(world, breaker), "--amount", "100", "--date", (day - timedelta(days=10)).isoformat(),
           "--on", (day - timedelta(days=20)).isoformat(), "-c", world.connection)
    paused = dunned_debtors(planned(world, day))
    assert keeper not in paused
    assert breaker in paused  # its date plus grace has passed already: no longer paused

    assert pay_everything(world, keeper) == amount
    sync_connections(world.connection)
    said = invoke("promise", "check", "--on", day.isoformat(), "-c", world.connection)
    assert "promise kept" in said and "promise broken" in said
    notes = desk_notes(world)
    assert len(notes) == 2
    texts = " ".join(str(n.get("Notes")) for n in notes)
    assert "nagekomen / kept" in texts and "niet nagekomen" in texts
    assert {str(n["Account"]) for n in notes} == {keeper, breaker}

    invoke("promise", "check", "--on", day.isoformat(), "-c", world.connection)
    assert len(desk_notes(world)) == 2  # once
    with open_store() as store:
        states = {a.debtor_source_id: a.state for a in Desk(store).agreements(world.connection)}
    assert states == {keeper: "kept", breaker: "broken"}
    listed = invoke("promise", "list", "--all", "-c", world.connection)
    assert "kept" in listed and "broken" in listed
    assert "broken promise" in invoke("status")


def test_a_plan_reminds_before_an_instalment_and_a_missed_one_resumes_dunning_on_what_is_left(world: World) -> None:
    sync_connections(world.connection)
    day = run_day()
    debtor = sorted(dunned_debtors(planned(world, day)))[0]
    code = code_of(world, debtor)
    total = open_total(world, debtor)
    # Three monthly instalments, the first in two days: the reminder goes out today, once.
    invoke("plan-agreement", "add", code, "--count", "3", "--first", (day + timedelta(days=2)).isoformat(),
           "--on", day.isoformat(), "-c", world.connection)
    assert debtor not in dunned_debtors(planned(world, day))
    received = len(world.smtp.received)
    said = invoke("promise", "check", "--on", day.isoformat(), "-c", world.connection)
    assert "instalment due" in said
    assert len(world.smtp.received) == received + 1
    assert "Instalment" in world.smtp.received[-1].subject or "termijn" in world.smtp.received[-1].subject.lower()
    invoke("promise", "check", "--on", day.isoformat(), "-c", world.connection)
    assert len(world.smtp.received) == received + 1

    # Nothing paid: after the first instalment's grace (5 days) the plan breaks and dunning resumes
    # (after the profile's days between messages: the instalment reminder was a message too).
    later = business_day_in_all(day + timedelta(days=12), ("NL",))
    said = invoke("promise", "check", "--on", later.isoformat(), "-c", world.connection)
    assert "plan broken" in said
    notes = desk_notes(world)
    assert len(notes) == 1 and "Termijn / instalment 1" in str(notes[0].get("Notes"))
    resumed = [a for a in planned(world, later) if a.debtor_source_id == debtor and a.kind in MESSAGES]
    assert resumed
    assert sum((a.amount.amount for a in resumed if a.amount), Decimal(0)) <= total
    shown = invoke("plan-agreement", "list", "--all", "-c", world.connection)
    assert "broken" in shown
    assert "plan broken (missed instalment)" in invoke("status")
    filed = invoke("debtor", code, "--format", "json", "-c", world.connection)
    assert '"state": "broken"' in filed and CREDIT_NOTE not in filed


def test_report_kpi_in_every_format_and_the_debtor_file(world: World) -> None:
    import csv
    import io
    import json

    sync_connections(world.connection)
    to = today().isoformat()
    data = json.loads(invoke("report", "kpi", world.connection, "--format", "json", "--to", to))
    assert data["period"] == "month" and len(data["scopes"]) == 1
    figures = data["scopes"][0]["figures"]
    assert {f["currency"] for f in figures} >= {"EUR"}
    last = next(f for f in figures if f["end"] == to and f["currency"] == "EUR")
    assert Decimal(last["ar"]) == sum(Decimal(v) for v in last["buckets"].values())

    rows = list(csv.DictReader(io.StringIO(invoke("report", "kpi", world.connection, "--format", "csv", "--to", to))))
    assert rows and {r["scope"] for r in rows} == {world.connection}
    assert {r["ar"] for r in rows if r["end"] == to and r["currency"] == "EUR"} == {last["ar"]}

    table = invoke("report", "kpi", "--period", "quarter", "--format", "table", "--to", to)
    assert "DSO cb" in table and "CEI" in table

    said = invoke("report", "kpi", "--format", "html", "--to", to)
    path = Path(said.split("written to ", 1)[1].strip())
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"

    with open_store() as store:
        debtor = next(d for d in store.debtors(world.connection) if d.code)
    filed = json.loads(invoke("debtor", debtor.code or "", "--format", "json", "-c", world.connection))
    assert filed["debtor"]["name"] == debtor.name
    assert {"items", "payments", "actions", "disputes", "promises", "plans", "credit"} <= set(filed)
    assert debtor.name.split()[0] in invoke("debtor", debtor.code or "", "-c", world.connection)
