"""Package data is hostile: what reaches the terminal, a spreadsheet or a mail header is made safe
(connector.escaping, issue 11 §5 and §11)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from rich.console import Console
from rich.table import Table

from connector.escaping import BIDI_CONTROLS, csv_cell, csv_row, for_markup, header_text, plain


def rendered(cell: str) -> str:
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    table = Table("debtor")
    table.add_row(cell)
    console.print(table)
    return console.export_text()


@pytest.mark.parametrize("name", ["Klant [/bold] B.V.", "[link=https://evil.example]Bel ons[/link]", "[red]rood", "a\\[b]"])
def test_rich_markup_in_a_name_is_shown_as_typed(name: str) -> None:
    assert name in rendered(for_markup(name))


def test_terminal_escape_sequences_are_shown_not_run() -> None:
    text = plain("Jansen\x1b]8;;https://evil.example\x07klik\x1b[2J")
    assert "\x1b" not in text and "\x07" not in text
    assert text == "Jansen\\x1b]8;;https://evil.example\\x07klik\\x1b[2J"


def test_bidi_controls_are_removed_and_line_breaks_become_spaces() -> None:
    assert plain("Factuur \u202eFDP.exe\u202c") == "Factuur FDP.exe"
    assert not set(plain("".join(BIDI_CONTROLS))) & BIDI_CONTROLS
    assert plain("Dorpsstraat 1\r\n1234 AB\tErgens") == "Dorpsstraat 1  1234 AB Ergens"


def test_non_latin_names_pass_unchanged() -> None:
    for name in ("Łódź Sp. z o.o.", "Ωmega ΑΕ", "株式会社テスト", "شركة الاختبار", "Ørsted A/S"):
        assert plain(name) == name


def test_a_long_name_is_cut_when_a_limit_is_given() -> None:
    assert plain("x" * 10_000, 20) == "x" * 19 + "…"
    assert plain("x" * 10_000) == "x" * 10_000


@pytest.mark.parametrize(
    "cell",
    ["=HYPERLINK(\"https://evil.example\",\"klik\")", "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
     "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"],
)
def test_a_cell_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(cell: str) -> None:
    safe = csv_cell(cell)
    assert safe == "'" + cell.replace("\r", "\n")
    [[back]] = list(csv.reader(io.StringIO(_line([safe]))))
    assert back == safe


def test_numbers_and_plain_text_stay_as_they_are() -> None:
    assert csv_row([Decimal("-12.50"), "-12.50", 3, "Jansen & Zn.", "1001", None, "+31 6 1234"]) == [
        "-12.50", "-12.50", "3", "Jansen & Zn.", "1001", "", "'+31 6 1234",
    ]


def test_a_header_value_is_one_line() -> None:
    assert header_text("Herinnering Klant\r\nBcc: everyone@example.org") == "Herinnering Klant  Bcc: everyone@example.org"


def _line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


def test_a_csv_cell_keeps_line_breaks_but_no_escape_sequences_or_bidi_controls() -> None:
    assert csv_cell("Klant\x1b[2J B.V.\r\nDorpsstraat 1\u202e") == "Klant[2J B.V.\nDorpsstraat 1"
    assert csv_cell("\x07=1+1") == "'=1+1"  # a control character cannot hide a formula
