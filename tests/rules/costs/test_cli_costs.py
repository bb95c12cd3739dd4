"""``arconnect costs`` through the real entry point ``connector.cli.main``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(["costs", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def test_nl_consumer_costs_and_interest_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, "--country", "NL", "--debtor", "consumer", "--principal", "1234.56", "--due", "2024-03-31", "--on", "2024-04-30"
    )
    # costs: 15 % x 1,234.56 = 185.184 -> 185.18
    assert data["costs"] == "185.18"
    assert data["currency"] == "EUR"
    assert data["allowed"] is True
    # statutory 7 %: 30 days x 7 % x 1,234.56 / 365 = 2,592.576 / 365 = 7.1029 -> 7.10
    assert data["interest"] == "7.10"
    assert data["interest_periods"] == [
        {"start": "2024-04-01", "end": "2024-04-30", "days": 30, "rate": "7", "principal": "1234.56", "amount": "7.10"}
    ]
    # 1,234.56 + 185.18 + 7.10
    assert data["total"] == "1426.84"
    assert data["explanation"][0] == "15 % of EUR 1,234.56 (slice 0.00 to 2,500.00) = EUR 185.184"


def test_be_business_is_40(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--country", "be", "--debtor", "business", "--principal", "99999", "--on", "2025-06-02")
    assert data["costs"] == "40.00"
    assert data["interest"] is None


def test_be_consumer_defaults_to_the_charge_after_the_free_reminder(capsys: pytest.CaptureFixture[str]) -> None:
    # 65 + 5 % x 500 = 90 damages + 7.50 fee of reminder 2
    data = run_json(capsys, "--country", "BE", "--debtor", "consumer", "--principal", "1000", "--on", "2025-06-02")
    assert data["costs"] == "97.50"
    first = run_json(
        capsys, "--country", "BE", "--debtor", "consumer", "--principal", "1000", "--on", "2025-06-02", "--reminder", "1"
    )
    assert first["costs"] == "0.00"
    assert first["reason"] == "first reminder is free"


def test_postage_is_added_to_each_later_reminder(capsys: pytest.CaptureFixture[str]) -> None:
    # damages 65 + 5 % x 500 = 90; reminders 2 and 3: 2 x (7.50 + 1.65) = 18.30; 108.30
    data = run_json(
        capsys, "--country", "BE", "--debtor", "consumer", "--principal", "1000", "--on", "2025-06-02",
        "--reminder", "3", "--postage", "1.65",
    )
    assert data["costs"] == "108.30"


def test_no_clause_shows_what_is_owed_without_one(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, "--country", "BE", "--debtor", "consumer", "--principal", "1000", "--on", "2025-06-02", "--no-clause"
    )
    assert data["costs"] == "0.00"
    assert data["allowed"] is False
    assert data["reason"] == "no damages clause in the contract"


def test_table_output_explains(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--country", "NL", "--debtor", "business", "--principal", "6000", "--on", "2025-06-02")
    assert code == 0
    # 375 + 250 + 5 % x 1,000 = 675
    assert "Collection costs: EUR 675.00" in out
    assert "10 % of EUR 2,500.00 (slice 2,500.00 to 5,000.00) = EUR 250.00" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--country", "NL", "--debtor", "consumer", "--principal", "-5"], "error: --principal: must not be negative: '-5'"),
        (["--country", "NL", "--debtor", "consumer", "--principal", "abc"], "error: --principal: not an amount: 'abc'"),
        (["--country", "NL", "--debtor", "consumer", "--principal", "nan"], "error: --principal: not an amount: 'nan'"),
        (
            ["--country", "BE", "--debtor", "consumer", "--principal", "5", "--postage", "-1"],
            "error: --postage: must not be negative: '-1'",
        ),
        (["--country", "FR", "--debtor", "consumer", "--principal", "5"], "error: --country: unknown value 'FR'; use one of NL, BE"),
        (
            ["--country", "NL", "--debtor", "person", "--principal", "5"],
            "error: --debtor: unknown value 'person'; use one of consumer, business, unknown",
        ),
        (
            ["--country", "NL", "--debtor", "consumer", "--principal", "5", "--on", "2025-02-30"],
            "error: --on: not a date (YYYY-MM-DD): '2025-02-30'",
        ),
        (
            ["--country", "NL", "--debtor", "consumer", "--principal", "5", "--due", "2020-01-01", "--on", "2025-01-01"],
            "error: no nl_statutory interest rate known before 2023-01-01 (late since 2020-01-02)",
        ),
        (
            ["--country", "NL", "--debtor", "consumer", "--principal", "5", "--format", "xml"],
            "error: --format: unknown value 'xml'; use one of table, json",
        ),
    ],
)
def test_bad_input_is_one_clear_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code != 0
    assert out == ""
    assert [line for line in err.splitlines() if line.strip()] == [message]
