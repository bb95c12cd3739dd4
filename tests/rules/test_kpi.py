"""KPIs against figures computed by hand (docs/reference/legal-and-kpi.md §4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rules.kpi import (
    Fact,
    Ledger,
    Period,
    Settlement,
    StepAction,
    countback_days,
    desk_figures,
    figures,
    ledger,
    periods,
    step_effects,
    top_overdue,
)

D = Decimal
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), "2026-03")


def test_the_worked_countback_example_of_the_reference_gives_73_7_days() -> None:
    # Sales 70k, 80k, 100k in 30-day months (newest last), AR 212k -> 30 + 30 + 32/70 x 30.
    days, capped = countback_days(D(212_000), [(D(100_000), 30), (D(80_000), 30), (D(70_000), 30)])
    assert days.quantize(D("0.1")) == D("73.7")
    assert not capped


def test_countback_beyond_the_history_is_a_lower_bound() -> None:
    assert countback_days(D(500), [(D(100), 31), (D(100), 28)]) == (D(59), True)
    assert countback_days(D(0), [(D(100), 31)]) == (D(0), False)


def admin_one() -> list[Fact]:
    """EUR: Jan 62k, Feb 56k, Mar 93k of sales; USD: one invoice in March, partly written off."""
    return [
        Fact("EUR", date(2026, 1, 10), date(2026, 2, 9), D(62_000), (Settlement(date(2026, 3, 11), D(30_000)),), debtor="A"),
        Fact("EUR", date(2026, 2, 15), date(2026, 3, 17), D(56_000), (Settlement(date(2026, 3, 17), D(56_000)),), debtor="B"),
        Fact("EUR", date(2026, 3, 5), date(2026, 4, 4), D(93_000), debtor="C"),
        Fact("USD", date(2026, 3, 20), date(2026, 4, 19), D(10_000),
             (Settlement(date(2026, 3, 25), D(2_000), "written_off"),), debtor="D"),
    ]


def test_one_administration_in_two_currencies_matches_the_hand_computed_figures() -> None:
    books = ledger(admin_one(), [MARCH])
    assert sorted(books) == ["EUR", "USD"]
    eur = figures(books["EUR"], MARCH)
    # End of March: A has 32k open, 50 days late; C 93k not yet due. B was paid on its due date.
    assert (eur.ar, eur.current, eur.overdue) == (D(125_000), D(93_000), D(32_000))
    assert eur.buckets == (D(93_000), D(0), D(32_000), D(0), D(0))
    assert eur.credit_sales == D(93_000)
    # Countback: 125k - 93k (March, 31 days) leaves 32k; 32/56 of February's 28 days = 16.
    assert eur.dso_countback == D("47.0") and not eur.dso_countback_capped
    assert eur.dso_simple == D("41.7")  # 125/93 x 31
    assert eur.best_possible_dso == D("31.0")  # 93k current = all of March's sales
    assert eur.average_days_delinquent == D("16.0")
    # CEI: beginning AR 118k (A 62k, B 56k); (118 + 93 - 125) / (118 + 93 - 93) = 86/118.
    assert eur.cei == D("72.9")
    # Paid in March: 30k after 60 days (30 beyond terms) and 56k after 30 days (on time).
    assert eur.average_days_to_pay == D("40.5")  # (30x60 + 56x30) / 86
    assert eur.days_beyond_terms == D("10.5")  # 30x30 / 86
    assert eur.overdue_pct == D("25.6")
    assert eur.write_off_pct == D("0.0")

    usd = figures(books["USD"], MARCH)
    assert (usd.ar, usd.credit_sales, usd.written_off) == (D(8_000), D(10_000), D(2_000))
    assert usd.dso_simple == usd.dso_countback == usd.best_possible_dso == D("24.8")
    assert usd.average_days_delinquent == D("0.0")
    assert usd.cei == D("100.0")
    assert usd.write_off_pct == D("20.0")
    assert usd.average_days_to_pay is None  # nothing was paid


def test_a_firm_is_the_sum_of_its_administrations_not_the_mean_of_their_ratios() -> None:
    other = [Fact("EUR", date(2026, 3, 1), date(2026, 3, 15), D(31_000), debtor="E")]
    firm: dict[str, Ledger] = {}
    for facts in (admin_one(), other):
        for currency, book in ledger(facts, [MARCH]).items():
            firm.setdefault(currency, Ledger(currency)).merge(book)
    eur = figures(firm["EUR"], MARCH)
    assert eur.ar == D(156_000)
    assert eur.credit_sales == D(124_000)
    assert eur.dso_simple == D("39.0")  # 156/124 x 31
    assert eur.dso_countback == D("47.0")  # 156 - 124 = 32k into February again
    assert eur.buckets[1] == D(31_000)  # E is 16 days late


def test_periods_are_calendar_months_or_quarters_clipped_to_the_range() -> None:
    months = periods(date(2026, 1, 15), date(2026, 3, 10))
    assert [(p.label, p.start, p.end) for p in months] == [
        ("2026-01", date(2026, 1, 15), date(2026, 1, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-03", date(2026, 3, 1), date(2026, 3, 10)),
    ]
    quarters = periods(date(2025, 11, 1), date(2026, 4, 30), "quarter")
    assert [p.label for p in quarters] == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert quarters[1].months == 3 and quarters[1].days == 90


def test_promises_kept_share_and_open_disputes_with_their_age() -> None:
    desk = desk_figures(
        MARCH,
        promises=[("kept", date(2026, 3, 3)), ("kept", date(2026, 3, 30)), ("broken", date(2026, 3, 9)),
                  ("kept", date(2026, 2, 27)), ("active", None)],
        disputes=[(date(2026, 3, 1), None), (date(2026, 2, 19), date(2026, 4, 2)), (date(2026, 1, 5), date(2026, 3, 2))],
    )
    assert (desk.promises_kept, desk.promises_broken, desk.promises_kept_pct) == (2, 1, D("66.7"))
    assert desk.disputes_open == 2
    assert desk.disputes_average_age == D("35.0")  # 30 and 40 days old on 31 March


def test_what_each_step_brought_in_within_the_window() -> None:
    paid = {"i1": [(date(2026, 3, 10), D(100))], "i2": [(date(2026, 3, 30), D(50))], "i3": [(date(2026, 3, 12), D(70))]}
    effects = step_effects(MARCH, [
        StepAction("reminder", date(2026, 3, 2), "EUR", D(300), ("i1", "i2")),
        StepAction("reminder", date(2026, 3, 5), "EUR", D(70), ("i3",)),
        StepAction("formal", date(2026, 2, 2), "EUR", D(70), ("i3",)),  # outside the period
    ], paid, within_days=14)
    [reminder] = effects
    assert (reminder.step, reminder.sent, reminder.amount, reminder.brought_in) == ("reminder", 2, D(370), D(170))
    assert reminder.share == D("45.9")


def test_top_debtors_by_overdue_amount() -> None:
    assert top_overdue(admin_one(), date(2026, 3, 31)) == [("A", "EUR", D(32_000))]
