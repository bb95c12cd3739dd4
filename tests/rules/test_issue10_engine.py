"""Issue 10 in the planner: one letter per debtor (art. 6:96(7) BW), the consumer's law (Rome I
art. 6), who is a consumer, and at most what the profile allows on one day (issue 11 point 8)."""

from __future__ import annotations

import json
from datetime import date

from connector.model import DebtorKind, Money
from rules.engine import plan
from tests.rules.builders import debtor, item, journal_step, rules, snapshot

CONSUMERS = """
segments:
  - name: all
    default: true
    profile: p
profiles:
  p:
    min_days_between_messages: 0
    steps:
      - {name: reminder, after_days: 1, action: reminder, channel: email, template: reminder}
      - {name: wik, after_days: 14, from: previous_step, action: formal_notice, channel: letter, template: formal_notice, consumer_letter: true, costs: statutory}
      - {name: default, after_days: 20, from: previous_step, action: notice_of_default, channel: letter, template: notice_of_default, costs: statutory}
"""

C = DebtorKind.CONSUMER


def test_two_claims_of_200_go_in_one_14_day_letter_and_the_scale_is_charged_once_on_400() -> None:
    r = rules(CONSUMERS)
    # I1 (due 2 Jan) was reminded on 5 Jan; I2 (due 20 Jan) falls due while I1 waits for its 14-day letter.
    items = [item("I1", "200", date(2026, 1, 2)), item("I2", "200", date(2026, 1, 20))]
    history = [journal_step(("I1",), "reminder", date(2026, 1, 5))]
    [letter] = plan(snapshot([debtor(kind=C)], items, history), r, date(2026, 1, 21))
    # before: a reminder for I2 now and a second 14-day letter later, charged 40 + 40 = 80
    assert (letter.step, letter.item_source_ids) == ("wik", ("I1", "I2"))
    assert json.loads(letter.details["item_steps"]) == {"I1": "p/wik", "I2": "p/wik"}
    # 15 % of 400 = 60 (not 2 x the EUR 40 minimum)
    assert letter.details["costs_announced"] == "60.00"
    # after the term, the default notice charges the scale once on the sum: EUR 60
    done = [*history, (letter, "done")]
    [notice] = plan(snapshot([debtor(kind=C)], items, done), r, date(2026, 2, 10))
    assert (notice.step, notice.item_source_ids, notice.costs) == ("default", ("I1", "I2"), Money.of("60.00", "EUR"))


def test_a_belgian_consumer_of_a_dutch_administration_gets_the_belgian_scale() -> None:
    r = rules(CONSUMERS)
    belgian = debtor(kind=C, country="BE")
    [letter] = plan(
        snapshot([belgian], [item("I1", "100", date(2026, 1, 2))], [journal_step(("I1",), "reminder", date(2026, 1, 5))]),
        r, date(2026, 1, 19),
    )
    # NL scale: EUR 40 on EUR 100; Book XIX: EUR 20
    assert letter.details["costs_announced"] == "20.00"
    assert letter.details["law"] == (
        "BE law: the consumer lives in BE and its law protects more (Rome I art. 6): costs EUR 20.00 instead of "
        "EUR 40.00 under NL law"
    )
    dutch = debtor(kind=C, country="NL")
    [home] = plan(
        snapshot([dutch], [item("I1", "100", date(2026, 1, 2))], [journal_step(("I1",), "reminder", date(2026, 1, 5))]),
        r, date(2026, 1, 19),
    )
    assert home.details["costs_announced"] == "40.00"
    assert home.details["law"] == "NL law: the consumer's and the creditor's country"


BUSINESS_OR_NOT = """
segments:
  - {name: consumers, when: {kind: [consumer, unknown]}, profile: c}
  - {name: businesses, default: true, profile: b}
profiles:
  c:
    steps:
      - {name: c1, after_days: 1, action: reminder, template: reminder}
  b:
    steps:
      - {name: b1, after_days: 1, action: reminder, template: reminder}
"""


def test_unknown_debtors_are_classified_by_every_signal_the_package_gives() -> None:
    unknown = DebtorKind.UNKNOWN
    debtors = [
        debtor("D1", kind=unknown, name="Bakkerij Jansen B.V."),
        debtor("D2", kind=unknown, name="Jan Jansen", vat_number="NL001234567B01"),
        debtor("D3", kind=unknown, name="Piet Pieters", coc_number="12345678"),
        debtor("D4", kind=unknown, name="Stichting Het Buurthuis"),
        debtor("D5", kind=unknown, name="Marie Dubois"),
        debtor("D6", kind=unknown, name="Karel Peeters", code="K6"),
    ]
    items = [item(f"I{n}", "100", date(2026, 1, 5), debtor_id=f"D{n}") for n in range(1, 7)]
    r = rules(BUSINESS_OR_NOT + "debtors:\n  kinds: {K6: business}\n")
    actions = plan(snapshot(debtors, items), r, date(2026, 1, 6))
    assert [(a.debtor_source_id, a.step) for a in actions] == [
        ("D1", "b1"), ("D2", "b1"), ("D3", "b1"), ("D4", "b1"), ("D5", "c1"), ("D6", "b1"),
    ]
    marie = actions[4]
    assert marie.details["classification"] == "unknown: no VAT, KvK/KBO number or legal form in the name; treated as consumer"
    assert "unknown_kind" in marie.details["flags"]
    # a connection or rules file may treat unknown debtors as businesses
    as_business = rules(BUSINESS_OR_NOT + "debtors:\n  unknown_as: business\n")
    [marie_b] = plan(snapshot([debtors[4]], [items[4]]), as_business, date(2026, 1, 6))
    assert marie_b.details["debtor_kind"] == "business"


TWO_CURRENCIES = """
segments:
  - {name: all, default: true, profile: p}
profiles:
  p:
    min_days_between_messages: 7
    steps:
      - {name: s1, after_days: 1, action: reminder, template: reminder}
      - {name: s2, after_days: 14, action: formal_notice, template: formal_notice}
"""


def test_a_debtor_gets_at_most_one_message_a_day_when_the_profile_asks_for_a_gap() -> None:
    r = rules(TWO_CURRENCIES)
    items = [item("I1", "100", date(2026, 1, 5)), item("I2", "100", date(2026, 1, 5), currency="USD")]
    first = plan(snapshot([debtor()], items), r, date(2026, 1, 6))
    assert [(a.step, a.item_source_ids) for a in first] == [("s1", ("I1",))]  # before: both currencies the same day
    # across runs: the USD letter waits 7 days after the EUR one
    done = [(first[0], "done")]
    assert plan(snapshot([debtor()], items, done), r, date(2026, 1, 12)) == []
    assert [(a.step, a.item_source_ids) for a in plan(snapshot([debtor()], items, done), r, date(2026, 1, 13))] == [
        ("s1", ("I2",))
    ]
