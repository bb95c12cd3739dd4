"""Hostile text as a package may hold it (issue 11): Rich markup, control and bidi characters,
formula prefixes, NUL, header injection, template syntax, non-Latin scripts and 10,000 characters,
as a hypothesis strategy; and the checks every output must pass."""

from __future__ import annotations

import csv
import io
import re

from hypothesis import strategies as st

from connector.escaping import BIDI_CONTROLS, FORMULA_PREFIXES

FRAGMENTS = (
    "[/bold]", "[bold]", "[link=https://evil.example]", "[/link]", "[red]", "\\", "[", "]",
    "=", "+", "-", "@", "\t", "\r", "\n", "\r\nBcc: everyone@evil.example", "\x00", "\x07", "\x7f", "\x9b",
    "\x1b[2J", "\x1b]8;;https://evil.example\x07klik\x1b]8;;\x07", "\u202e", "\u2066", "\u200f", "\u2028",
    "=HYPERLINK(\"https://evil.example\",\"klik\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|' /C calc'!A0",
    "{{ 7*7 }}", "{% raw %}", "<script>alert(1)</script>", "&amp;", "%s%n", "'", "\"", ",", ";", "..", "../../etc/passwd",
    "Łódź", "Ørsted", "Škoda", "日本語", "العربية", "Ελληνικά", "Русский", "🙂",
    "Klant [/bold] B.V.", "klant@example.nl",
)

_pieces = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6))


def hostile_text() -> st.SearchStrategy[str]:
    """One hostile value: a few fragments glued together, sometimes 10,000 characters long."""
    short = st.lists(_pieces, min_size=1, max_size=6).map("".join)
    long = st.tuples(st.sampled_from(FRAGMENTS), _pieces).map(lambda p: (p[0] + p[1] + "x" * 10_000)[:10_000])
    return st.one_of(short, short, short, long)


class HostileValues(list[str]):
    """Values with a short repr: hypothesis prints a failing example, and whole 10,000-character
    strings would make that report hundreds of kilobytes."""

    def __repr__(self) -> str:
        return "[" + ", ".join(repr(v[:60]) + (f"+{len(v) - 60} chars" if len(v) > 60 else "") for v in self) + "]"


def hostile_values(count: int) -> st.SearchStrategy[HostileValues]:
    return st.lists(hostile_text(), min_size=count, max_size=count).map(HostileValues)


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def unsafe_cells(text: str) -> list[str]:
    """The cells of a CSV text a spreadsheet would run as a formula."""
    return [
        cell for row in csv.reader(io.StringIO(text)) for cell in row
        if cell.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(cell)
    ]


def terminal_problems(text: str) -> list[str]:
    """What must never reach a terminal: escape sequences, other control characters (a tab and a line
    break are harmless), bidi controls."""
    found = []
    for ch in set(text):
        if ch in BIDI_CONTROLS or (ord(ch) < 0x20 and ch not in "\t\n") or 0x7F <= ord(ch) <= 0x9F:
            found.append(repr(ch))
    if "Traceback" in text or "internal error" in text:
        found.append("a traceback or internal error")
    return sorted(found)
