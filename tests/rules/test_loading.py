"""rules.yaml: every mistake is one line `file:line:column: path.to.field: message`, never a traceback."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from connector.cli.main import app
from connector.errors import RulesError
from rules.loading import check_rules, load_rules, parse_rules, rules_json_schema
from tests.support.paths import EXAMPLES

GOOD = """\
version: 1
creditor:
  name: Test BV
  coc_number: "12345678"
  iban: NL91ABNA0417164300
segments:
  - name: consumers
    when: {kind: consumer}
    profile: soft
  - name: rest
    default: true
    profile: soft
profiles:
  soft:
    tolerance: 5.10
    steps:
      - name: r1
        after_days: 1
        action: reminder
        template: reminder
"""


def problems(text: str, template_check: object = None) -> list[str]:
    check = template_check if template_check is not None else (lambda *_: [])
    rules, found = check_rules(text, "rules.yaml", template_check=check)  # type: ignore[arg-type]
    assert (rules is None) == bool(found)
    return found


def test_a_good_file_has_no_problems() -> None:
    assert problems(GOOD) == []


def test_amounts_are_read_exactly_never_through_a_float() -> None:
    rules = parse_rules(GOOD.replace("tolerance: 5.10", "tolerance: 0.1000000000000000000001"))
    assert rules.profiles["soft"].tolerance == Decimal("0.1000000000000000000001")
    assert parse_rules(GOOD).profiles["soft"].tolerance == Decimal("5.10")


# Each broken case from the "Done when": the mistake, and the exact line it must produce.
BROKEN = [
    pytest.param(
        GOOD.replace("      - name: r1\n", "      - name: r1\n     bad: indent\n"),
        [
            "rules.yaml:18:6: (file): not valid YAML: expected <block end>, but found '<block mapping start>' "
            "(check the indentation)"
        ],
        id="bad-indentation",
    ),
    pytest.param(
        GOOD.replace("action: reminder", "action: remind"),
        [
            "rules.yaml:19:17: profiles.soft.steps[0].action: unknown value 'remind': input should be 'reminder', "
            "'formal_notice', 'call_task', 'notice_of_default', 'collection_handover', 'block', 'mark_doubtful' "
            "or 'write_off'"
        ],
        id="unknown-action",
    ),
    pytest.param(
        GOOD.replace("after_days: 1", "after_days: ten"),
        ["rules.yaml:18:21: profiles.soft.steps[0].after_days: 'ten' is not a whole number of days"],
        id="days-not-a-number",
    ),
    pytest.param(
        GOOD.replace("after_days: 1", "after_days: 1.5"),
        ["rules.yaml:18:21: profiles.soft.steps[0].after_days: '1.5' is not a whole number of days"],
        id="days-not-whole",
    ),
    pytest.param(
        GOOD.replace("    default: true\n", "    when: {kind: business}\n"),
        ["rules.yaml:6:1: segments: a default segment is required: add one with `default: true` at the end"],
        id="missing-default-segment",
    ),
    pytest.param(
        GOOD.replace("    profile: soft\n  - name: rest", "    profile: gentle\n  - name: rest"),
        ["rules.yaml:9:14: segments[0].profile: unknown profile 'gentle' (profiles: soft)"],
        id="segment-names-missing-profile",
    ),
    pytest.param(
        GOOD.replace("        template: reminder\n", "        template: reminder\n        colour: red\n"),
        [
            "rules.yaml:21:9: profiles.soft.steps[0].colour: unknown field 'colour' (allowed: action, after_days, "
            "channel, consumer_letter, costs, from, interest, name, template, term_days)"
        ],
        id="unknown-field-lists-allowed",
    ),
    pytest.param(
        GOOD.replace("version: 1\n", ""),
        ["rules.yaml:1:1: version: 'version' is required"],
        id="missing-version",
    ),
    pytest.param(
        GOOD.replace("    tolerance: 5.10\n", "    tolerance: five\n"),
        ["rules.yaml:15:16: profiles.soft.tolerance: not an amount: 'five' (write it like 7.50 or \"7.50\")"],
        id="amount-not-a-number",
    ),
    pytest.param(
        GOOD.replace("        template: reminder\n", "        template: reminder\n        costs: lots\n"),
        ["rules.yaml:21:16: profiles.soft.steps[0].costs: costs must be none, statutory or an amount such as \"12.50\", not 'lots'"],
        id="costs-unknown",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BROKEN)
def test_each_mistake_is_one_line_with_its_place(text: str, expected: list[str]) -> None:
    assert problems(text) == expected


def test_all_mistakes_come_at_once_in_file_order() -> None:
    text = (
        GOOD.replace("action: reminder", "action: remind")
        .replace("after_days: 1", "after_days: ten")
        .replace("    profile: soft\n  - name: rest", "    profile: gentle\n  - name: rest")
    )
    found = problems(text)
    assert [line.split(": ")[1] for line in found] == [
        "segments[0].profile",
        "profiles.soft.steps[0].after_days",
        "profiles.soft.steps[0].action",
    ]


def test_a_template_that_does_not_render_is_a_mistake_at_its_step(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    # A template naming a field the letter context does not have (StrictUndefined in rules.letters).
    (tmp_path / "templates" / "broken.nl.j2").write_text(
        '{% extends "_letter.txt.j2" %}{% block subject %}Herinnering {{ no_such_field.x }}{% endblock %}',
        encoding="utf-8",
    )
    text = GOOD.replace("template: reminder", "template: broken") + "letters:\n  templates_dir: templates\n"
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}:20:19: profiles.soft.steps[0].template: template 'broken' (nl): ")


def test_an_unknown_template_is_a_mistake(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD.replace("template: reminder", "template: no-such-letter"), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    [line] = caught.value.problems
    assert line.startswith(f"{path}:20:19: profiles.soft.steps[0].template: template 'no-such-letter' (nl):")


def test_duplicate_keys_and_empty_files_are_explained() -> None:
    assert problems(GOOD.replace("version: 1\n", "version: 1\nversion: 1\n"))[0] == "rules.yaml:2:1: version: 'version' is given twice"
    assert problems("") == ["rules.yaml:1:1: (file): the file is empty; start with `version: 1`"]
    assert problems("- a\n- b\n") == ["rules.yaml:1:1: (file): expected a mapping that starts with `version: 1`"]


def test_credit_limit_conditions_may_not_use_item_fields() -> None:
    text = GOOD + "credit_limits:\n  - name: x\n    when: {days_overdue: {gt: 3}}\n    limit: 100\n"
    assert problems(text) == [
        "rules.yaml:22:5: credit_limits[0]: a credit-limit condition is about the debtor: do not use item_amount or days_overdue"
    ]


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path / "nope.yaml")
    assert caught.value.problems == [f"{tmp_path / 'nope.yaml'}: no such rules file"]


@pytest.mark.parametrize("name", ["nl-practice.yaml", "be-practice.yaml"])
def test_the_shipped_examples_are_valid_with_their_templates(name: str) -> None:
    rules = load_rules(EXAMPLES / name)
    assert rules.default_segment().name in {"businesses"}


@pytest.mark.parametrize("name", ["nl-practice.yaml", "be-practice.yaml"])
def test_the_json_schema_accepts_the_examples_and_rejects_a_typo(name: str) -> None:
    schema = rules_json_schema()
    # Editors read the YAML with a normal loader: numbers as numbers.
    document = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    document["profiles"]["business"]["steps"][0]["action"] = "remind"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_cli_rules_check_prints_each_problem_and_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD.replace("action: reminder", "action: remind").replace("after_days: 1", "after_days: x"), encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.stdout.splitlines() if line]
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:18:21: profiles.soft.steps[0].after_days: ")
    assert lines[1].startswith(f"{path}:19:17: profiles.soft.steps[0].action: unknown value 'remind'")
    assert "Traceback" not in result.output


def test_cli_rules_check_says_ok_for_a_good_file() -> None:
    result = CliRunner().invoke(app, ["rules", "check", str(EXAMPLES / "nl-practice.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: {EXAMPLES / 'nl-practice.yaml'}: 4 segment(s), 4 profile(s)")


def test_cli_rules_schema_prints_json_schema() -> None:
    result = CliRunner().invoke(app, ["rules", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "arconnect rules.yaml"
    assert schema["additionalProperties"] is False
    assert "segments" in schema["required"]


def test_mistakes_inside_one_profile_are_all_reported_together() -> None:
    text = GOOD.replace(
        "      - name: r1\n        after_days: 1\n        action: reminder\n        template: reminder\n",
        "      - {name: r1, after_days: 1, from: previous_step, action: reminder, template: reminder}\n"
        "      - {name: r1, after_days: 2, action: reminder, template: reminder, costs: -5}\n",
    )
    assert problems(text) == [
        "rules.yaml:17:41: profiles.soft.steps[0].from: the first step cannot count from previous_step",
        "rules.yaml:18:16: profiles.soft.steps[1].name: step names must be unique in a profile: r1",
        "rules.yaml:18:80: profiles.soft.steps[1].costs: fixed costs cannot be negative",
    ]


def test_a_wrong_shape_says_what_was_expected() -> None:
    text = GOOD.replace("segments:\n", "segments: {}\nx_segments:\n").replace("version: 1\n", "version: 2\n")
    assert problems(text)[:2] == [
        "rules.yaml:1:10: version: unknown value 2: input should be 1",
        "rules.yaml:6:11: segments: expected a list (lines that start with `- `)",
    ]
