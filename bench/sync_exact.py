"""Benchmark: sync an Exact Online division from the sandbox at Exact's real rate limits.

The sandbox runs in its own process (``python -m adapters.exact.sandbox``) with the documented limits
(60 calls a minute and 5,000 a day per division, headers in epoch ms; docs/reference/exact.md §8). Each size
runs its client in a process of its own, so that its peak RSS is that size's alone; the client links
over the real OAuth redirect and runs ``connector.runtime.sync_connections`` (what ``arconnect sync`` runs).
For each size: a full sync, then 1 % of the division changes (payments in full and in part, renamed
accounts) and an incremental sync runs. Printed, from the sandbox's own counts:

* calls per endpoint next to the minimum: ceil(rows the endpoint must return / 1000 a page) (§2.3; at
  least one call to learn there is nothing), history and payables included, plus the fixed
  ``system/Divisions`` call that reads ``DivisionMoveDate`` (§4);
* rows served per endpoint next to the rows that had to be returned (for the incremental sync: the
  changed rows only);
* 429s; the achieved rate (calls ÷ wall time) against the allowed 1 a second, and the calls made in
  every clock minute the sync ran through from start to end (Exact's minute window, §8), which is
  where "≥ 90 % of the allowed rate" is decided; the seconds the client's limiter waited;
* wall time, and the client's RSS when the sync started, half-way and at the end, and its peak.

    .venv/bin/python bench/sync_exact.py [--sizes 10000,100000] [--minutely 60]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.cli.demo import DemoBrowser, free_port  # noqa: E402
from connector.sandbox import wait_for_port  # noqa: E402

PAGE = 1000  # §2.3: bulk and sync endpoints
FEEDS = ("sync/CRM/Accounts", "sync/Cashflow/PaymentTerms", "sync/Deleted")
FIXED = {"system/Divisions": 1}  # §4: DivisionMoveDate, once per sync


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class CallLog(logging.Handler):
    """Every request the client sends (connector.http logs ``→ METHOD url`` at DEBUG): when, and RSS then."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.calls: list[tuple[datetime, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("→") and "/api/v1/" in str(record.args):
            self.calls.append((datetime.now(UTC), rss_mb()))


def start_sandbox(size: int, port: int, redirect_uri: str, minutely: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.exact.sandbox", "--port", str(port), "--size", str(size),
         "--redirect-uri", redirect_uri, "--minutely", str(minutely)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    wait_for_port("127.0.0.1", port, timeout=60)
    return process


def stats(base: str) -> dict[str, Any]:
    return httpx.get(f"{base}/_sandbox/stats", timeout=30).json()  # type: ignore[no-any-return]


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    out = {k: int(v) - int(before.get(k, 0)) for k, v in after.items()}
    return {k: v for k, v in out.items() if v}


def full_minutes(calls: list[tuple[datetime, float]]) -> list[int]:
    """Calls in each clock minute that lies wholly between the first and the last call."""
    if not calls:
        return []
    first, last = calls[0][0], calls[-1][0]
    counts: dict[datetime, int] = {}
    for moment, _ in calls:
        minute = moment.replace(second=0, microsecond=0)
        counts[minute] = counts.get(minute, 0) + 1
    return [n for minute, n in sorted(counts.items()) if minute > first.replace(second=0, microsecond=0)
            and minute < last.replace(second=0, microsecond=0)]


def child(size: int, minutely: int) -> list[dict[str, Any]]:
    """One size, in this process: link, full sync, 1 % change, incremental sync."""
    from connector.ratelimit import DEFAULT_LIMITER
    from connector.runtime import link_package, sync_connections

    log = CallLog()
    http_log = logging.getLogger("arconnect.http")
    http_log.setLevel(logging.DEBUG)
    http_log.addHandler(log)
    http_log.propagate = False
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(ARCONNECT_CONFIG_DIR=tmp, ARCONNECT_DATA_DIR=tmp, ARCONNECT_SECRET_STORE="plain-file")
        os.environ.pop("ARCONNECT_DATABASE_URL", None)
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        port = free_port()
        sandbox = start_sandbox(size, port, redirect, minutely)
        base = f"http://127.0.0.1:{port}"
        try:
            link_package(
                "exact", region="nl", client_id="arconnect-demo", redirect_uri=redirect, credential_name="bench",
                host=base, open_browser=True, divisions=["101"], say=lambda s: None, opener=DemoBrowser(),
                client_secret_value="demo-secret",
            )
            for phase in ("full", "incremental"):
                changed: dict[str, int] = {}
                if phase == "incremental":
                    changed = httpx.post(f"{base}/_sandbox/change", json={"division": 101, "percent": 1.0},
                                         timeout=60).json()
                before = stats(base)
                log.calls.clear()
                waited = DEFAULT_LIMITER.waited_seconds
                rss_start = rss_mb()
                started = time.monotonic()
                (result,) = sync_connections(None)
                wall = time.monotonic() - started
                after = stats(base)
                if result.error:
                    raise SystemExit(f"sync failed: {result.error}")
                if phase == "incremental":
                    # a payment in full changes one term; a partial one closes it and adds the remainder (§5)
                    need = {"sync/CRM/Accounts": changed["accounts_renamed"],
                            "sync/Cashflow/PaymentTerms": changed["paid_in_full"] + 2 * changed["paid_in_part"],
                            "sync/Deleted": 0}
                else:
                    need = {k: int(v) for k, v in after["rows"]["101"].items()}
                minimum = {e: max(1, math.ceil(need.get(e, 0) / PAGE)) for e in FEEDS} | FIXED
                calls = delta(after["calls"], before["calls"])
                rss = [r for _, r in log.calls] or [rss_start]
                results.append({
                    "size": size, "phase": phase, "calls": calls, "minimum": minimum,
                    "rows_served": delta(after.get("rows_served", {}), before.get("rows_served", {})), "rows_needed": need,
                    "429s": int(after["status"].get("429", 0)) - int(before["status"].get("429", 0)),
                    "wall_s": wall, "rate_vs_allowed": (sum(calls.values()) / wall) / (minutely / 60) if wall else 0.0,
                    "full_minutes": full_minutes(log.calls), "limiter_wait_s": DEFAULT_LIMITER.waited_seconds - waited,
                    "stored": result.stored, "rss_start_mb": rss_start, "rss_mid_mb": rss[len(rss) // 2],
                    "rss_end_mb": rss_mb(), "peak_rss_mb": peak_rss_mb(),
                })
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--minutely", type=int, default=60, help="the sandbox's limit (Exact: 60)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.minutely)))
        return
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--minutely", str(args.minutely)],
                             cwd=ROOT, check=True, capture_output=True, text=True)
        rows.extend(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'terms':>7} {'phase':<11} {'endpoint':<27} {'calls':>5} {'min':>4} {'rows':>7} {'needed':>7}")
    for r in rows:
        for endpoint in sorted(set(r["calls"]) | set(r["minimum"])):
            print(f"{r['size']:>7} {r['phase']:<11} {endpoint:<27} {r['calls'].get(endpoint, 0):>5} "
                  f"{r['minimum'].get(endpoint, 0):>4} {r['rows_served'].get(endpoint, 0):>7} "
                  f"{r['rows_needed'].get(endpoint, '-'):>7}")
    print()
    print(f"{'terms':>7} {'phase':<11} {'calls':>5} {'min':>4} {'ratio':>5} {'429s':>4} {'rate/allowed':>12} "
          f"{'calls in full minutes':<22} {'waited s':>8} {'wall s':>7} {'RSS start/mid/end/peak MB':>26}")
    for r in rows:
        total, floor = sum(r["calls"].values()), sum(r["minimum"].values())
        rss = f"{r['rss_start_mb']:.0f}/{r['rss_mid_mb']:.0f}/{r['rss_end_mb']:.0f}/{r['peak_rss_mb']:.0f}"
        print(f"{r['size']:>7} {r['phase']:<11} {total:>5} {floor:>4} {total / floor:>5.2f} {r['429s']:>4} "
              f"{r['rate_vs_allowed']:>12.2f} {r['full_minutes'] or '-'!s:<22} {r['limiter_wait_s']:>8.1f} "
              f"{r['wall_s']:>7.1f} {rss:>26}")
    print(json.dumps(rows, default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
