"""Letters of every kind, planned by the engine from small ledgers: the golden-file tests
(tests/rules/test_golden_letters.py) and the PDF read-back tests share them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from connector.model import ActionKind, DebtorKind, OpenItem, PlannedAction
from rules.engine import plan
from rules.letters import CreditorFacts, context_for, render
from rules.schema import Rules
from tests.rules.builders import debtor, item, journal_step, rules, snapshot

NL_CREDITOR_YAML = """
creditor:
  name: Van Dijk Installatietechniek B.V.
  coc_number: "12345678"
  vat_number: NL001234567B01
  iban: NL91ABNA0417164300
  bic: ABNANL2A
  address_lines: [Industrieweg 12, 3542 AD Utrecht]
  email: debiteuren@vandijk-installatie.nl
  country: NL
"""
BE_CREDITOR_YAML = """
creditor:
  name: Peeters & Janssens BV
  kbo_number: "0123.456.749"
  vat_number: BE0123456749
  iban: BE68539007547034
  bic: GKCCBEBB
  address_lines: [Kerkstraat 5, 2000 Antwerpen]
  email: boekhouding@peeters-janssens.be
  country: BE
"""
NL_CREDITOR = CreditorFacts(
    name="Van Dijk Installatietechniek B.V.", coc_number="12345678", vat_number="NL001234567B01",
    iban="NL91ABNA0417164300", bic="ABNANL2A", address_lines=["Industrieweg 12", "3542 AD Utrecht"],
    email="debiteuren@vandijk-installatie.nl", country="NL",
)
BE_CREDITOR = CreditorFacts(
    name="Peeters & Janssens BV", kbo_number="0123.456.749", vat_number="BE0123456749", iban="BE68539007547034",
    bic="GKCCBEBB", address_lines=["Kerkstraat 5", "2000 Antwerpen"], email="boekhouding@peeters-janssens.be", country="BE",
)

NL_RULES = """
letters: {languages: [nl, fr, en, de]}
segments:
  - {name: consumers, when: {kind: consumer}, profile: consumers}
  - {name: businesses, default: true, profile: business}
profiles:
  consumers:
    min_days_between_messages: 0
    steps:
      - {name: reminder, after_days: 3, action: reminder, channel: email, template: reminder, term_days: 14}
      - {name: fourteen-day-letter, after_days: 14, from: previous_step, action: formal_notice, channel: letter,
         template: formal_notice, consumer_letter: true, costs: statutory}
      - {name: default-notice, after_days: 20, from: previous_step, action: notice_of_default, channel: registered_letter,
         template: notice_of_default, term_days: 7, costs: statutory, interest: true}
      - {name: hand-over, after_days: 14, from: previous_step, action: collection_handover, channel: email,
         template: collection_handover, costs: statutory, interest: true}
  business:
    min_days_between_messages: 0
    steps:
      - {name: formal-notice, after_days: 14, action: formal_notice, channel: email, template: formal_notice, term_days: 7, costs: statutory}
      - {name: call, after_days: 21, action: call_task, channel: phone, template: call_task}
      - {name: default-notice, after_days: 28, action: notice_of_default, channel: registered_letter,
         template: notice_of_default, term_days: 7, costs: statutory, interest: true}
"""

BE_RULES = """
letters: {languages: [nl, fr, en, de]}
costs: {contract_clause: true}
segments:
  - {name: consumers, when: {kind: consumer}, profile: consumers}
  - {name: businesses, default: true, profile: business}
profiles:
  consumers:
    min_days_between_messages: 0
    steps:
      - {name: first-reminder, after_days: 5, action: reminder, channel: CHANNEL, template: first_reminder,
         consumer_letter: true, costs: statutory}
      - {name: second-reminder, after_days: 20, from: previous_step, action: formal_notice, channel: letter,
         template: formal_notice, term_days: 15, costs: statutory, interest: true}
  business:
    min_days_between_messages: 0
    steps:
      - {name: default-notice, after_days: 30, action: notice_of_default, channel: registered_letter,
         template: notice_of_default, term_days: 8, costs: statutory, interest: true}
"""

C, B = DebtorKind.CONSUMER, DebtorKind.BUSINESS
DUE = date(2026, 1, 5)  # a Monday


def _nl_consumer_items() -> list[OpenItem]:
    return [
        item("I1", "200.00", DUE, debtor_id="D1", invoice_date=date(2025, 12, 22), description="Onderhoud cv-ketel"),
        item("I2", "150.00", DUE, debtor_id="D1", invoice_date=date(2025, 12, 22)),
    ]


def _be_consumer_items() -> list[OpenItem]:
    return [item("I1", "777.77", DUE, debtor_id="D1", invoice_date=date(2025, 12, 6), description="Plaatsing zonneboiler")]


def _business_items() -> list[OpenItem]:
    return [
        item("I1", "3000.00", DUE, debtor_id="D1", invoice_date=date(2025, 12, 6)),
        item("I2", "1250.50", DUE, debtor_id="D1", invoice_date=date(2025, 12, 8)),
    ]


@dataclass(frozen=True)
class Case:
    """One letter: the ledger and history the engine plans it from, and what it must be."""

    name: str
    rules: Callable[[], Rules]
    creditor: CreditorFacts
    kind: DebtorKind
    country: str
    items: Callable[[], list[OpenItem]]
    history: tuple[tuple[str, date, ActionKind, str], ...]  # (step, on, kind, channel)
    run: date
    step: str
    template: str | None = None  # another template rendered from the same planned action
    debtor_country: str | None = None


def _nl() -> Rules:
    return rules(NL_RULES, NL_CREDITOR_YAML)


def _be(channel: str) -> Callable[[], Rules]:
    return lambda: rules(BE_RULES.replace("CHANNEL", channel), BE_CREDITOR_YAML)


R, F, N, H = ActionKind.REMINDER, ActionKind.FORMAL_NOTICE, ActionKind.NOTICE_OF_DEFAULT, ActionKind.COLLECTION_HANDOVER
NL_CONSUMER_HISTORY = (
    ("reminder", date(2026, 1, 8), R, "email"),
    ("fourteen-day-letter", date(2026, 1, 22), F, "letter"),
    ("default-notice", date(2026, 2, 11), N, "registered_letter"),
)
CASES = [
    # NL consumer: a reminder, the 14-day letter (art. 6:96(6) BW), the notice of default that charges
    # the costs the letter announced, the hand-over
    Case("nl-consumer-reminder", _nl, NL_CREDITOR, C, "NL", _nl_consumer_items, (), date(2026, 1, 8), "reminder"),
    Case("nl-consumer-14-day-letter", _nl, NL_CREDITOR, C, "NL", _nl_consumer_items, NL_CONSUMER_HISTORY[:1],
         date(2026, 1, 22), "fourteen-day-letter"),
    Case("nl-consumer-default-notice", _nl, NL_CREDITOR, C, "NL", _nl_consumer_items, NL_CONSUMER_HISTORY[:2],
         date(2026, 2, 11), "default-notice"),
    Case("nl-consumer-handover", _nl, NL_CREDITOR, C, "NL", _nl_consumer_items, NL_CONSUMER_HISTORY,
         date(2026, 2, 25), "hand-over"),
    # a consumer in Belgium of a Dutch administration: Book XIX protects more (Rome I art. 6), so the
    # 14-day letter says what Book XIX requires (and does not call itself the first reminder)
    Case("nl-creditor-be-consumer-14-day-letter", _nl, NL_CREDITOR, C, "NL", _nl_consumer_items, NL_CONSUMER_HISTORY[:1],
         date(2026, 1, 22), "fourteen-day-letter", debtor_country="BE"),
    # NL business: EUR 40 / the scale at once (art. 6:96(4) BW), commercial interest at the notice
    Case("nl-business-formal-notice", _nl, NL_CREDITOR, B, "NL", _business_items, (), date(2026, 1, 19), "formal-notice"),
    Case("nl-business-call", _nl, NL_CREDITOR, B, "NL", _business_items,
         (("formal-notice", date(2026, 1, 19), F, "email"),), date(2026, 1, 26), "call"),
    Case("nl-business-default-notice", _nl, NL_CREDITOR, B, "NL", _business_items,
         (("formal-notice", date(2026, 1, 19), F, "email"), ("call", date(2026, 1, 26), ActionKind.CALL_TASK, "phone")),
         date(2026, 2, 2), "default-notice"),
    # BE consumer (Book XIX): the free first reminder by letter and by e-mail, then the later letter
    Case("be-consumer-first-reminder-letter", _be("letter"), BE_CREDITOR, C, "BE", _be_consumer_items, (),
         date(2026, 1, 12), "first-reminder"),
    Case("be-consumer-first-reminder-email", _be("email"), BE_CREDITOR, C, "BE", _be_consumer_items, (),
         date(2026, 1, 12), "first-reminder"),
    Case("be-consumer-second-reminder", _be("letter"), BE_CREDITOR, C, "BE", _be_consumer_items,
         (("first-reminder", date(2026, 1, 12), R, "letter"),), date(2026, 2, 2), "second-reminder"),
    # BE business (law of 2 August 2002): EUR 40 per late invoice and commercial interest
    Case("be-business-default-notice", _be("letter"), BE_CREDITOR, B, "BE", _business_items, (),
         date(2026, 2, 4), "default-notice"),
]

def planned(case: Case) -> PlannedAction:
    history = [journal_step(("I1", "I2"), step, on, profile=("consumers" if case.kind is C else "business"), kind=kind,
                            channel=channel) for step, on, kind, channel in case.history]
    found = plan(
        snapshot([debtor("D1", case.kind, name="M. de Vries-Dubois", code="1001", country=case.debtor_country)], case.items(), history,
                 country=case.country),
        case.rules(), case.run,
    )
    [action] = [a for a in found if a.step is not None]
    assert action.step == case.step, (case.name, action.step, action.reason)
    return action


def rendered(case: Case, language: str) -> str:
    action = planned(case)
    context = context_for(action, creditor=case.creditor, debtor_name="M. de Vries-Dubois", debtor_code="1001",
                          consumer=case.kind is C)
    return render(case.template or action.template or action.kind.value, language, context).text
