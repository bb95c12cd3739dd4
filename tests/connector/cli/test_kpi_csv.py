"""The KPI CSV goes through one cell function: a value a spreadsheet would run as a formula is
defused, numbers (negative ones too) stay numbers."""

from __future__ import annotations

from connector.cli.kpi import csv_cell


def test_formula_prefixes_are_defused_and_numbers_are_kept() -> None:
    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("+31 6 1234") == "'+31 6 1234"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("-12.50") == "-12.50"
    assert csv_cell(None) == ""
    assert csv_cell("exact-101") == "exact-101"
