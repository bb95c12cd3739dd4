"""The letter as a PDF (Exact's document attachment and the print outbox)."""

from __future__ import annotations

from connector.pdf import letter_pdf


def test_a_letter_becomes_a_pdf_with_its_subject_and_every_line() -> None:
    pdf = letter_pdf("Ingebrekestelling", "Geachte heer De Vries,\n\nU betaalt € 1.234,56 vóór 14 december.")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"(Ingebrekestelling)" in pdf
    assert b"(Geachte heer De Vries,)" in pdf
    # WinAnsi: the euro sign is byte 0x80, ó is 0xF3; Dutch, French and German letters all print
    assert "(U betaalt € 1.234,56 vóór 14 december.)".encode("windows-1252") in pdf


def test_a_character_the_core_font_lacks_prints_as_a_question_mark_instead_of_failing_the_letter() -> None:
    pdf = letter_pdf("Herinnering", "Pan Łukasz Wiśniewski")
    assert b"(Pan ?ukasz Wi?niewski)" in pdf


def test_a_long_letter_runs_over_onto_more_pages() -> None:
    text = "\n".join(f"Factuur {n}: EUR 100,00" for n in range(200))
    assert letter_pdf("Overzicht", text).count(b"/Type /Page\n") >= 3
