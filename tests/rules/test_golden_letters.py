"""Golden files: the exact text of every shipped template in every language, for every costs rule
(issue 10, "Also": NL consumer 14-day letter, NL business, BE consumer free first reminder, BE
consumer later letter, BE business), each planned by the engine from a small ledger and rendered as
apply renders it.

The files are in ``tests/rules/golden/<case>.<language>.txt``. After a deliberate change of a template
or of the law's figures, regenerate them and review the diff line by line against issue 10 (exact
amounts, the term's wording and date, no internal notes, the right language)::

    ARCONNECT_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/rules/test_golden_letters.py

Without the variable a difference fails the test and shows the diff.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from rules.letters import LANGUAGES, SHIPPED_TEMPLATES
from tests.support.letter_cases import CASES, Case, planned, rendered

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("ARCONNECT_REGEN_GOLDEN") == "1"

#: Words that belong in plan, costs and the journal, never in a letter (issue 10 point 3).
INTERNAL = re.compile(
    r"basis:|\(ref[ ]§|§\d|no costs:|costs_|Rome I|art\. 6:96|regime|unverified|treated as|profile|segment|\bstep\b", re.I
)
#: A word each language's letter has, and the other languages' letters do not.
LANGUAGE_MARK = {"nl": "Met vriendelijke groet", "fr": "Salutations distinguées", "en": "Kind regards", "de": "Mit freundlichen Grüßen"}


def test_every_shipped_template_has_a_golden_case() -> None:
    covered = {(planned(case).template or "") for case in CASES}
    assert covered == set(SHIPPED_TEMPLATES)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_letter_text_is_the_golden_file(case: Case, language: str) -> None:
    text = rendered(case, language)
    # what every golden file must hold, whatever its text
    assert not INTERNAL.search(text), INTERNAL.search(text)
    assert LANGUAGE_MARK[language] in text
    assert not [m for lang, m in LANGUAGE_MARK.items() if lang != language and m in text]
    path = GOLDEN / f"{case.name}.{language}.txt"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with ARCONNECT_REGEN_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "\n".join(difflib.unified_diff(expected.splitlines(), text.splitlines(), "golden", "rendered", lineterm=""))
        pytest.fail(f"{path.name} differs (regenerate with ARCONNECT_REGEN_GOLDEN=1 only after review):\n{diff}")
