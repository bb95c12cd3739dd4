"""Benchmark: sync an Exact Online division from the sandbox at Exact's real rate limits.

The sandbox runs in its own process (``python -m adapters.exact.sandbox``) with the documented
limits (60 calls a minute and 5,000 a day per division); this process is the client, linked over
the real OAuth redirect. For each size it runs a full sync, changes 1 % of the division (payments
in full and in part, renamed accounts) and runs an incremental sync. It prints, from the
sandbox's own counts, calls per endpoint next to the minimum for that endpoint (ceil(rows it must
return / 1000 a page), at least one call), 429s, the achieved request rate against the allowed
60 a minute, wall time and the client's peak RSS.

    .venv/bin/python bench/sync_exact.py [--sizes 10000,100000] [--minutely 60]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.demo import DemoBrowser, free_port  # noqa: E402
from connector.sandbox import wait_for_port  # noqa: E402

PAGE = 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_sandbox(size: int, port: int, redirect_uri: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.exact.sandbox", "--port", str(port), "--size", str(size), "--redirect-uri", redirect_uri],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    wait_for_port("127.0.0.1", port, timeout=60)
    return process


def stats(base: str) -> dict[str, dict[str, object]]:
    return httpx.get(f"{base}/_sandbox/stats", timeout=30).json()  # type: ignore[no-any-return]


def minimum(rows: dict[str, int], endpoints: list[str]) -> dict[str, int]:
    return {e: max(1, math.ceil(rows.get(e, 0) / PAGE)) for e in endpoints}


def run(size: int, minutely: int) -> list[dict[str, object]]:
    from connector.runtime import link_package, sync_connections

    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            ARCONNECT_CONFIG_DIR=tmp, ARCONNECT_DATA_DIR=tmp, ARCONNECT_SECRET_STORE="plain-file",
        )
        os.environ.pop("ARCONNECT_DATABASE_URL", None)
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        port = free_port()
        sandbox = start_sandbox(size, port, redirect)
        base = f"http://127.0.0.1:{port}"
        try:
            link_package(
                "exact", region="nl", client_id="arconnect-demo", redirect_uri=redirect, credential_name="bench",
                host=base, open_browser=True, divisions=["101"], say=lambda s: None, opener=DemoBrowser(),
                client_secret_value="demo-secret",
            )
            for phase in ("full", "incremental"):
                if phase == "incremental":
                    changed = httpx.post(f"{base}/_sandbox/change", json={"division": 101, "percent": 1.0}, timeout=60).json()
                before = stats(base)
                started = time.monotonic()
                (result,) = sync_connections(None)
                wall = time.monotonic() - started
                after = stats(base)
                if result.error:
                    raise SystemExit(f"sync failed: {result.error}")
                calls = {k: int(v) - int(before["calls"].get(k, 0)) for k, v in after["calls"].items()}  # type: ignore[union-attr]
                calls = {k: v for k, v in calls.items() if v}
                too_many = int(after["status"].get("429", 0)) - int(before["status"].get("429", 0))  # type: ignore[union-attr]
                rows = after["rows"]["101"]  # type: ignore[index]
                if phase == "incremental":
                    need = {
                        "sync/CRM/Accounts": changed["accounts_renamed"],
                        # a payment in full touches one term, a partial one two (split)
                        "sync/Cashflow/PaymentTerms": changed["paid_in_full"] + 2 * changed["paid_in_part"],
                        "sync/Deleted": 0,
                    }
                else:
                    need = dict(rows)  # type: ignore[arg-type]
                floor = minimum(need, ["sync/CRM/Accounts", "sync/Cashflow/PaymentTerms", "sync/Deleted"])
                total = sum(calls.values())
                allowed_per_s = minutely / 60
                achieved = total / wall if wall else 0.0
                results.append({
                    "size": size, "phase": phase, "calls": calls, "minimum": floor, "total": total,
                    "minimum_total": sum(floor.values()), "429s": too_many, "wall_s": wall,
                    "rate_vs_allowed": achieved / allowed_per_s, "stored": result.stored, "rss_mb": peak_rss_mb(),
                })
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--minutely", type=int, default=60, help="the sandbox's limit (Exact: 60)")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.extend(run(size, args.minutely))
    print(f"{'terms':>8} {'phase':<12} {'endpoint':<28} {'calls':>6} {'min':>5} {'ratio':>6} {'429s':>5} {'rate/allowed':>12} {'wall s':>8} {'RSS MB':>7}")
    for r in rows:
        calls: dict[str, int] = r["calls"]  # type: ignore[assignment]
        floor: dict[str, int] = r["minimum"]  # type: ignore[assignment]
        for endpoint in sorted(set(calls) | set(floor)):
            print(f"{r['size']:>8} {r['phase']:<12} {endpoint:<28} {calls.get(endpoint, 0):>6} {floor.get(endpoint, 0):>5}")
        ratio = int(r["total"]) / int(r["minimum_total"])  # type: ignore[call-overload]
        print(
            f"{r['size']:>8} {r['phase']:<12} {'TOTAL':<28} {r['total']:>6} {r['minimum_total']:>5} {ratio:>6.3f} "
            f"{r['429s']:>5} {float(r['rate_vs_allowed']):>12.2f} {float(r['wall_s']):>8.1f} {float(r['rss_mb']):>7.1f}"  # type: ignore[arg-type]
        )
    print(json.dumps(rows, default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
