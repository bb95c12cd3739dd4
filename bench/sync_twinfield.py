"""Benchmark: sync five Twinfield offices from the sandbox at Twinfield's real Fair Use limits.

The sandbox runs in its own process (``python -m adapters.twinfield.sandbox --admin``) with the
certified Fair Use limits (docs/reference/twinfield.md §6.1: 1 credit for a ``list``/``read``/
``columns`` request or a query service, 3 for anything else; 500 credits a minute per client id +
organisation, 1000 per client id and per IP; 10 requests in flight per organisation). Its offices
hold three book years (2024–2026), so every book year the adapter asks for has lines. Each size
runs its client in a process of its own, so that its peak RSS is that size's alone; the client
links over the real consent page and redirect and runs ``connector.runtime.sync_connections``
(what ``arconnect sync`` runs) over every office. For each size: a full sync, then 1 % of every
office changes (payments in full and in part, matched to their invoices; renamed customers) and
an incremental sync runs. Printed, from the sandbox's own counts:

* calls and credits per request kind next to the minimum. The minimum per office: one ``read`` of
  all DEB dimensions (§5.1); one browse 100 (``columns``) per book year (WK's advice, §3.2) and
  open match status (``available``, ``proposed``: the filter takes one value, §3.4) for a full
  read, one per book year on ``fin.trs.line.modified`` for an incremental read; one
  deleted-transactions query for an incremental read (§4.5). Token validations: none needed, the
  link already found the cluster for this access token (§1.4);
* browse rows served next to the rows that had to be returned (the open lines; for the
  incremental sync the changed lines: each paid invoice and its receipt);
* 429s; the credits spent, and credits a minute achieved (credits ÷ wall time) against the 500
  allowed (a phase that spends fewer credits than the bucket holds may run faster than 500 a
  minute without a 429: the bucket starts full); the seconds the client's limiter waited;
* wall time, and the client's RSS when the phase started and its peak (sampled every 50 ms).

    .venv/bin/python bench/sync_twinfield.py [--sizes 5000,20000] [--offices 5] [--uncertified]

``--sizes`` are customer lines per office (approximately: the sandbox books invoices, receipts
and credit notes; the table shows the lines it really holds). Every process has a time limit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.cli.demo import DemoBrowser, free_port  # noqa: E402
from connector.sandbox import wait_for_port  # noqa: E402

YEARS = (2024, 2025, 2026)
OPEN_STATUSES = 2  # available, proposed
#: certified client id + organisation bucket, credits a minute (§6.1)
ALLOWED_PER_MINUTE = 500
UNCERTIFIED_PER_MINUTE = 25
#: customer lines per sales invoice the sandbox generates (receipts and credit notes come on top)
LINES_PER_INVOICE = 1.68
CHILD_TIMEOUT_S = 1200


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssSampler:
    """The highest RSS seen while a phase runs (ru_maxrss only ever grows over the process's life)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            self._stop.wait(0.05)

    def __enter__(self) -> RssSampler:
        self.peak = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def start_sandbox(invoices: int, offices: int, port: int, redirect_uri: str, uncertified: bool) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.twinfield.sandbox", "--port", str(port), "--size", str(invoices),
         "--offices", str(offices), "--years", ",".join(map(str, YEARS)), "--redirect-uri", redirect_uri, "--admin",
         *(["--uncertified"] if uncertified else [])],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=300)
    except BaseException:
        process.kill()
        raise
    return process


def stats(base: str) -> dict[str, Any]:
    return httpx.get(f"{base}/_sandbox/stats", timeout=60).json()  # type: ignore[no-any-return]


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    out = {k: int(v) - int(before.get(k, 0)) for k, v in after.items()}
    return {k: v for k, v in out.items() if v}


def child(lines: int, offices: int, uncertified: bool) -> list[dict[str, Any]]:
    """One size, in this process: link, full sync, 1 % change, incremental sync."""
    from connector.ratelimit import DEFAULT_LIMITER
    from connector.runtime import link_package, sync_connections

    logging.getLogger("arconnect").setLevel(logging.WARNING)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(ARCONNECT_CONFIG_DIR=tmp, ARCONNECT_DATA_DIR=tmp, ARCONNECT_SECRET_STORE="plain-file")
        os.environ.pop("ARCONNECT_DATABASE_URL", None)
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        port = free_port()
        sandbox = start_sandbox(round(lines / LINES_PER_INVOICE), offices, port, redirect, uncertified)
        base = f"http://127.0.0.1:{port}"
        try:
            linked = link_package(
                "twinfield", region="nl", client_id="arconnect-demo", redirect_uri=redirect, credential_name="bench",
                host=base, open_browser=True, divisions=[], say=lambda s: None, opener=DemoBrowser(),
                client_secret_value="demo-secret",
            )
            assert len(linked) == offices, linked
            for phase in ("full", "incremental"):
                changed: dict[str, dict[str, int]] = {}
                if phase == "incremental":
                    changed = httpx.post(f"{base}/_sandbox/change", json={"percent": 1.0}, timeout=120).json()
                before = stats(base)
                waited = DEFAULT_LIMITER.waited_seconds
                rss_start = rss_mb()
                started = time.monotonic()
                with RssSampler() as sampler:
                    synced = sync_connections(None)
                wall = time.monotonic() - started
                after = stats(base)
                failed = [r.error for r in synced if r.error]
                if failed:
                    raise SystemExit(f"sync failed: {failed}")
                n = len(synced)
                if phase == "full":
                    minimum = {"read": n, "columns": n * len(YEARS) * OPEN_STATUSES}
                    rows_needed = sum(o["open"] for o in after["offices"].values())
                else:
                    minimum = {"read": n, "columns": n * len(YEARS), "deletedtransactions": n}
                    rows_needed = sum(c["changed_rows"] for c in changed.values())
                calls = delta(after["calls"], before["calls"])
                credits = delta(after["credits"], before["credits"])
                validations = int(after["validations"]) - int(before["validations"])
                results.append({
                    "lines": sum(o["lines"] for o in after["offices"].values()) // max(1, len(after["offices"])),
                    "offices": n, "phase": phase, "calls": calls, "credits": credits, "minimum": minimum,
                    "validations": validations,
                    "rows_served": sum(delta(after["rows_served"], before["rows_served"]).values()),
                    "rows_needed": rows_needed,
                    "429s": int(after["status"].get("429", 0)) - int(before["status"].get("429", 0)),
                    "wall_s": wall, "credits_per_min": sum(credits.values()) / wall * 60 if wall else 0.0,
                    "limiter_wait_s": DEFAULT_LIMITER.waited_seconds - waited,
                    "stored": sum(r.stored for r in synced), "rss_start_mb": rss_start, "rss_peak_mb": sampler.peak,
                    "process_peak_rss_mb": peak_rss_mb(),
                })
        finally:
            sandbox.terminate()
            try:
                sandbox.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sandbox.kill()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,20000", help="customer lines per office, one run per size")
    parser.add_argument("--offices", type=int, default=5)
    parser.add_argument("--uncertified", action="store_true",
                        help="an uncertified client's limits: 25 credits a minute per organisation, 50 per client id")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    allowed = UNCERTIFIED_PER_MINUTE if args.uncertified else ALLOWED_PER_MINUTE
    flags = ["--uncertified"] if args.uncertified else []
    if args.child:
        print(json.dumps(child(args.child, args.offices, args.uncertified)))
        return
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--offices", str(args.offices), *flags],
                             cwd=ROOT, check=True, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        rows.extend(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'lines/office':>12} {'phase':<11} {'kind':<21} {'calls':>5} {'min':>4} {'credits':>7} {'min':>4}")
    for r in rows:
        for kind in sorted(set(r["calls"]) | set(r["minimum"])):
            floor = r["minimum"].get(kind, 0)
            print(f"{r['lines']:>12} {r['phase']:<11} {kind:<21} {r['calls'].get(kind, 0):>5} {floor:>4} "
                  f"{r['credits'].get(kind, 0):>7} {floor:>4}")
        print(f"{r['lines']:>12} {r['phase']:<11} {'accesstokenvalidation':<21} {r['validations']:>5} {0:>4} "
              f"{'-':>7} {'-':>4}")
    print()
    print(f"{'lines/office':>12} {'offices':>7} {'phase':<11} {'calls':>5} {'min':>4} {'ratio':>5} {'429s':>4} "
          f"{'rows':>7} {'needed':>7} {'credits':>7} {'credits/min':>11} {'allowed':>7} {'waited s':>8} {'wall s':>7} "
          f"{'RSS start/peak MB':>17}")
    for r in rows:
        total = sum(r["calls"].values()) + r["validations"]
        floor = sum(r["minimum"].values())
        print(f"{r['lines']:>12} {r['offices']:>7} {r['phase']:<11} {total:>5} {floor:>4} {total / floor:>5.2f} "
              f"{r['429s']:>4} {r['rows_served']:>7} {r['rows_needed']:>7} {sum(r['credits'].values()):>7} "
              f"{r['credits_per_min']:>11.1f} "
              f"{allowed:>7} {r['limiter_wait_s']:>8.1f} {r['wall_s']:>7.1f} "
              f"{r['rss_start_mb']:>8.0f}/{r['rss_peak_mb']:<8.0f}")
    print(json.dumps(rows, default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
