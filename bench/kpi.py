"""Benchmark: the firm's KPI report over 100 administrations × 10,000 items × 13 months of history.

A generator process writes a fresh SQLite store straight through SQLAlchemy Core: per
administration 10,000 invoices and credit notes (about 5 % credit notes; 90 % EUR, 7 % USD, 3 %
GBP) dated over the 13 months before the report's end, paid after a spread of days (most within
terms + 30 days, 5 % in two payments, 2 % written off, the rest still open), each payment stored as
a payment row, and a journal of dunning steps (one reminder for about a third of the items).

A second, fresh process then measures:

* **report** — ``connector.actions.kpis.kpi_report`` for all 100 administrations and the firm,
  13 months (every figure per administration, currency and month);
* **snapshot** — ``Desk.take_snapshot`` of one administration (what ``serve`` does after a sync);

with wall and CPU seconds (workers included) and the peak RSS of the measuring process (or of its
largest worker). ``--workers N`` spreads the administrations over N processes, as ``report kpi``
does by default (the machine's cores, at most 4).

    .venv/bin/python bench/kpi.py [--admins 100] [--items 10000] [--workers 2] [--keep DIR]
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

from connector.store import Store  # noqa: E402
from connector.store import tables as t  # noqa: E402

END = date(2026, 11, 30)
START = date(2025, 11, 1)  # 13 months: Nov 2025 .. Nov 2026
HISTORY_DAYS = (END - START).days
CHUNK = 20_000
CURRENCIES = ["EUR"] * 90 + ["USD"] * 7 + ["GBP"] * 3


def generate(url: str, admins: int, items: int) -> None:
    rng = random.Random(14)
    now = datetime(2026, 12, 1, 6, tzinfo=UTC)
    store = Store(url)
    store.migrate()
    item_rows: list[dict[str, Any]] = []
    pay_rows: list[dict[str, Any]] = []
    action_rows: list[dict[str, Any]] = []
    debtor_rows: list[dict[str, Any]] = []

    def flush(force: bool = False) -> None:
        with store.engine.begin() as conn:
            for table, rows in ((t.open_items, item_rows), (t.payments, pay_rows), (t.actions, action_rows),
                                (t.debtors, debtor_rows)):
                if rows and (force or len(rows) >= CHUNK):
                    conn.execute(sa_insert(table), rows)
                    rows.clear()

    for a in range(admins):
        cid = f"admin-{a:03d}"
        store.ensure_connection(cid, "exact", f"Administration {a}")
        debtors = max(1, items // 10)
        for d in range(debtors):
            debtor_rows.append({
                "connection_id": cid, "source_id": f"d{d}", "code": str(1000 + d), "name": f"Debtor {d}",
                "kind": "business", "country": "NL", "language": "nl", "blocked": False, "credit_limit_currency": None,
                "credit_limit_amount": None, "source_modified": None, "data": {}, "first_seen_at": now, "updated_at": now,
                "deleted_at": None,
            })
        for n in range(items):
            invoiced = START + timedelta(days=rng.randrange(HISTORY_DAYS))
            due = invoiced + timedelta(days=30)
            currency = rng.choice(CURRENCIES)
            credit = rng.random() < 0.05
            amount = Decimal(rng.randrange(5_000, 500_000)) / 100 * (-1 if credit else 1)
            debtor = f"d{rng.randrange(debtors)}"
            sid = f"i{n}"
            fate = rng.random()
            paid_on = invoiced + timedelta(days=max(1, int(rng.gauss(38, 18))))
            status, closed, open_amount = "open", None, amount
            if credit:
                if paid_on <= END:
                    status, closed, open_amount = "paid", paid_on, Decimal(0)
            elif fate < 0.02 and due + timedelta(days=120) <= END:
                status, closed, open_amount = "written_off", due + timedelta(days=120), Decimal(0)
            elif fate < 0.07:
                half = (amount / 2).quantize(Decimal("0.01"))
                if paid_on <= END:
                    pay_rows.append(_payment(cid, f"p{n}a", debtor, sid, paid_on, half, currency, now))
                    open_amount = amount - half
                    second = paid_on + timedelta(days=30)
                    if second <= END:
                        pay_rows.append(_payment(cid, f"p{n}b", debtor, sid, second, amount - half, currency, now))
                        status, closed, open_amount = "paid", second, Decimal(0)
            elif paid_on <= END and fate < 0.93:
                pay_rows.append(_payment(cid, f"p{n}", debtor, sid, paid_on, amount, currency, now))
                status, closed, open_amount = "paid", paid_on, Decimal(0)
            item_rows.append({
                "connection_id": cid, "source_id": sid, "debtor_source_id": debtor, "document_number": f"F{n}",
                "kind": "credit_note" if credit else "invoice", "invoice_date": invoiced, "due_date": due,
                "currency": currency, "original_amount": amount, "open_amount": open_amount, "base_currency": "EUR",
                "original_base_amount": amount, "open_base_amount": open_amount, "status": status, "closed_on": closed,
                "in_direct_debit": False, "payment_reference": None, "data": {}, "first_seen_at": now,
                "updated_at": now, "deleted_at": None,
            })
            step_day = due + timedelta(days=7)
            if not credit and step_day <= END and (closed is None or closed > step_day) and rng.random() < 0.8:
                action = {"amount": {"amount": str(amount), "currency": currency}}
                action_rows.append({
                    "idempotency_key": f"{cid}-{sid}-r", "connection_id": cid, "debtor_source_id": debtor,
                    "item_source_ids": [sid], "kind": "reminder", "step": "reminder", "channel": "email",
                    "run_date": step_day, "planned_at": now, "state": "done", "attempts": 1, "remote_reference": None,
                    "reason": "late", "action": action, "updated_at": now,
                })
            flush()
    flush(force=True)
    store.close()


def _payment(cid: str, sid: str, debtor: str, item: str, on: date, amount: Decimal, currency: str,
             now: datetime) -> dict[str, Any]:
    return {"connection_id": cid, "source_id": sid, "debtor_source_id": debtor, "item_source_ids": [item],
            "paid_on": on, "currency": currency, "amount": amount, "data": {}, "first_seen_at": now, "updated_at": now,
            "deleted_at": None}


def sa_insert(table: Any) -> Any:
    import sqlalchemy as sa

    return sa.insert(table)


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(url: str, admins: int, workers: int) -> dict[str, Any]:
    from connector.actions.kpis import kpi_report
    from connector.store.desk import Desk

    store = Store(url)
    names = [f"admin-{a:03d}" for a in range(admins)]
    wall, cpu = time.perf_counter(), _cpu()
    report = kpi_report(store, names, START, END, "month", workers=workers)
    report_wall, report_cpu = time.perf_counter() - wall, _cpu() - cpu
    # The largest of this process and its workers (each worker holds one administration at a time).
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    wall, cpu = time.perf_counter(), time.process_time()
    Desk(store).take_snapshot(names[0], END, datetime.now(UTC))
    snap_wall, snap_cpu = time.perf_counter() - wall, time.process_time() - cpu
    firm = report.scopes[-1]
    last = next(f for f in firm.figures if f.period == report.periods[-1].label and f.currency == "EUR")
    store.close()
    return {
        "report_s": round(report_wall, 1), "report_cpu_s": round(report_cpu, 1), "peak_rss_mb": round(rss / 1024),
        "snapshot_s": round(snap_wall, 2), "snapshot_cpu_s": round(snap_cpu, 2), "scopes": len(report.scopes),
        "figures": sum(len(s.figures) for s in report.scopes), "firm_eur_ar": str(last.ar),
        "firm_eur_dso": str(last.dso_countback), "firm_eur_cei": str(last.cei),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admins", type=int, default=100)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="keep the generated database in this dir")
    parser.add_argument("--workers", type=int, default=1, help="worker processes for the report (1: one process)")
    parser.add_argument("--generate", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.admins, args.items)
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.admins, args.workers)))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="arconnect-bench-kpi-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'kpi.db'}"
    if not (folder / "kpi.db").exists():
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate", url, "--admins", str(args.admins), "--items",
                        str(args.items)], check=True)
        print(f"generated {args.admins} × {args.items} items in {time.perf_counter() - started:.0f} s ({folder})")
    result = json.loads(subprocess.run([sys.executable, __file__, "--measure", url, "--admins", str(args.admins),
                                        "--workers", str(args.workers)],
                                       check=True, capture_output=True, text=True).stdout)
    print(f"{'administrations':>15} {'items':>10} {'workers':>8} {'report s (cpu)':>16} {'peak RSS MB':>12} {'snapshot s':>11}")
    print(f"{args.admins:>15} {args.admins * args.items:>10} {args.workers:>8} {result['report_s']:>9} ({result['report_cpu_s']})"
          f" {result['peak_rss_mb']:>12} {result['snapshot_s']:>11}")
    print(f"{result['scopes']} scopes, {result['figures']} figure rows; firm EUR at the end: AR {result['firm_eur_ar']}, "
          f"countback DSO {result['firm_eur_dso']}, CEI {result['firm_eur_cei']}")


if __name__ == "__main__":
    main()
