"""The letter as a PDF: what Exact stores as the letter's document (docs/reference/exact.md §7, "store
the letter PDF") and what goes to the printer from the outbox.

A plain A4 page in Helvetica, one of the PDF core fonts every reader has, so nothing is embedded
and the file stays a few kilobytes. Core fonts speak WinAnsi (Windows-1252), which holds every
letter of Dutch, French and German and the euro sign; a character outside it (a name in another
script) is printed as ``?`` rather than refusing the letter, and the HTML and text versions keep
it exactly.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

ENCODING = "windows-1252"
MARGIN_MM = 20
FONT_SIZE = 10
LINE_MM = 5


def _printable(text: str) -> str:
    return text.encode(ENCODING, errors="replace").decode(ENCODING)


def letter_pdf(subject: str, text: str) -> bytes:
    """The letter's text under its subject, as PDF bytes (pages break where the text runs over)."""
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_compression(False)  # a letter is a few kB; uncompressed, its words can be found in the file
    pdf.set_title(_printable(subject))
    pdf.set_creator("arconnect")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=FONT_SIZE + 2)
    pdf.multi_cell(0, LINE_MM + 1, _printable(subject), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(LINE_MM)
    pdf.set_font("Helvetica", size=FONT_SIZE)
    for line in text.splitlines() or [""]:
        if line.strip():
            pdf.multi_cell(0, LINE_MM, _printable(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.ln(LINE_MM)
    return bytes(pdf.output())
