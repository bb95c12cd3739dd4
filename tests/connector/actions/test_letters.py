"""Letters: every shipped template renders in every language with what the law wants on it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connector.model import ActionKind, Money
from rules.letters import (
    LANGUAGES,
    SHIPPED_TEMPLATES,
    CreditorFacts,
    LetterContext,
    context_for,
    format_money,
    render,
    sample_context,
    template_problems,
)
from tests.connector.actions.conftest import CREDITOR, message


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", SHIPPED_TEMPLATES)
def test_every_shipped_template_renders_in_every_language_with_the_facts_a_letter_must_carry(name: str, language: str) -> None:
    assert template_problems(name, language) == []
    letter = render(name, language, sample_context())
    assert letter.subject.strip()
    for text in (letter.text, letter.html):
        # docs/reference/legal-and-kpi.md §3.1/§3.2: creditor, registration number, how to pay, the items.
        assert "Voorbeeld B.V." in text
        assert "12345678" in text  # KvK
        assert "NL91ABNA0417164300" in text
        assert "RF18539007547034" in text
        assert "2026001" in text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nl_NL", "€ 1.234,56"),
        ("nl_BE", "€ 1.234,56"),
        ("fr_BE", "1 234,56 €"),
        ("de_DE", "1.234,56 €"),
        ("en", "€1,234.56"),
    ],
)
def test_money_is_formatted_by_babel_per_locale(locale: str, expected: str) -> None:
    assert format_money(Money.of("1234.56", "EUR"), locale) == expected


def test_a_dutch_letter_shows_amounts_and_dates_the_dutch_way() -> None:
    letter = render("formal_notice", "nl", sample_context())
    assert "Openstaand bedrag: € 1.234,56" in letter.text
    assert "Incassokosten: € 185,18" in letter.text
    # 1234.56 + 185.18 + 3.04 = 1422.78
    assert "Totaal te betalen: € 1.422,78" in letter.text
    assert "Uiterlijk te betalen op: 18 maart 2026" in letter.text


FOURTEEN_DAY = {
    "nl": [
        "Betaal het totaalbedrag van € 1.234,56 binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd. "
        "Wij gaan ervan uit dat deze brief uiterlijk op 4 maart 2026 bij u is bezorgd; betaal dan uiterlijk op 18 maart 2026.",
        "Betaalt u niet binnen die termijn, dan bent u ook incassokosten verschuldigd van € 185,18.",
    ],
    "fr": [
        "Veuillez payer le total de 1 234,56 € dans les quatorze jours à compter du lendemain de la remise de cette lettre "
        "à votre adresse. Nous considérons qu'elle vous est remise au plus tard le 4 mars 2026 ; payez donc au plus tard le 18 mars 2026.",
        "À défaut de paiement dans ce délai, des frais de recouvrement de 185,18 € seront dus en outre.",
    ],
    "en": [
        "Please pay the total of €1,234.56 within fourteen days from the day after this letter is delivered to you. "
        "We assume it is delivered to you on March 4, 2026 at the latest; please pay no later than March 18, 2026.",
        "If you do not pay within that term, you will also owe collection costs of €185.18.",
    ],
    "de": [
        "Bitte zahlen Sie den Gesamtbetrag von 1.234,56 € innerhalb von vierzehn Tagen ab dem Tag nach der Zustellung dieses "
        "Briefes. Wir gehen davon aus, dass er Ihnen spätestens am 4. März 2026 zugestellt wird; zahlen Sie also spätestens am 18. März 2026.",
        "Zahlen Sie nicht innerhalb dieser Frist, schulden Sie zusätzlich Inkassokosten von 185,18 €.",
    ],
}


def fourteen_day_context() -> LetterContext:
    return sample_context().model_copy(
        update={"statutory": "NL", "costs": None, "interest": None, "costs_announced": Money.of("185.18", "EUR")}
    )


@pytest.mark.parametrize("language", ["nl", "fr", "en", "de"])
def test_the_dutch_14_day_letter_states_the_exact_costs_the_term_and_its_end(language: str) -> None:
    # Art. 6:96(6) BW, HR 25 Nov 2016 ECLI:NL:HR:2016:2704 (issue 10 points 1 and 7a).
    lines = render("formal_notice", language, fourteen_day_context()).text.splitlines()
    for sentence in FOURTEEN_DAY[language]:
        assert sentence in lines
    business = render("formal_notice", language, sample_context()).text
    assert FOURTEEN_DAY[language][0] not in business


@pytest.mark.parametrize("template", ["reminder", "formal_notice", "notice_of_default", "collection_handover"])
@pytest.mark.parametrize("language", ["nl", "fr", "en", "de"])
def test_no_letter_carries_an_internal_note(template: str, language: str) -> None:
    # The explanation lines belong in plan, costs and the journal, never in a letter (issue 10 point 3).
    context = sample_context().model_copy(
        update={"costs_explanation": ["basis: the principal EUR 1,234.56 only (docs/reference/legal-and-kpi.md §3.1)"], "interest_explanation": ["INTERNAL"]}
    )
    letter = render(template, language, context)
    for text in (letter.text, letter.html):
        assert "basis:" not in text and "INTERNAL" not in text and "§" not in text and "no costs:" not in text


def test_a_belgian_creditor_shows_its_enterprise_number_and_belgian_formats() -> None:
    belgian = CreditorFacts(name="Atelier Dupont BV", kbo_number="0123.456.749", iban="BE68539007547034", country="BE")
    context = sample_context().model_copy(update={"creditor": belgian, "payment_reference": "+++090/9337/55493+++"})
    letter = render("reminder", "fr", context)
    assert "Numéro d'entreprise: 0123.456.749" in letter.text
    assert "+++090/9337/55493+++" in letter.text
    assert "1 234,56 €" in letter.text


def test_html_is_escaped_and_text_is_not() -> None:
    context = sample_context().model_copy(update={"debtor_name": "Jansen & <Zn>"})
    letter = render("reminder", "nl", context)
    assert "Jansen & <Zn>" in letter.text
    assert "Jansen &amp; &lt;Zn&gt;" in letter.html
    assert "<Zn>" not in letter.html


def test_a_template_naming_a_missing_field_is_one_clear_problem(tmp_path: Path) -> None:
    (tmp_path / "friendly.nl.j2").write_text(
        "{% extends layout %}{% block subject %}Hallo {{ c.nickname }}{% endblock %}", encoding="utf-8"
    )
    problems = template_problems("friendly", "nl", tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("friendly.nl.j2: ")
    assert "nickname" in problems[0]


def test_a_template_with_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.en.j2").write_text("{% extends layout %}\n{% block subject %}Hi {{ c.debtor_name }\n", encoding="utf-8")
    [problem] = template_problems("broken", "en", tmp_path)
    assert "broken.en.j2:2:" in problem


def test_missing_templates_and_languages_are_reported() -> None:
    assert template_problems("no_such_step", "nl") == ["template 'no_such_step' has no nl version (no_such_step.nl.j2)"]
    assert template_problems("reminder", "es") == ["language 'es' is not one of nl, fr, en, de"]


def test_a_template_next_to_the_rules_file_wins_over_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "reminder.nl.j2").write_text(
        "{% extends layout %}{% block subject %}Eigen herinnering{% endblock %}", encoding="utf-8"
    )
    assert render("reminder", "nl", sample_context(), tmp_path).subject == "Eigen herinnering"
    assert render("reminder", "nl", sample_context()).subject == "Betalingsherinnering van Voorbeeld B.V."


def test_the_context_comes_from_the_planned_action_details() -> None:
    action = message("k1", ActionKind.FORMAL_NOTICE, costs="185.18")
    context = context_for(action, creditor=CREDITOR, debtor_name="Jansen & Zn.", debtor_code="1001")
    assert context.pay_by == date(2026, 3, 16)
    assert context.payment_reference == "RF18539007547034"
    assert [(i.document_number, i.open, i.due_date) for i in context.items] == [
        ("2026001", Money.of("1234.56", "EUR"), date(2026, 2, 4))
    ]
    assert context.total == Money.of("1419.74", "EUR")  # 1234.56 + 185.18


def test_credit_notes_netted_against_the_invoices_are_shown_so_the_letter_adds_up() -> None:
    action = message("k1", amount="1234.56").model_copy(update={"amount": Money.of("1200.00", "EUR")})
    context = context_for(action, creditor=CREDITOR, debtor_name="Jansen & Zn.")
    assert context.netted == Money.of("-34.56", "EUR")  # 1200.00 open after netting - 1234.56 invoiced
    text = render("reminder", "nl", context).text
    assert "Verrekend (creditnota's en ontvangen betalingen): € -34,56" in text
    assert "Openstaand bedrag: € 1.200,00" in text
    plain = context_for(message("k2"), creditor=CREDITOR, debtor_name="Jansen & Zn.")
    assert plain.netted is None
