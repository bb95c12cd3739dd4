"""The letter as a PDF (Exact's document attachment and the print outbox), read back as text."""

from __future__ import annotations

from connector.pdf import letter_pdf
from tests.support.pdftext import pdf_pages, pdf_text


def test_a_letter_becomes_a_pdf_with_its_subject_and_every_line() -> None:
    pdf = letter_pdf("Ingebrekestelling", "Geachte heer De Vries,\n\nU betaalt € 1.234,56 vóór 14 december.")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    lines = pdf_text(pdf).splitlines()
    assert lines == ["Ingebrekestelling", "Geachte heer De Vries,", "U betaalt € 1.234,56 vóór 14 december."]


def test_letters_outside_latin_1_print_as_themselves_in_an_embedded_unicode_font() -> None:
    # Helvetica (WinAnsi) printed "Pan ?ukasz Wi?niewski, ?ród?o"; issue 11 point 13.
    pdf = letter_pdf("Przypomnienie", "Pan Łukasz Wiśniewski, Źródło 5, Gdańsk")
    assert "Pan Łukasz Wiśniewski, Źródło 5, Gdańsk" in pdf_text(pdf)
    assert b"/FontFile2" in pdf  # the TrueType font is embedded, not referenced


def test_a_long_letter_runs_over_onto_more_pages() -> None:
    text = "\n".join(f"Factuur {n}: EUR 100,00" for n in range(200))
    assert pdf_pages(letter_pdf("Overzicht", text)) >= 3
