"""The desk's check, without a package: promises judged on the payments the store holds, each
outcome closed once with one note, and a note that failed tried again on the next check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.actions.desk import MAX_ATTEMPTS, check
from connector.actions.writeback import apply_actions
from connector.config import ConnectionConfig
from connector.errors import TransientError
from connector.model import ActionKind, ApplyOutcome, ApplyResult, Debtor, Money, OpenItem, Page, Payment, PlannedAction
from connector.store import Store
from connector.store.desk import Desk, Scheduled
from tests.rules.builders import rules

CID = "exact-1"
CONNECTION = ConnectionConfig(name=CID, credential="c", package="exact", administration="1")
RULES = rules("""
segments: [{name: all, default: true, profile: p}]
profiles:
  p:
    steps: [{name: s1, after_days: 1, action: reminder, template: reminder}]
""")


def item(sid: str, debtor: str, amount: str) -> OpenItem:
    money = Money.of(amount, "EUR")
    return OpenItem(connection_id=CID, source_id=sid, debtor_source_id=debtor, invoice_date=date(2026, 2, 1),
                    due_date=date(2026, 2, 28), original=money, open=money, original_base=money, open_base=money)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as s:
        s.migrate()
        s.save_page(CID, "debtors", Page[Debtor](records=[
            Debtor(connection_id=CID, source_id=d, name=f"Debtor {d}") for d in ("K", "B")]))
        s.save_page(CID, "open_items", Page[OpenItem](records=[item("IK", "K", "300"), item("IB", "B", "200")]))
        desk = Desk(s)
        for debtor, sid in (("K", "IK"), ("B", "IB")):
            desk.add_agreement(CID, kind="promise", debtor=debtor, items=[sid], agreed_on=date(2026, 3, 1),
                               schedule=[Scheduled(date(2026, 3, 10), Decimal(300 if debtor == "K" else 200))],
                               grace_days=3, currency="EUR")
        # K pays in time; B does not.
        s.save_page(CID, "payments", Page[Payment](records=[Payment(
            connection_id=CID, source_id="P1", debtor_source_id="K", item_source_ids=("IK",), paid_on=date(2026, 3, 9),
            amount=Money.of("300", "EUR"))]))
        yield s


def test_a_check_closes_kept_and_broken_promises_once_each_with_a_note(store: Store) -> None:
    first = check(store, CONNECTION, RULES, date(2026, 3, 13))  # B is still within its grace
    assert [(e.what, e.debtor, e.on) for e in first.events] == [("promise kept", "K", date(2026, 3, 9))]
    second = check(store, CONNECTION, RULES, date(2026, 3, 14))
    assert [(e.what, e.debtor, e.on) for e in second.events] == [("promise broken", "B", date(2026, 3, 14))]
    notes = first.actions + second.actions
    assert [a.kind for a in notes] == [ActionKind.ADD_NOTE, ActionKind.ADD_NOTE]
    states = {a.debtor_source_id: (a.state, a.closed_on) for a in Desk(store).agreements(CID)}
    assert states == {"K": ("kept", date(2026, 3, 9)), "B": ("broken", date(2026, 3, 14))}
    assert Desk(store).resume_at(CID) == {"IB": date(2026, 3, 14)}
    apply_actions(notes, store, lambda _: ApplyResult(outcome=ApplyOutcome.DONE))
    assert check(store, CONNECTION, RULES, date(2026, 3, 15)).actions == []


def test_a_note_that_failed_is_tried_again_by_the_next_checks_a_few_times(store: Store) -> None:
    found = check(store, CONNECTION, RULES, date(2026, 3, 14))
    assert len(found.actions) == 2

    def down(_: PlannedAction) -> ApplyResult:
        raise TransientError("the package is down")

    apply_actions(found.actions, store, down)
    for _ in range(MAX_ATTEMPTS - 1):
        again = check(store, CONNECTION, RULES, date(2026, 3, 15))
        assert sorted(a.idempotency_key for a in again.actions) == sorted(a.idempotency_key for a in found.actions)
        assert again.events == []  # the promises were closed once
        apply_actions(again.actions, store, down)
    assert check(store, CONNECTION, RULES, date(2026, 3, 16)).actions == []  # left to a person now
