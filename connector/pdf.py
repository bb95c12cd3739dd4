"""The letter as a PDF: what Exact stores as the letter's document (docs/reference/exact.md §7, "store
the letter PDF") and what goes to the printer from the outbox.

A plain A4 page in **Source Sans Pro**, embedded (a subset of the glyphs used), from the
``font-source-sans-pro`` package (SIL Open Font License 1.1, which allows embedding and
redistribution). A core PDF font such as Helvetica speaks only WinAnsi, so a debtor called
"Łukasz Źródło" would be printed as "?ukasz ?ród?o"; an embedded Unicode font prints every letter of
the Latin, Greek and Cyrillic scripts it covers. A character the font has no glyph for is still
printed (as the font's blank box), never refused: the HTML and text versions keep it exactly.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONT = "SourceSansPro"
MARGIN_MM = 20
FONT_SIZE = 10
LINE_MM = 5


@lru_cache(maxsize=1)
def font_files() -> tuple[Path, Path]:
    """(regular, bold) TTF files shipped by the ``font-source-sans-pro`` dependency."""
    folder = resources.files("font_source_sans_pro").joinpath("files")
    return (
        Path(str(folder.joinpath("SourceSansPro-Regular.ttf"))),
        Path(str(folder.joinpath("SourceSansPro-Bold.ttf"))),
    )


def letter_pdf(subject: str, text: str) -> bytes:
    """The letter's text under its subject, as PDF bytes (pages break where the text runs over)."""
    regular, bold = font_files()
    pdf = FPDF(format="A4")
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_title(subject)
    pdf.set_creator("arconnect")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    pdf.add_page()
    pdf.set_font(FONT, style="B", size=FONT_SIZE + 2)
    pdf.multi_cell(0, LINE_MM + 1, subject, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(LINE_MM)
    pdf.set_font(FONT, size=FONT_SIZE)
    for line in text.splitlines() or [""]:
        if line.strip():
            pdf.multi_cell(0, LINE_MM, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.ln(LINE_MM)
    return bytes(pdf.output())
