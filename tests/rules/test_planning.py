"""Planning a connection from the store with the shipped example rules, and `arconnect plan`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector import config as cfg
from connector.actions.planning import build_snapshot, plan_connection
from connector.cli.main import app
from connector.model import (
    ActionKind,
    ApplyOutcome,
    ApplyResult,
    DebtorKind,
    ItemKind,
    ItemStatus,
    Money,
    Page,
    Payment,
)
from connector.store import Store
from rules.engine import plan
from rules.loading import load_rules
from rules.snapshot import Snapshot
from tests.rules.builders import CID, debtor, item
from tests.support.paths import EXAMPLES

RUN = date(2026, 1, 20)  # a Tuesday


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCONNECT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    return tmp_path


def connection(rules_file: str, reminders_sent_by: str | None = None) -> cfg.ConnectionConfig:
    return cfg.ConnectionConfig(
        name=CID, credential="exact-nl", package="exact", administration="123", country="NL",
        rules_file=rules_file, reminders_sent_by=reminders_sent_by,
    )


DEBTORS = [
    debtor("D1"),
    debtor("D2", DebtorKind.CONSUMER, language="en"),
    debtor("D3", DebtorKind.UNKNOWN),
    debtor("D4", blocked=True, credit_limit=Money.of("1000", "EUR")),
]
ITEMS = [
    item("I1", "250.00", date(2026, 1, 5)),
    item("I2", "80.00", date(2025, 12, 1), debtor_id="D2"),
    item("I3", "60000.00", date(2026, 2, 10), invoice_date=date(2026, 1, 10)),
    item("I4", "500.00", date(2025, 12, 15), debtor_id="D3"),
    item("I5", "-40.00", date(2026, 1, 2), kind=ItemKind.CREDIT_NOTE),
    item("I6", "3000.00", date(2025, 11, 1), debtor_id="D4"),
    item("I7", "120.00", date(2026, 1, 2), debtor_id="D2"),
]
PAID = item("I9", "0", date(2025, 10, 1), status=ItemStatus.PAID)
PAYMENT = Payment(connection_id=CID, source_id="P1", debtor_source_id="D1", item_source_ids=("I9",),
                  paid_on=date(2025, 10, 31), amount=Money.of("90", "EUR"))


def fill(store: Store) -> None:
    store.ensure_connection(CID, "exact", "Test")
    store.save_page(CID, "debtors", Page(records=DEBTORS))
    store.save_page(CID, "open_items", Page(records=[*ITEMS, PAID]))
    store.save_page(CID, "payments", Page(records=[PAYMENT]))
    store.add_dispute(CID, "I7", date(2026, 1, 10), "wrong price")


def test_the_store_snapshot_plans_like_the_model_snapshot(home: Path) -> None:
    rules = load_rules(EXAMPLES / "nl-practice.yaml")
    with Store(f"sqlite:///{home / 'db.sqlite'}") as store:
        store.migrate()
        fill(store)
        from_store = build_snapshot(store, connection(str(EXAMPLES / "nl-practice.yaml")), RUN)
    from_models = Snapshot.from_models(
        connection_id=CID, debtors=DEBTORS, items=ITEMS, payments=[PAYMENT], closed_items=[PAID], disputed_items=["I7"]
    )
    assert from_store.debtors == from_models.debtors
    assert from_store.debtors["D1"].avg_days_late == 30  # paid 31 Oct, due 1 Oct
    assert from_store.item_count() == len(ITEMS)

    def summary(snapshot: Snapshot) -> list[tuple[str, ActionKind, str | None, tuple[str, ...], Money | None, str]]:
        return [(a.debtor_source_id, a.kind, a.step, a.item_source_ids, a.amount, a.idempotency_key) for a in plan(snapshot, rules, RUN)]

    assert summary(from_store) == summary(from_models)
    assert [(d, k.value, s, i) for d, k, s, i, *_ in summary(from_store)] == [
        ("D1", "reminder", "reminder", ("I1",)),  # D1 pays 30 days late on average: the strict profile
        ("D1", "call_task", "check-call", ("I3",)),  # large invoice: a call 5 days after invoicing (10 Jan)
        ("D2", "reminder", "reminder", ("I2",)),  # I7 is disputed: paused
        ("D2", "set_credit_limit", None, ()),  # consumers: EUR 2,500 written to the package
        ("D3", "reminder", "reminder", ("I4",)),  # unknown kind: consumer profile, flagged
        ("D3", "set_credit_limit", None, ()),
        ("D4", "reminder", "reminder", ("I6",)),  # blocked by the bookkeeper: no block, never an unblock
    ]


def test_plan_connection_reads_the_rules_and_warns_of_double_dunning(home: Path) -> None:
    with Store(cfg.database_url()) as store:
        store.migrate()
        fill(store)
        result = plan_connection(connection(str(EXAMPLES / "nl-practice.yaml")), store, RUN)
        assert result.warnings[0].startswith("double dunning: Exact Online's own reminders cannot be switched off")
        assert plan_connection(connection(str(EXAMPLES / "nl-practice.yaml"), "arconnect"), store, RUN).warnings == []
        quiet = plan_connection(connection(str(EXAMPLES / "nl-practice.yaml"), "package"), store, RUN)
        assert quiet.warnings == ["reminders are sent by the package: dunning steps are not planned, only credit limits"]
        assert {a.kind for a in quiet.actions} == {ActionKind.SET_CREDIT_LIMIT}


def test_a_moneybird_plan_says_where_blocks_go_since_contacts_have_no_block_field(home: Path) -> None:
    with Store(cfg.database_url()) as store:
        store.migrate()
        fill(store)
        moneybird = connection(str(EXAMPLES / "nl-practice.yaml")).model_copy(
            update={"package": "moneybird", "block_field": "Kredietstop"}
        )
        [warning] = plan_connection(moneybird, store, RUN).warnings
        assert "Moneybird contacts have no block or credit-limit field" in warning
        assert "'Kredietstop'" in warning


def test_history_from_the_journal_moves_items_up_the_ladder(home: Path) -> None:
    with Store(cfg.database_url()) as store:
        store.migrate()
        fill(store)
        conn = connection(str(EXAMPLES / "nl-practice.yaml"), "arconnect")
        first = plan_connection(conn, store, RUN).actions
        reminder = next(a for a in first if a.debtor_source_id == "D1" and a.step == "reminder")
        store.journal_begin(reminder)
        store.journal_finish(reminder.idempotency_key, ApplyResult(outcome=ApplyOutcome.DONE))
        # I1 (due 5 Jan) reached 'reminder'; D1's strict profile calls next, 7 days after the due date
        # but not within 5 days of the last message (20 Jan): on 26 Jan.
        assert [a.step for a in plan_connection(conn, store, date(2026, 1, 23)).actions if "I1" in a.item_source_ids] == []
        later = plan_connection(conn, store, date(2026, 1, 26)).actions
        assert [a.step for a in later if "I1" in a.item_source_ids] == ["call"]
        with pytest.raises(Exception, match="before the last run"):
            plan_connection(conn, store, date(2026, 1, 19))


def write_config(home: Path, reminders: str | None = None) -> None:
    config = cfg.Config(connections={CID: connection(str(EXAMPLES / "nl-practice.yaml"), reminders)})
    cfg.save_config(config)
    with Store(cfg.database_url()) as store:
        store.migrate()
        fill(store)


def test_cli_plan_table_shows_warnings_on_top(home: Path) -> None:
    write_config(home)
    result = CliRunner().invoke(app, ["plan", CID, "--date", RUN.isoformat()], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("warning: double dunning")
    assert "check-call" in result.stdout and "call_task (phone)" in result.stdout


def test_cli_plan_json(home: Path) -> None:
    write_config(home, "arconnect")
    result = CliRunner().invoke(app, ["plan", CID, "--date", RUN.isoformat(), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["connection"] == CID and document["run_date"] == "2026-01-20" and document["warnings"] == []
    first = document["actions"][0]
    assert (first["debtor_source_id"], first["kind"], first["amount"]) == ("D1", "reminder", {"amount": "210.0000", "currency": "EUR"})


def test_cli_plan_bad_date_is_one_line(home: Path) -> None:
    write_config(home)
    result = CliRunner().invoke(app, ["plan", CID, "--date", "20-01-2026"], catch_exceptions=True)
    assert result.exit_code != 0
    assert "not a date (YYYY-MM-DD)" in str(result.exception)


def test_the_be_example_plans_a_free_first_reminder_and_eur_40_per_late_invoice() -> None:
    rules = load_rules(EXAMPLES / "be-practice.yaml")
    consumer = debtor("D1", DebtorKind.CONSUMER, language="fr")
    business = debtor("D2")
    items = [
        item("I1", "100.00", date(2026, 1, 5)),
        item("I2", "700.00", date(2025, 12, 20), debtor_id="D2"),
        item("I3", "300.00", date(2025, 12, 20), debtor_id="D2"),
    ]
    from tests.rules.builders import journal_step

    history = [journal_step(("I2", "I3"), "reminder", date(2025, 12, 22), profile="business", debtor_id="D2")]
    snap = Snapshot.from_models(connection_id=CID, country="BE", debtors=[consumer, business], items=items, journal=history)
    actions = {a.debtor_source_id: a for a in plan(snap, rules, date(2026, 1, 12))}
    first = actions["D1"]
    # Book XIX: the first reminder (5 days after the due date, by letter) is free and starts the term.
    assert (first.step, first.channel, first.costs, first.language) == ("first-reminder", "letter", None, "fr")
    assert first.details["payment_reference"] == "+++000/0000/00101+++"  # document 1: 0000000001, 1 mod 97 = 01
    # Posted Mon 12 Jan, assumed received the 3rd working day (Thu 15 Jan); 14 days to Wed 28 Jan.
    assert (first.details["assumed_receipt"], first.details["pay_by"]) == ("2026-01-15", "2026-01-28")
    # What the next reminder may charge: damages EUR 20 (up to EUR 150); no EUR 7.50 + postage on an
    # ordinary debt (Book XIX: only for regular-delivery contracts, issue 10 point 4).
    assert first.details["costs_announced"] == "20.00"
    notice = actions["D2"]
    # Law of 2 August 2002: EUR 40 fixed compensation per late invoice, two invoices in the letter.
    assert (notice.step, notice.item_source_ids, notice.costs) == ("formal-notice", ("I2", "I3"), Money.of("80.00", "EUR"))
