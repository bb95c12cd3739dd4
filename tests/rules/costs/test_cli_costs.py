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
    # statutory 7 %: 30 days x 7 % x 1,234.56 / 366 (2024 is a leap year) = 2,592.576 / 366 = 7.0835 -> 7.08
    assert data["interest"] == "7.08"
    assert data["interest_periods"] == [
        {"start": "2024-04-01", "end": "2024-04-30", "days": 30, "rate": "7", "principal": "1234.56", "amount": "7.08"}
    ]
    # 1,234.56 + 185.18 + 7.10
    assert data["total"] == "1426.82"
    assert data["explanation"][0] == "15 % of EUR 1,234.56 (slice 0.00 to 2,500.00) = EUR 185.184"


def test_be_business_is_40(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "--country", "be", "--debtor", "business", "--principal", "99999", "--on", "2025-06-02")
    assert data["costs"] == "40.00"
    assert data["interest"] is None


def test_be_consumer_defaults_to_the_charge_after_the_free_reminder(capsys: pytest.CaptureFixture[str]) -> None:
    # 65 + 5 % x 500 = 90 damages; no reminder fee on an ordinary debt
    data = run_json(capsys, "--country", "BE", "--debtor", "consumer", "--principal", "1000", "--on", "2025-06-02")
    assert data["costs"] == "90.00"
    first = run_json(
        capsys, "--country", "BE", "--debtor", "consumer", "--principal", "1000", "--on", "2025-06-02", "--reminder", "1"
    )
    assert first["costs"] == "0.00"
    assert first["reason"] == "first reminder is free"


@pytest.mark.parametrize(("principal", "expected"), [("100", "20.00"), ("777.77", "78.88"), ("39200", "2000.00")])
def test_be_consumer_damages_only_unless_asked_for_a_reminder_fee(
    capsys: pytest.CaptureFixture[str], principal: str, expected: str
) -> None:
    # issue 10, done-when: 100 -> 20; 65 + 5 % x 277.77 = 78.8885 -> 78.88 (down); 65 + 5 % x 38,700 = 2,000 (cap)
    data = run_json(capsys, "--country", "BE", "--debtor", "consumer", "--principal", principal, "--format", "json")
    assert data["costs"] == expected


def test_postage_is_added_to_each_later_reminder_of_a_regular_delivery_contract(capsys: pytest.CaptureFixture[str]) -> None:
    # damages 65 + 5 % x 500 = 90; reminders 2 and 3: 2 x (7.50 + 1.65) = 18.30; 108.30
    args = ["--country", "BE", "--debtor", "consumer", "--principal", "1000", "--on", "2025-06-02", "--reminder", "3", "--postage", "1.65"]
    assert run_json(capsys, *args)["costs"] == "90.00"
    data = run_json(capsys, *args, "--regular-delivery", "--due-date-number", "4")
    assert data["costs"] == "108.30"


def test_be_consumer_interest_needs_a_clause_and_runs_after_the_free_reminders_term(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--country", "BE", "--debtor", "consumer", "--principal", "1000", "--due", "2025-03-31", "--on", "2025-05-31"]
    # no clause, no notice of default: no interest (the old code charged it from 1 April)
    none = run_json(capsys, *base, "--no-clause")
    assert none["interest"] == "0.00"
    # no clause, notice of default on 2025-05-01: legal 4.5 % from 2 May to 31 May = 30 days:
    # 1,000 x 4.5 % x 30 / 365 = 1,350 / 365 = 3.6986 -> 3.69
    legal = run_json(capsys, *base, "--no-clause", "--notice", "2025-05-01")
    assert legal["interest"] == "3.69" and legal["interest_regime"] == "be_legal"
    # clause, free reminder e-mailed on Mon 2025-04-07: term 8-21 April, ends Mon 21 April (Easter Monday,
    # a legal holiday) -> Tue 22 April; commercial 11.5 % from 23 April to 31 May = 8 + 31 = 39 days:
    # 1,000 x 11.5 % x 39 / 365 = 4,485 / 365 = 12.2876 -> 12.28
    clause = run_json(capsys, *base, "--first-reminder", "2025-04-07", "--first-reminder-channel", "email")
    assert clause["interest"] == "12.28" and clause["interest_regime"] == "be_commercial"
    assert clause["interest_periods"][0]["start"] == "2025-04-23"


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
