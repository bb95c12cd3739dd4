"""Package data is hostile input: the one place that makes it safe to show or to write.

Names, addresses, e-mail addresses and references come from the package and anyone can type
anything there (docs/architecture.md §9, issue 11). Three outputs need it neutralised:

* the terminal: control characters (an ESC starts a terminal escape sequence) are shown as visible
  escapes, CR/LF/tab become spaces so a cell stays one line, bidi controls (the "Trojan Source"
  overrides, embeddings, isolates and marks) are removed, and Rich markup (``[/bold]``,
  ``[link=…]``) is escaped: :func:`plain` for text printed with ``markup=False``,
  :func:`for_markup` for table cells and markup strings;
* CSV files opened in a spreadsheet: a text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or
  CR is a formula to Excel and LibreOffice; :func:`csv_cell` prefixes it with ``'`` as the OWASP
  "CSV Injection" page describes (https://owasp.org/www-community/attacks/CSV_Injection). Plain
  numbers (``-12.50``) stay numbers;
* e-mail headers: :func:`header_text` makes a value one line (CR/LF would start a new header).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from rich.markup import escape as _escape_markup

#: Unicode bidirectional formatting characters (UAX #9): embeddings, overrides, isolates, marks.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Characters that end a line somewhere: shown as a space.
_LINE_BREAKS = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")
#: What a spreadsheet reads as the start of a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
#: A name or reference in a table cell: long enough for any real one, short enough that 10,000
#: characters of junk from a package do not flood the screen.
NAME_LIMIT = 120
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F


def plain(text: object, limit: int | None = None) -> str:
    """``text`` as one line without control or bidi characters (not markup-escaped).

    A longer text than ``limit`` characters is cut with an ellipsis.
    """
    value = "" if text is None else str(text)
    parts: list[str] = []
    for ch in value:
        if ch in _LINE_BREAKS:
            parts.append(" ")
        elif ch in BIDI_CONTROLS:
            continue
        elif _is_control(ch):
            parts.append(f"\\x{ord(ch):02x}")
        elif "\ud800" <= ch <= "\udfff":
            parts.append("\ufffd")
        else:
            parts.append(ch)
    result = "".join(parts)
    if limit is not None and len(result) > limit:
        result = result[: max(limit - 1, 0)] + "…"
    return result


def for_markup(text: object, limit: int | None = None) -> str:
    """:func:`plain`, then Rich markup escaped: safe in a table cell or a markup string."""
    return _escape_markup(plain(text, limit))


def header_text(text: object) -> str:
    """A value for an e-mail header: one line, no control or bidi characters."""
    return plain(text).strip()


def _dropped_in_csv(ch: str) -> bool:
    return (_is_control(ch) and ch not in "\t\n") or ch in BIDI_CONTROLS


def csv_cell(value: object) -> str:
    """One CSV cell that a spreadsheet shows as text, never runs as a formula (OWASP).

    Line breaks stay (as LF; the CSV quoting keeps them in the cell); other control characters and
    bidi controls are dropped: they mean nothing in a spreadsheet and a CSV printed to a terminal
    must not carry escape sequences either.
    """
    if value is None:
        return ""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if not _dropped_in_csv(ch))
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_row(values: Iterable[object]) -> list[str]:
    return [csv_cell(value) for value in values]


__all__ = ["BIDI_CONTROLS", "FORMULA_PREFIXES", "NAME_LIMIT", "csv_cell", "csv_row", "for_markup", "header_text", "plain"]
