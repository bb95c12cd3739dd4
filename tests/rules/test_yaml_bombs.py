"""A YAML bomb in rules.yaml is one `file:line:col` line, fast, without memory to speak of (issue 11 §7)."""

from __future__ import annotations

import resource
from pathlib import Path

from typer.testing import CliRunner

from connector.cli.main import app
from rules.loading import MAX_BYTES, MAX_VALUES, check_rules, load_rules

#: The classic "billion laughs": 493 bytes that stand for 10^9 strings.
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

RECURSIVE = """\
version: 1
segments: &loop
  - name: x
    more: *loop
"""


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_billion_laughs_is_one_line_at_the_alias_that_overflows() -> None:
    before = _max_rss_mb()
    rules, problems = check_rules(BILLION_LAUGHS, "rules.yaml")
    assert rules is None
    assert len(problems) == 1
    assert problems[0].startswith("rules.yaml:")
    line, column = (int(n) for n in problems[0].split(":")[1:3])
    assert 1 <= line <= 9 and column >= 1
    assert f"more than {MAX_VALUES:,} values" in problems[0]
    assert _max_rss_mb() - before < 200


def test_a_recursive_anchor_is_one_line_not_a_recursion_error() -> None:
    rules, problems = check_rules(RECURSIVE, "rules.yaml")
    assert rules is None
    assert problems == ["rules.yaml:2:11: (file): an alias refers to a value that contains it (a recursive anchor)"]


def test_a_file_too_large_to_be_rules_is_not_even_read(tmp_path: Path) -> None:
    big = tmp_path / "rules.yaml"
    big.write_text("# " + "x" * MAX_BYTES + "\n", encoding="utf-8")
    try:
        load_rules(big)
    except Exception as exc:  # RulesError: one line
        assert str(exc).count("\n") == 0
        assert f"{big}:1:1: (file): " in str(exc) and "a rules file is at most" in str(exc)
    else:
        raise AssertionError("a 1 MB rules file was accepted")


def test_nesting_too_deep_is_one_line() -> None:
    _, problems = check_rules("a: " + "[" * 5000 + "]" * 5000 + "\n", "rules.yaml")
    assert len(problems) == 1 and problems[0].startswith("rules.yaml:")


def test_rules_check_answers_a_bomb_with_one_line_and_exit_2(tmp_path: Path) -> None:
    bomb = tmp_path / "rules.yaml"
    bomb.write_text(BILLION_LAUGHS, encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(bomb)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{bomb}:") and "YAML bomb" in line
