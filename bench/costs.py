"""Benchmark of the cost, interest, term and reference functions the planner calls per message or item.

Run: ``.venv/bin/python bench/costs.py [--calls N]``. Prints microseconds per call and calls per
second; never a timed test. Principals and due dates vary per call, so the caches of
:mod:`rules.costs` only help where a real plan also repeats itself (the run date, the due dates).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from connector.model import DebtorKind, Money
from rules.costs import collection_costs, consumer_costs_from, interest
from rules.references import payment_reference


def _measure(calls: int, make: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(calls):
        make(i)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    calls = parser.parse_args().calls
    run = date(2025, 9, 1)

    def money(i: int) -> Money:
        return Money(amount=Decimal(100 + (i * 7919) % 250_000) / 100, currency="EUR")

    cases: list[tuple[str, Callable[[int], object]]] = [
        ("collection_costs NL consumer", lambda i: collection_costs(
            country="NL", debtor_kind=DebtorKind.CONSUMER, principal=money(i), on=run)),
        ("collection_costs BE consumer, reminder 2", lambda i: collection_costs(
            country="BE", debtor_kind=DebtorKind.CONSUMER, principal=money(i), on=run, reminder_number=2)),
        ("interest NL commercial, due within 2 years", lambda i: interest(
            country="NL", debtor_kind=DebtorKind.BUSINESS, principal=money(i), due=run - timedelta(days=1 + i % 700),
            on=run)),
        ("interest BE legal, due within 2 years", lambda i: interest(
            country="BE", debtor_kind=DebtorKind.CONSUMER, principal=money(i), due=run - timedelta(days=1 + i % 700),
            on=run)),
        ("consumer_costs_from NL letter (same run date)", lambda i: consumer_costs_from(
            country="NL", letter_sent=run, channel="letter")),
        ("payment_reference BE", lambda i: payment_reference("BE", str(i), f"2025-{i:06d}")),
    ]
    print(f"{'function':48} {'calls':>8} {'us/call':>9} {'calls/s':>10}")
    for name, make in cases:
        seconds = _measure(calls, make)
        print(f"{name:48} {calls:>8} {seconds / calls * 1e6:>9.1f} {calls / seconds:>10,.0f}")


if __name__ == "__main__":
    main()
