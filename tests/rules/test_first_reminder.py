"""Issue 10 point 5: the Belgian free first reminder (Book XIX WER) is its own template and says
everything the law lists: the creditor's name and KBO number, what the debt is for, its due date and
invoice, the amount owed, the term (at least 14 days; a letter: from the third working day after it
is sent, an e-mail: from the day after) and the damages and interest claimed if it is not paid in
time. ``rules check`` refuses a Belgian consumer profile that does not start with it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connector.model import DebtorKind, PlannedAction
from rules.engine import plan
from rules.letters import CreditorFacts, context_for, render
from rules.loading import check_rules
from tests.rules.builders import debtor, item, rules, snapshot
from tests.support.paths import EXAMPLES

CREDITOR_BE = """
creditor:
  name: Peeters & Janssens BV
  kbo_number: "0123.456.749"
  iban: BE68539007547034
  country: BE
"""

FIRST = """
letters: {{languages: [nl, fr, en, de]}}
segments:
  - {{name: consumers, when: {{kind: [consumer, unknown]}}, profile: c}}
  - {{name: rest, default: true, profile: b}}
profiles:
  c:
    steps:
      - {{name: first, after_days: 5, action: reminder, channel: {channel}, template: first_reminder, consumer_letter: true, costs: statutory}}
      - {{name: second, after_days: 20, from: previous_step, action: formal_notice, channel: letter, template: formal_notice, costs: statutory}}
  b:
    steps:
      - {{name: b1, after_days: 1, action: reminder, template: reminder}}
"""

RUN = date(2026, 2, 9)  # a Monday; the invoice fell due on 2 February


def _first_reminder(channel: str, **item_extra: object) -> PlannedAction:
    r = rules(FIRST.format(channel=channel), CREDITOR_BE)
    consumer = debtor(kind=DebtorKind.CONSUMER, country="BE", language="nl")
    invoice = item("I1", "777.77", date(2026, 2, 2), invoice_date=date(2026, 1, 3), **item_extra)
    [action] = plan(snapshot([consumer], [invoice]), r, RUN)
    assert (action.step, action.template, action.details["consumer_letter"]) == ("first", "first_reminder", "BE")
    return action


def _text(action: PlannedAction, language: str) -> str:
    creditor = CreditorFacts(name="Peeters & Janssens BV", kbo_number="0123.456.749", iban="BE68539007547034", country="BE")
    context = context_for(action, creditor=creditor, debtor_name="Marie Dubois", debtor_code="1", consumer=True)
    letter = render("first_reminder", language, context)
    assert letter.text.count("0123.456.749") >= 2  # the header and the Book XIX sentence
    return letter.text


def test_the_first_reminder_by_letter_names_what_the_debt_is_for_the_term_and_what_follows() -> None:
    action = _first_reminder("letter", description="Onderhoud cv-ketel, januari")
    # sent Monday 9 Feb: the term starts on the third working day after (Thu 12 Feb) and runs 14 days
    assert (action.details["pay_by"], action.details["costs_from"]) == ("2026-02-25", "2026-02-26")
    text = _text(action, "nl")
    assert "Schuldeiser: Peeters & Janssens BV, ondernemingsnummer 0123.456.749." in text
    assert (
        "Deze herinnering betreft: Onderhoud cv-ketel, januari (factuur 1 van 3 januari 2026, vervallen op "
        "2 februari 2026, € 777,77)." in text
    )
    assert "Het openstaande bedrag is € 777,77." in text
    assert (
        "U heeft veertien dagen om te betalen, te rekenen vanaf de derde werkdag na de verzending van deze brief. "
        "Betaal uiterlijk op 25 februari 2026." in text
    )
    # damages on 777.77: 65 + 5 % of 277.77 = 78.8885, rounded down
    assert "Betaalt u niet binnen die termijn, dan rekenen wij een schadevergoeding aan van € 78,88." in text
    # BE H1 2026 commercial rate 10.5 %, owed from the day after the term
    assert "dan is vanaf 26 februari 2026 ook interest verschuldigd tegen 10,5 % per jaar op het openstaande bedrag." in text
    # nothing is charged in the first reminder itself
    assert "Incassokosten" not in text and "Rente:" not in text and "Totaal te betalen" not in text

    french = _text(action, "fr")
    assert "Créancier : Peeters & Janssens BV, numéro d'entreprise 0123.456.749." in french
    assert "Ce rappel concerne : Onderhoud cv-ketel, januari (facture n° 1 du 3 janvier 2026, échue le 2 février 2026, 777,77 €)." in french
    assert "à compter du troisième jour ouvrable suivant l'envoi de cette lettre. Payez au plus tard le 25 février 2026." in french
    assert "nous réclamerons une indemnité de 78,88 €." in french


def test_without_a_description_the_letter_names_the_invoice_by_number_and_date_as_what_was_supplied() -> None:
    text = _text(_first_reminder("letter"), "nl")
    assert (
        "Deze herinnering betreft: de goederen of diensten die wij u leverden volgens factuur 1 van 3 januari 2026 "
        "(vervallen op 2 februari 2026, € 777,77)." in text
    )
    french = _text(_first_reminder("letter"), "fr")
    assert "les biens ou services que nous vous avons fournis selon la facture n° 1 du 3 janvier 2026" in french


def test_by_e_mail_the_term_starts_the_day_after_sending() -> None:
    action = _first_reminder("email")
    # sent Monday 9 Feb: 14 days from Tuesday 10 Feb, the last is Monday 23 Feb
    assert action.details["pay_by"] == "2026-02-23"
    text = _text(action, "nl")
    assert "te rekenen vanaf de dag na de verzending van deze e-mail. Betaal uiterlijk op 23 februari 2026." in text
    assert "derde werkdag" not in text
    assert "à compter du lendemain de l'envoi de cet e-mail." in _text(action, "fr")
    assert "counted from the day after this e-mail was sent." in _text(action, "en")
    assert "ab dem Tag nach dem Versand dieser E-Mail." in _text(action, "de")


def test_the_shipped_belgian_example_starts_its_consumer_profile_with_the_first_reminder() -> None:
    text = (EXAMPLES / "be-practice.yaml").read_text(encoding="utf-8")
    found, problems = check_rules(text, "be-practice.yaml", base_dir=EXAMPLES)
    assert problems == [] and found is not None
    assert found.profiles["consumers"].steps[0].template == "first_reminder"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("template: first_reminder, consumer_letter", "template: reminder, consumer_letter", "template"),
        ("template: first_reminder, consumer_letter: true", "template: first_reminder, consumer_letter: false", "consumer_letter"),
        ("action: reminder, channel: letter,\n         template: first_reminder",
         "action: reminder, channel: phone,\n         template: first_reminder", "channel"),
    ],
)
def test_rules_check_refuses_a_belgian_consumer_profile_that_does_not_start_with_the_first_reminder(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    original = (EXAMPLES / "be-practice.yaml").read_text(encoding="utf-8")
    assert old in original
    text = original.replace(old, new, 1)
    _, problems = check_rules(text, "be.yaml", base_dir=EXAMPLES)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "name: first-reminder" in row)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"be.yaml:{line}:") or problems[0].startswith(f"be.yaml:{line + 1}:"), problems
    assert f": profiles.consumers.steps[0].{field}: a Belgian consumer profile must start with the free first reminder" in problems[0]


def test_a_dutch_rules_file_may_start_its_consumer_profile_with_an_ordinary_reminder() -> None:
    text = (EXAMPLES / "nl-practice.yaml").read_text(encoding="utf-8")
    _, problems = check_rules(text, "nl.yaml", base_dir=EXAMPLES)
    assert problems == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_invoice_description_reaches_the_plan_from_the_store(tmp_path: Path, backend: str) -> None:
    from connector import config as cfg
    from connector.actions.planning import build_snapshot
    from connector.model import Page
    from connector.store import Store
    from tests.rules.builders import CID
    from tests.support.pg import temporary_postgres_url

    connection = cfg.ConnectionConfig(name=CID, credential="c", package="exact", administration="1", country="BE")
    records = [item("I1", "100", date(2026, 2, 2), description="Onderhoud cv-ketel"), item("I2", "50", date(2026, 2, 2))]

    def described(url: str) -> dict[str, str | None]:
        with Store(url) as store:
            store.migrate()
            store.ensure_connection(CID, "exact", "Test")
            store.save_page(CID, "debtors", Page(records=[debtor(kind=DebtorKind.CONSUMER)]))
            store.save_page(CID, "open_items", Page(records=records))
            found = build_snapshot(store, connection, RUN)
        return {i.source_id: i.description for i in found.items_by_debtor["D1"]}

    if backend == "sqlite":
        result = described(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        with temporary_postgres_url() as url:
            result = described(url)
    assert result == {"I1": "Onderhoud cv-ketel", "I2": None}
