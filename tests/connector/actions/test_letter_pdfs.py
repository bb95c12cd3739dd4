"""Each kind of letter as the PDF that is printed or stored in the package, read back with pypdf in
Dutch and French: every line of the letter is there, the law's key sentences among them (issue 10)."""

from __future__ import annotations

import pytest

from connector.model import DebtorKind
from connector.pdf import letter_pdf
from rules.letters import context_for, render
from tests.support.letter_cases import CASES, Case, planned
from tests.support.pdftext import pdf_text

#: The sentences each kind of letter exists for, per language (spaces as the PDF reader gives them).
KEY = {
    "nl-consumer-14-day-letter": {
        "nl": ["binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd",
               "Betaalt u niet binnen die termijn, dan bent u ook incassokosten verschuldigd van € 52,50.",
               "betaal dan uiterlijk op 9 februari 2026."],
        "fr": ["dans les quatorze jours à compter du lendemain de la remise de cette lettre",
               "des frais de recouvrement de 52,50 € seront dus en outre.", "payez donc au plus tard le 9 février 2026."],
    },
    "nl-consumer-default-notice": {
        "nl": ["Incassokosten: € 52,50", "Rente: € 1,41", "Totaal te betalen: € 403,91"],
        "fr": ["Frais de recouvrement: 52,50 €", "Intérêts: 1,41 €", "Total à payer: 403,91 €"],
    },
    "nl-business-formal-notice": {
        "nl": ["Incassokosten: € 550,05", "Totaal te betalen: € 4.800,55"],
        "fr": ["Frais de recouvrement: 550,05 €", "Total à payer: 4 800,55 €"],
    },
    "be-consumer-first-reminder-letter": {
        "nl": ["Schuldeiser: Peeters & Janssens BV, ondernemingsnummer 0123.456.749.",
               "Deze herinnering betreft: Plaatsing zonneboiler (factuur 1 van 6 december 2025, vervallen op 5 januari 2026, € 777,77).",
               "te rekenen vanaf de derde werkdag na de verzending van deze brief. Betaal uiterlijk op 28 januari 2026.",
               "dan rekenen wij een schadevergoeding aan van € 78,88."],
        "fr": ["Créancier : Peeters & Janssens BV, numéro d'entreprise 0123.456.749.",
               "Ce rappel concerne : Plaatsing zonneboiler (facture n° 1 du 6 décembre 2025, échue le 5 janvier 2026, 777,77 €).",
               "à compter du troisième jour ouvrable suivant l'envoi de cette lettre. Payez au plus tard le 28 janvier 2026.",
               "nous réclamerons une indemnité de 78,88 €."],
    },
    "be-consumer-second-reminder": {
        "nl": ["Schadevergoeding: € 78,88", "Rente: € 1,11"],
        "fr": ["Indemnité: 78,88 €", "Intérêts: 1,11 €"],
    },
    "be-business-default-notice": {
        "nl": ["Incassokosten: € 80,00", "Rente: € 36,68"],
        "fr": ["Frais de recouvrement: 80,00 €", "Intérêts: 36,68 €"],
    },
}


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language", ["nl", "fr"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_letter_pdf_reads_back_as_the_letter(case: Case, language: str) -> None:
    action = planned(case)
    context = context_for(action, creditor=case.creditor, debtor_name="M. de Vries-Dubois", debtor_code="1001",
                          consumer=case.kind is DebtorKind.CONSUMER)
    letter = render(case.template or action.template or action.kind.value, language, context)
    read = _flat(pdf_text(letter_pdf(letter.subject, letter.text)))
    assert _flat(letter.subject) in read
    for line in letter.text.splitlines():
        if line.strip():
            assert _flat(line) in read, line
    for sentence in KEY.get(case.name, {}).get(language, []):
        assert sentence in read, sentence
