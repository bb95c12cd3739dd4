"""Benchmark: plan 100 k and 1 M open items (10 k and 100 k debtors) with the shipped NL example rules.

For each size a generator process writes a realistic administration into a fresh SQLite store
(straight through SQLAlchemy Core, so generating a million rows does not take longer than the
benchmark): debtors (70 % business, 25 % consumer, 5 % unknown kind, some tagged, some with a
credit limit or already blocked), open items (about 5 % credit notes, 3 % disputed, 2 % in direct
debit, 2 % large invoices; aged like a ledger of 30-day invoices, see ``AGING``: half not yet due,
a quarter up to 30 days late, the rest older), one paid invoice and its
payment per debtor (payment history), disputes and payment plans, and a journal in which 30 % of
the debtors already got the first reminder 12 days ago.

A second, fresh process then measures, separately:

* **load** — ``connector.actions.planning.build_snapshot``: reading the store into the snapshot;
* **plan** — ``rules.engine.plan``: the pure engine (the "< 10 s for 1 M items" budget);
* the same plan once more with interest on every step that charges costs (the NL example claims
  interest from the notice of default on; interest costs about 35 µs per item in rules.costs);

and its peak RSS (``resource.getrusage``, taken after load and plan, before the second plan), so
each size's memory is its own. Wall and CPU seconds
are both printed: on a busy machine the CPU time is the fairer figure.

    .venv/bin/python bench/plan.py [--sizes 100000:10000,1000000:100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.config import ConnectionConfig  # noqa: E402
from connector.model import ActionKind, PlannedAction  # noqa: E402
from connector.store import Store  # noqa: E402
from connector.store import tables as t  # noqa: E402

RUN_DATE = date(2026, 1, 20)  # a Tuesday
CID = "bench"
RULES = ROOT / "rules" / "examples" / "nl-practice.yaml"
CHUNK = 20_000


def _connection() -> ConnectionConfig:
    return ConnectionConfig(
        name=CID, credential="exact-nl", package="exact", administration="1", country="NL",
        rules_file=str(RULES), reminders_sent_by="arconnect",
    )


#: Aging of the open items, as a ledger of 30-day invoices looks: (share, days past due from, to);
#: negative = not yet due.
AGING = ((0.50, -30, 0), (0.25, 1, 30), (0.12, 31, 60), (0.08, 61, 120), (0.05, 121, 365))


def _due_offset(rng: random.Random) -> int:
    roll = rng.random()
    for share, low, high in AGING:
        if roll < share:
            return -rng.randint(low, high)
        roll -= share
    return 0


def generate(url: str, n_items: int, n_debtors: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    store = Store(url)
    store.migrate()
    store.ensure_connection(CID, "exact", "Benchmark")
    now = datetime.now(UTC)
    kinds = ["business"] * 14 + ["consumer"] * 5 + ["unknown"]
    debtors: list[dict[str, Any]] = []
    for d in range(n_debtors):
        kind = rng.choice(kinds)
        limit = Decimal(rng.choice(["5000", "10000", "25000", "50000"])) if kind == "business" and rng.random() < 0.5 else None
        tags = ["vip"] if rng.random() < 0.05 else []
        source_id = f"D{d:07d}"
        debtors.append(
            {
                "connection_id": CID, "source_id": source_id, "code": str(10000 + d), "name": f"Debiteur {d}",
                "kind": kind, "country": "NL", "language": rng.choice(["nl", "nl", "nl", "en"]),
                "blocked": rng.random() < 0.02, "credit_limit_currency": "EUR" if limit else None,
                "credit_limit_amount": limit, "source_modified": None,
                "data": {"tags": tags}, "first_seen_at": now, "updated_at": now, "deleted_at": None,
            }
        )
    items: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    disputes: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []
    by_debtor: dict[str, list[tuple[str, date]]] = {}

    def row(source_id: str, debtor: str, kind: str, amount: Decimal, due: date, status: str, dd: bool) -> dict[str, Any]:
        return {
            "connection_id": CID, "source_id": source_id, "debtor_source_id": debtor, "document_number": source_id[1:],
            "kind": kind, "invoice_date": due - timedelta(days=30), "due_date": due, "currency": "EUR",
            "original_amount": abs(amount), "open_amount": amount if status != "paid" else Decimal(0),
            "base_currency": "EUR", "original_base_amount": abs(amount),
            "open_base_amount": amount if status != "paid" else Decimal(0), "status": status,
            "closed_on": None, "in_direct_debit": dd, "payment_reference": None,
            "data": {}, "first_seen_at": now, "updated_at": now, "deleted_at": None,
        }

    for n in range(n_items):
        debtor = f"D{rng.randrange(n_debtors):07d}"
        roll = rng.random()
        if roll < 0.05:
            kind, amount = "credit_note", -Decimal(rng.randint(1000, 50000)) / 100
        elif roll < 0.07:
            kind, amount = "invoice", Decimal(rng.randint(5_000_000, 20_000_000)) / 100
        else:
            kind, amount = "invoice", Decimal(int(rng.lognormvariate(11, 1.2))) / 100
        due = RUN_DATE + timedelta(days=_due_offset(rng))
        status = "disputed" if rng.random() < 0.03 else "open"
        source_id = f"I{n:08d}"
        items.append(row(source_id, debtor, kind, amount, due, status, rng.random() < 0.02))
        by_debtor.setdefault(debtor, []).append((source_id, due))
        if rng.random() < 0.01:
            disputes.append({"connection_id": CID, "item_source_id": source_id, "opened_on": RUN_DATE - timedelta(days=3),
                             "reason": "bench", "resolved_on": None})
        elif rng.random() < 0.01:
            plans.append({"connection_id": CID, "debtor_source_id": debtor, "item_source_ids": [source_id],
                          "agreed_on": RUN_DATE - timedelta(days=10), "ends_on": RUN_DATE + timedelta(days=60), "kind": "plan"})
    for d in range(n_debtors):  # one paid invoice and its payment each: the payment history
        debtor = f"D{d:07d}"
        due = RUN_DATE - timedelta(days=rng.randint(60, 200))
        source_id = f"H{d:08d}"
        items.append(row(source_id, debtor, "invoice", Decimal("100.00"), due, "paid", False))
        payments.append({
            "connection_id": CID, "source_id": f"P{d:08d}", "debtor_source_id": debtor, "item_source_ids": [source_id],
            "paid_on": due + timedelta(days=rng.choice([0, 0, 3, 10, 25, 40])), "currency": "EUR",
            "amount": Decimal("100.00"), "data": {}, "first_seen_at": now, "updated_at": now, "deleted_at": None,
        })
    # Journal: 30 % of the debtors got the first reminder (business profile) 12 days ago.
    journal: list[dict[str, Any]] = []
    sent = RUN_DATE - timedelta(days=12)
    for debtor, entries in by_debtor.items():
        if rng.random() >= 0.3:
            continue
        due_ids = tuple(sorted(s for s, due in entries if due < sent))
        if not due_ids:
            continue
        action = PlannedAction(
            idempotency_key=f"bench-{debtor}", connection_id=CID, debtor_source_id=debtor, item_source_ids=due_ids,
            kind=ActionKind.REMINDER, step="reminder", channel="email", template="reminder", run_date=sent,
            reason="bench history", details={"profile": "business", "segment": "businesses"},
        )
        journal.append({
            "idempotency_key": action.idempotency_key, "connection_id": CID, "debtor_source_id": debtor,
            "item_source_ids": list(due_ids), "kind": "reminder", "step": "reminder", "channel": "email",
            "run_date": sent, "planned_at": now, "state": "done", "attempts": 1, "remote_reference": None,
            "reason": None, "action": action.model_dump(mode="json"), "updated_at": now,
        })
    with store.engine.begin() as conn:
        for table, rows in ((t.debtors, debtors), (t.open_items, items), (t.payments, payments),
                            (t.disputes, disputes), (t.payment_plans, plans), (t.actions, journal)):
            for start in range(0, len(rows), CHUNK):
                conn.execute(table.insert(), rows[start : start + CHUNK])
    store.close()
    return {"items": n_items, "debtors": n_debtors, "journal": len(journal)}


def _interest_everywhere(rules: Any) -> Any:
    profiles = {
        name: profile.model_copy(
            update={"steps": [s.model_copy(update={"interest": s.costs != "none" or s.interest}) for s in profile.steps]}
        )
        for name, profile in rules.profiles.items()
    }
    return rules.model_copy(update={"profiles": profiles})


def measure(url: str) -> dict[str, Any]:
    from connector.actions.planning import build_snapshot
    from rules.engine import plan
    from rules.loading import load_rules

    rules = load_rules(RULES)
    store = Store(url)
    started, cpu_started = time.perf_counter(), time.process_time()
    snapshot = build_snapshot(store, _connection(), RUN_DATE, reminders_sent_by="arconnect")
    loaded, cpu_loaded = time.perf_counter(), time.process_time()
    actions = plan(snapshot, rules, RUN_DATE)
    planned, cpu_planned = time.perf_counter(), time.process_time()
    kinds: dict[str, int] = {}
    for action in actions:
        kinds[action.kind.value] = kinds.get(action.kind.value, 0) + 1
    count = len(actions)
    rss_after_plan = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del actions
    # The same plan with interest on every step that charges costs (the example claims interest
    # from the notice of default on): interest is computed per item by rules.costs.
    with_interest = _interest_everywhere(rules)
    again, cpu_again = time.perf_counter(), time.process_time()
    plan(snapshot, with_interest, RUN_DATE)
    interest_s, interest_cpu_s = time.perf_counter() - again, time.process_time() - cpu_again
    store.close()
    return {
        "open_items": snapshot.item_count(),
        "load_s": round(loaded - started, 2),
        "plan_s": round(planned - loaded, 2),
        "load_cpu_s": round(cpu_loaded - cpu_started, 2),
        "plan_cpu_s": round(cpu_planned - cpu_loaded, 2),
        "plan_interest_s": round(interest_s, 2),
        "plan_interest_cpu_s": round(interest_cpu_s, 2),
        "actions": count,
        "kinds": kinds,
        "peak_rss_mb": round(rss_after_plan / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000:10000,1000000:100000", help="items:debtors,...")
    parser.add_argument("--keep", type=Path, help="keep the generated databases in this dir")
    parser.add_argument("--generate", nargs=3, metavar=("URL", "ITEMS", "DEBTORS"), help=argparse.SUPPRESS)
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        url, n_items, n_debtors = args.generate
        print(json.dumps(generate(url, int(n_items), int(n_debtors))))
        return
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="arconnect-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes.split(","):
        n_items, n_debtors = (int(x) for x in size.split(":"))
        url = f"sqlite:///{workdir / f'plan-{n_items}.db'}"
        (workdir / f"plan-{n_items}.db").unlink(missing_ok=True)
        t0 = time.perf_counter()
        made = json.loads(subprocess.run([sys.executable, __file__, "--generate", url, str(n_items), str(n_debtors)],
                                         check=True, capture_output=True, text=True).stdout)
        generated = time.perf_counter() - t0
        result = json.loads(subprocess.run([sys.executable, __file__, "--measure", url],
                                           check=True, capture_output=True, text=True).stdout)
        rows.append((made, generated, result))
        print(f"generated {n_items} items in {generated:.0f} s; measured: {json.dumps(result)}", file=sys.stderr)
    print(f"plan benchmark, run date {RUN_DATE}, rules {RULES.relative_to(ROOT)}, SQLite, python {sys.version.split()[0]}")
    header = (f"{'open items':>10} {'debtors':>8} {'journal':>8} {'load s':>7} {'(cpu)':>7} {'plan s':>7} {'(cpu)':>7} "
              f"{'actions':>8} {'peak RSS MB':>11} {'plan s, interest on all costed steps (cpu)':>43}")
    print(header)
    print("-" * len(header))
    for made, _generated, result in rows:
        print(f"{result['open_items']:>10} {made['debtors']:>8} {made['journal']:>8} {result['load_s']:>7} "
              f"{result['load_cpu_s']:>7} {result['plan_s']:>7} {result['plan_cpu_s']:>7} {result['actions']:>8} "
              f"{result['peak_rss_mb']:>11} {result['plan_interest_s']:>35} ({result['plan_interest_cpu_s']})")
    for made, _generated, result in rows:
        print(f"{made['items']} items: actions by kind {json.dumps(result['kinds'], sort_keys=True)}")


if __name__ == "__main__":
    main()
