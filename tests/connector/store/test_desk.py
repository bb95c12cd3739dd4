"""The desk's store: KPI facts from stored items and payments, daily snapshots, disputes and
agreements; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.actions.kpis import FIRM, kpi_report
from connector.errors import ConfigError
from connector.model import OpenItem, Page
from connector.store import Store
from connector.store.desk import Desk
from connector.store.desk import SettlementRow as Settlement
from rules.desk import AgreementState, Instalment
from tests.support.kpi_data import BE, NL, fill, fixed_clock

D = Decimal
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def filled(db_url: str) -> Iterator[Store]:
    with Store(db_url, clock=fixed_clock) as store:
        store.migrate()
        fill(store)
        yield store


def test_facts_carry_the_payments_and_the_closing_of_each_item(filled: Store) -> None:
    facts = {(f.debtor, f.currency, f.amount): f for f in Desk(filled).facts(NL, until=date(2026, 4, 30))}
    assert facts[("A", "EUR", D(62000))].settlements == (Settlement(date(2026, 3, 11), D(30000)),)
    assert facts[("B", "EUR", D(56000))].settlements == (Settlement(date(2026, 3, 17), D(56000)),)
    assert facts[("D", "USD", D(2000))].settlements == (Settlement(date(2026, 3, 25), D(2000), "written_off"),)
    assert facts[("C", "EUR", D(93000))].settlements == ()


def test_the_report_from_the_store_equals_the_hand_computed_figures(filled: Store) -> None:
    report = kpi_report(filled, [NL, BE], *MARCH)
    assert [s.name for s in report.scopes] == [NL, BE, FIRM]
    nl = {f.currency: f for f in report.scopes[0].figures}
    assert (nl["EUR"].ar, nl["EUR"].dso_countback, nl["EUR"].dso_simple, nl["EUR"].cei) == (D(125000), D("47.0"), D("41.7"), D("72.9"))
    assert (nl["EUR"].average_days_to_pay, nl["EUR"].days_beyond_terms) == (D("40.5"), D("10.5"))
    assert (nl["USD"].ar, nl["USD"].write_off_pct) == (D(8000), D("20.0"))
    firm = {f.currency: f for f in report.scopes[2].figures}
    assert (firm["EUR"].ar, firm["EUR"].credit_sales, firm["EUR"].dso_simple) == (D(156000), D(124000), D("39.0"))
    steps = report.scopes[0].steps["2026-03"]
    assert [(e.step, e.sent, e.amount, e.brought_in) for e in steps] == [("reminder", 2, D(118000), D(86000))]


def test_a_past_period_uses_the_snapshot_of_what_the_store_knew_that_day(filled: Store) -> None:
    desk = Desk(filled)
    taken = desk.take_snapshot(NL, date(2026, 3, 31), datetime(2026, 3, 31, 22, tzinfo=UTC))
    assert taken["EUR"].total == D(125000) and taken["EUR"].buckets[2] == D(32000)
    # Later the invoice of C is voided in the package: rebuilt from today's facts March would
    # lose it, but the snapshot of 31 March still has it.
    filled.save_page(NL, "open_items", Page[OpenItem](records=[], deleted=["C1"]))
    eur = next(f for f in kpi_report(filled, [NL], *MARCH).scopes[0].figures if f.currency == "EUR")
    assert eur.ar == D(125000)
    assert eur.current == D(93000)
    # Taking it again the same day replaces it.
    again = desk.take_snapshot(NL, date(2026, 3, 31), datetime(2026, 3, 31, 23, tzinfo=UTC))
    assert again["EUR"].total == D(32000)
    assert desk.snapshots(NL, [date(2026, 3, 31)])[date(2026, 3, 31)]["EUR"].total == D(32000)


def test_a_dispute_on_a_whole_debtor_pauses_its_open_items_until_the_review_date(filled: Store) -> None:
    desk = Desk(filled)
    row = desk.add_dispute(NL, debtor="A", item=None, category="price", reason="too dear", opened_on=date(2026, 3, 1),
                           review_on=date(2026, 3, 20))
    assert row.item_source_id is None and row.debtor_source_id == "A"
    assert desk.paused_by_disputes(NL, date(2026, 3, 20)) == {"A1"}
    assert desk.paused_by_disputes(NL, date(2026, 3, 21)) == set()  # past review: back on the ladder
    again = desk.add_dispute(NL, debtor="A", item=None, category="price", reason="twice", opened_on=date(2026, 3, 2))
    assert again.id == row.id  # one open dispute per debtor
    desk.resolve_dispute(NL, row.id, date(2026, 3, 5))
    assert desk.paused_by_disputes(NL, date(2026, 3, 6)) == set()
    with pytest.raises(ConfigError, match="unknown dispute category"):
        desk.add_dispute(NL, debtor="A", item="A1", category="weather", reason="x", opened_on=date(2026, 3, 1))


def test_closing_an_agreement_ends_its_pause_and_a_broken_one_names_where_to_resume(filled: Store) -> None:
    desk = Desk(filled)
    promise = desk.add_agreement(NL, kind="promise", debtor="C", items=["C1"], agreed_on=date(2026, 3, 1),
                                 schedule=(Instalment(date(2026, 3, 10), D(93000)),), grace_days=3, currency="EUR")
    assert promise.ends_on == date(2026, 3, 13)
    assert promise.open_at_start == {"C1": D(93000)}
    assert filled.items_under_plan(NL, date(2026, 3, 12)) == {"C1"}
    closed = desk.close_agreement(NL, promise.id, AgreementState.BROKEN, date(2026, 3, 12))
    assert (closed.state, closed.closed_on, closed.ends_on) == (AgreementState.BROKEN, date(2026, 3, 12), date(2026, 3, 11))
    assert filled.items_under_plan(NL, date(2026, 3, 12)) == set()
    assert desk.resume_at(NL) == {"C1": date(2026, 3, 12)}
    # A closed agreement stays as it was closed.
    assert desk.close_agreement(NL, promise.id, AgreementState.KEPT, date(2026, 3, 20)).state == AgreementState.BROKEN


def test_worker_processes_give_the_same_report_as_one_process(filled: Store) -> None:
    one = kpi_report(filled, [NL, BE], *MARCH)
    two = kpi_report(filled, [NL, BE], *MARCH, workers=2)
    assert two.as_dict() == one.as_dict()
