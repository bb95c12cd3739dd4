"""Choosing among the administrations of a link: numbers, patterns, list files (connector.auth.linking)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.auth.linking import choose, read_division_file
from connector.errors import ConfigError
from connector.model import Administration

GRANTED = [
    Administration(source_id="1201", name="Bakkerij Jansen B.V."),
    Administration(source_id="1202", name="Jansen Holding B.V."),
    Administration(source_id="3300", name="Garage De Vries"),
    Administration(source_id="12", name="Twaalf V.O.F."),
]


def ids(chosen: list[Administration]) -> list[str]:
    return [a.source_id for a in chosen]


def test_nothing_chosen_connects_every_administration_granted() -> None:
    assert ids(choose(GRANTED, [])) == ["1201", "1202", "3300", "12"]


def test_a_number_is_exact_and_a_pattern_matches_number_or_name_ignoring_case() -> None:
    assert ids(choose(GRANTED, ["12"])) == ["12"]  # not 1201 and 1202
    assert ids(choose(GRANTED, ["12*"])) == ["1201", "1202", "12"]
    assert ids(choose(GRANTED, ["*HOLDING*", "3300"])) == ["1202", "3300"]
    assert ids(choose(GRANTED, ["*jansen*", "1202"])) == ["1201", "1202"]  # each once, in the order read


def test_every_number_not_granted_and_every_empty_pattern_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        choose(GRANTED, ["9999", "*bank*", "1201", "8888"])
    assert str(caught.value) == (
        "not granted by this link: 8888, 9999; no administration matches '*bank*' (4 administration(s) granted)"
    )


def test_a_list_file_has_one_entry_a_line_with_comments(tmp_path: Path) -> None:
    listing = tmp_path / "divisions.txt"
    listing.write_text("# clients of office Utrecht\n1201\n\n*holding*   # every holding\n", encoding="utf-8")
    assert read_division_file(listing) == ["1201", "*holding*"]


def test_a_bad_list_file_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    listing = tmp_path / "divisions.txt"
    listing.write_text("1201\n1202 1203\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"divisions.txt:2: one division number or pattern a line, got '1202 1203'"):
        read_division_file(listing)
    with pytest.raises(ConfigError, match="cannot read the division list"):
        read_division_file(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="names no division"):
        read_division_file(tmp_path / "empty.txt")
