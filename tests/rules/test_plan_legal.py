"""Issue 10 points 6, 9, 10 and 12 as ``arconnect plan`` shows them: the law that applied when it is
not the administration's, rates that are not verified, how many debtors are of unknown kind and why,
the connection's own say on how they are treated, and a Belgian consumer's interest with and without
an interest clause."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector import config as cfg
from connector.actions.planning import legal_notes, plan_connection
from connector.cli.main import app
from connector.model import ActionKind, DebtorKind, Money, Page
from connector.store import Store
from rules.engine import plan
from tests.rules.builders import CID, debtor, item, journal_step, rules, snapshot

NL_RULES = """version: 1
creditor: {name: Test BV, coc_number: "12345678", iban: NL91ABNA0417164300}
segments:
  - {name: consumers, when: {kind: [consumer, unknown]}, profile: c}
  - {name: businesses, default: true, profile: b}
profiles:
  c:
    steps:
      - {name: wik, after_days: 1, action: formal_notice, channel: letter, template: formal_notice, consumer_letter: true, costs: statutory}
  b:
    steps:
      - {name: notice, after_days: 1, action: notice_of_default, channel: email, template: notice_of_default, costs: statutory, interest: true}
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCONNECT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    return tmp_path


def _connection(home: Path, unknown_as: str | None = None) -> cfg.ConnectionConfig:
    rules_file = home / "rules.yaml"
    rules_file.write_text(NL_RULES, encoding="utf-8")
    connection = cfg.ConnectionConfig(
        name=CID, credential="exact-nl", package="exact", administration="1", country="NL", rules_file=str(rules_file),
        reminders_sent_by="arconnect", unknown_as=unknown_as,  # type: ignore[arg-type]
    )
    cfg.save_config(cfg.Config(connections={CID: connection}))
    with Store(cfg.database_url()) as store:
        store.migrate()
        store.ensure_connection(CID, "exact", "Test")
        store.save_page(CID, "debtors", Page(records=[
            debtor("D1", DebtorKind.CONSUMER, name="Marie Dubois", country="BE"),
            debtor("D2", DebtorKind.UNKNOWN, name="Jan Smit"),
            debtor("D3", DebtorKind.UNKNOWN, name="Piet Pieters"),
            debtor("D4", DebtorKind.UNKNOWN, name="Bakkerij Jansen B.V."),
        ]))
        store.save_page(CID, "open_items", Page(records=[
            item(f"I{n}", "100", date(2026, 1, 2), debtor_id=f"D{n}") for n in range(1, 5)
        ]))
    return connection


def test_plan_says_which_law_applied_when_it_is_not_the_administrations(home: Path) -> None:
    connection = _connection(home)
    with Store(cfg.database_url()) as store:
        result = plan_connection(connection, store, date(2026, 1, 5))
    by_debtor = {a.debtor_source_id: a for a in result.actions if a.kind == ActionKind.FORMAL_NOTICE}
    assert legal_notes(by_debtor["D1"], "NL") == [
        "BE law: the consumer lives in BE and its law protects more (Rome I art. 6): costs EUR 20.00 instead of "
        "EUR 40.00 under NL law"
    ]
    # a Dutch debtor of unknown kind: nothing to say about the law, but about the kind; no costs yet
    assert legal_notes(by_debtor["D2"], "NL") == ["unknown kind, treated as consumer"]
    assert by_debtor["D2"].costs is None and by_debtor["D2"].details["costs_announced"] == "40.00"

    shown = CliRunner().invoke(app, ["plan", CID, "--date", "2026-01-05"], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    assert "law and rates" in shown.stdout
    assert "BE law: the consumer lives in BE and its law protects more" in shown.stdout


def test_plan_counts_the_debtors_of_unknown_kind_and_says_why_and_how_they_are_treated(home: Path) -> None:
    connection = _connection(home)
    with Store(cfg.database_url()) as store:
        result = plan_connection(connection, store, date(2026, 1, 5))
    # D4 is unknown in the package, but "B.V." in its name makes it a business
    assert (result.unknown, result.unknown_as, result.unknown_setting) == (2, "consumer", "the default")
    assert result.unknown_summary() == (
        "2 of 4 debtor(s) of unknown kind (2: no VAT, KvK/KBO number or legal form in the name): treated as consumer "
        "(the default); set a debtor's kind in the rules file (debtors.kinds) where you know it"
    )
    shown = CliRunner().invoke(app, ["plan", CID, "--date", "2026-01-05", "--format", "json"])
    document = json.loads(shown.stdout)
    assert document["debtors_unknown"] == {
        "count": 2,
        "reasons": {"unknown: no VAT, KvK/KBO number or legal form in the name; treated as consumer": 2},
        "treated_as": "consumer",
        "set_by": "the default",
    }
    table = CliRunner().invoke(app, ["plan", CID, "--date", "2026-01-05"], env={"COLUMNS": "400"})
    assert "2 of 4 debtor(s) of unknown kind" in table.stdout


def test_the_connection_in_config_yaml_decides_how_unknown_debtors_are_treated(home: Path) -> None:
    connection = _connection(home, unknown_as="business")
    assert cfg.load_config().connection(CID).unknown_as == "business"
    with Store(cfg.database_url()) as store:
        result = plan_connection(cfg.load_config().connection(CID), store, date(2026, 1, 5))
    steps = {a.debtor_source_id: (a.step, a.details["debtor_kind"], a.costs) for a in result.actions if a.step}
    # the rules file's segments still pick the ladder (they name `unknown`), but the unknown debtors
    # are now charged as businesses: EUR 40 compensation at once, no consumer's 14-day term
    forty = Money.of("40.00", "EUR")
    assert steps == {
        "D1": ("wik", "consumer", None), "D2": ("wik", "business", forty), "D3": ("wik", "business", forty),
        "D4": ("notice", "business", forty),
    }
    assert result.unknown_setting == "the connection's unknown_as in config.yaml"
    assert "treated as business (the connection's unknown_as in config.yaml)" in (result.unknown_summary() or "")
    assert connection.unknown_as == "business"


def test_plan_flags_an_unverified_rate_that_apply_will_not_send(home: Path) -> None:
    connection = _connection(home, unknown_as="business")
    with Store(cfg.database_url()) as store:
        # after the last verified day of the rate tables (rules/data/interest.yaml)
        late = plan_connection(connection, store, date(2026, 8, 3))
    notice = next(a for a in late.actions if a.debtor_source_id == "D4")
    assert notice.interest is not None and notice.interest.amount > 0
    assert "interest rate unverified: apply will not send this letter" in legal_notes(notice, "NL")
    shown = CliRunner().invoke(app, ["plan", CID, "--date", "2026-08-03"], env={"COLUMNS": "400"})
    assert "interest rate unverified: apply will not send this letter" in shown.stdout


# --------------------------------------------------------------------------- point 6 in the planner

BE_CREDITOR = """
creditor:
  name: Peeters & Janssens BV
  kbo_number: "0123.456.749"
  iban: BE68539007547034
  country: BE
"""

BE_CONSUMERS = """
costs: {{contract_clause: true, interest_clause: {clause}}}
segments:
  - {{name: all, default: true, profile: c}}
profiles:
  c:
    min_days_between_messages: 0
    steps:
      - {{name: first, after_days: 5, action: reminder, channel: letter, template: first_reminder, consumer_letter: true, costs: statutory}}
      - {{name: second, after_days: 20, from: previous_step, action: formal_notice, channel: letter, template: formal_notice, costs: statutory, interest: true}}
"""


@pytest.mark.parametrize("clause", [True, False])
def test_a_belgian_consumer_owes_interest_only_with_a_clause_and_only_after_the_free_reminders_term(clause: bool) -> None:
    r = rules(BE_CONSUMERS.format(clause=str(clause).lower()), BE_CREDITOR)
    consumer = debtor(kind=DebtorKind.CONSUMER, country="BE")
    invoice = item("I1", "1000", date(2025, 12, 29))
    # the free first reminder went out by letter on Monday 5 January 2026: its 14 days start on the
    # third working day after (Thursday 8 January) and end on Wednesday 21 January
    history = [journal_step(("I1",), "first", date(2026, 1, 5), profile="c", channel="letter")]
    [second] = plan(snapshot([consumer], [invoice], history, country="BE"), r, date(2026, 2, 2))
    assert second.step == "second"
    if clause:
        # at most the commercial rate (10.5 % in H1 2026), from 22 January: 12 days to 2 February
        # 1000 x 10.5 % x 12 / 365 = 3.45
        assert second.interest == Money.of("3.45", "EUR")
        assert "runs from the day after the free first reminder's term (2026-01-21)" in second.details["interest_explanation"]
    else:
        # no clause and no notice of default: no interest at all (not from the due date)
        assert second.interest is None or second.interest.is_zero()
        assert "no formal notice of default yet: no interest" in second.details["interest_explanation"]
    # damages on 1000: 65 + 5 % of 500 = 90 (the term has passed)
    assert second.costs == Money.of("90.00", "EUR")
