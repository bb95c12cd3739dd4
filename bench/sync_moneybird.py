"""Benchmark: sync a Moneybird administration from the sandbox at Moneybird's real rate limit.

The sandbox runs in its own process (this script with ``--serve``: the MoneybirdSandbox plus two
bench-only routes, ``GET /_sandbox/stats`` and ``POST /_sandbox/change``) with the documented
limit of 150 requests per 5 minutes per token (docs/reference/moneybird.md §9); this process is the
client, linked over the real OAuth redirect. For each size it runs a full sync, changes about 1 %
of the open invoices (payments in full and in part, new invoices) and renames contacts, and runs an
incremental sync. It prints, from the sandbox's own counts, calls per endpoint next to the minimum
(each synchronization id list once, plus ceil(ids that must be fetched / 100) POSTs, §5), 429s, the
achieved rate against the allowed one, wall time and the client's peak RSS.

"Allowed" is counted the way Moneybird counts: fixed 5-minute windows per token. ``windows`` is the
number of windows the phase touched and ``use`` = calls / (150 x windows); a phase that fits in one
window's budget is not paced at all, so its ``use`` only says how much of that budget it took.

    .venv/bin/python bench/sync_moneybird.py [--sizes 10000,40000] [--limit 150] [--window 300]
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
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.cli.demo import DemoBrowser, free_port  # noqa: E402
from connector.sandbox import wait_for_port  # noqa: E402

ADMIN = "123456789012345678"
BATCH = 100
LISTS = ("contacts/synchronization", "sales_invoices/synchronization")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- server side


def serve(port: int, size: int, limit: int, window: int, redirect_uri: str) -> None:
    from adapters.moneybird.sandbox import AdministrationSpec, MoneybirdSandbox
    from connector.sandbox import Request, Response
    from connector.sandbox import serve as serve_app

    app = MoneybirdSandbox(
        seed=42, limit=limit, window_seconds=window,
        administrations=(AdministrationSpec(id=ADMIN, name="Bench B.V.", contacts=max(40, size // 4), invoices=size),),
    )
    app.register_client("arconnect-demo", "demo-secret", redirect_uri)

    def stats(request: Request) -> Response:
        with app.state_lock:
            calls = {k: v for k, v in app.calls.items() if not k.startswith("_sandbox")}
            status = {str(k): v for k, v in app.status_counts.items()}
            admin = app.admin(ADMIN)
            return Response.json({"calls": calls, "status": status, "contacts": len(admin.live_contact_indexes()),
                                  "open": len(app.open_invoices(ADMIN))})

    def change(request: Request) -> Response:
        percent = float((request.json() or {}).get("percent", 1.0))
        open_ids = app.invoice_ids(ADMIN, states=("open", "late", "reminded"))
        count = max(3, int(len(open_ids) * percent / 100))
        full, part, added = 0, 0, 0
        for number, ident in enumerate(open_ids[:count]):
            unpaid = Decimal(str(app.invoice(ADMIN, ident)["total_unpaid"]))
            if unpaid <= 0:
                continue
            if number % 3 == 0:
                app.pay(ADMIN, ident, unpaid)
                full += 1
            elif number % 3 == 1:
                app.pay(ADMIN, ident, (unpaid / 2).quantize(Decimal("0.01")))
                part += 1
            else:
                app.add_invoice(ADMIN, amount="121.00")
                added += 1
        renamed = max(1, count // 4)
        admin = app.admin(ADMIN)
        for index in range(renamed):
            contact = admin.contact(index)
            if contact is not None:
                app.update_contact(ADMIN, contact.id, company_name=f"Hernoemd {index} B.V.")
        return Response.json({"paid_in_full": full, "paid_in_part": part, "added": added, "contacts_renamed": renamed})

    app.add_route("GET", "/_sandbox/stats", stats, "_sandbox/stats")
    app.add_route("POST", "/_sandbox/change", change, "_sandbox/change")
    server = serve_app(app, port=port)
    print(f"moneybird bench sandbox on {server.url}", flush=True)
    threading.Event().wait()


# --------------------------------------------------------------------------- client side


def start_sandbox(size: int, port: int, limit: int, window: int, redirect_uri: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", "--port", str(port), "--sizes", str(size),
         "--limit", str(limit), "--window", str(window), "--redirect-uri", redirect_uri],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    wait_for_port("127.0.0.1", port, timeout=60)
    return process


def stats(base: str) -> dict[str, Any]:
    return httpx.get(f"{base}/_sandbox/stats", timeout=120).json()  # type: ignore[no-any-return]


def run(size: int, limit: int, window: int) -> list[dict[str, Any]]:
    from connector.runtime import link_package, sync_connections

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(ARCONNECT_CONFIG_DIR=tmp, ARCONNECT_DATA_DIR=tmp, ARCONNECT_SECRET_STORE="plain-file")
        os.environ.pop("ARCONNECT_DATABASE_URL", None)
        redirect = f"http://127.0.0.1:{free_port()}/callback"
        port = free_port()
        sandbox = start_sandbox(size, port, limit, window, redirect)
        base = f"http://127.0.0.1:{port}"
        try:
            first_call = time.monotonic()
            link_package(
                "moneybird", region="nl", client_id="arconnect-demo", redirect_uri=redirect, credential_name="bench",
                host=base, open_browser=True, divisions=[ADMIN], say=lambda s: None, opener=DemoBrowser(),
                client_secret_value="demo-secret",
            )
            for phase in ("full", "incremental"):
                before = stats(base)
                if phase == "incremental":
                    changed = httpx.post(f"{base}/_sandbox/change", json={"percent": 1.0}, timeout=120).json()
                    need = {
                        "contacts/synchronization": changed["contacts_renamed"],
                        "sales_invoices/synchronization": changed["paid_in_full"] + changed["paid_in_part"] + changed["added"],
                    }
                else:
                    need = {"contacts/synchronization": before["contacts"], "sales_invoices/synchronization": before["open"]}
                started = time.monotonic()
                (result,) = sync_connections(None)
                wall = time.monotonic() - started
                after = stats(base)
                if result.error:
                    raise SystemExit(f"sync failed: {result.error}")
                calls = {k: int(v) - int(before["calls"].get(k, 0)) for k, v in after["calls"].items()}
                calls = {k: v for k, v in calls.items() if v}
                too_many = int(after["status"].get("429", 0)) - int(before["status"].get("429", 0))
                floor = {endpoint: 1 + math.ceil(need[endpoint] / BATCH) for endpoint in LISTS}
                total = sum(calls.values())
                # windows start at the token's first request (the link) and last `window` seconds
                start_offset = started - first_call
                windows = math.floor((start_offset + wall) / window) - math.floor(start_offset / window) + 1
                results.append({
                    "size": size, "phase": phase, "calls": calls, "minimum": floor, "total": total,
                    "minimum_total": sum(floor.values()), "429s": too_many, "wall_s": wall,
                    "rate_per_s": total / wall if wall else 0.0, "allowed_per_s": limit / window,
                    "windows": windows, "use": total / (limit * windows), "stored": result.stored,
                    "rss_mb": peak_rss_mb(), "need": need,
                })
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,40000", help="sales invoices per run (contacts: a quarter)")
    parser.add_argument("--limit", type=int, default=150, help="requests per window (Moneybird: 150)")
    parser.add_argument("--window", type=int, default=300, help="window in seconds (Moneybird: 300)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--redirect-uri", default="http://127.0.0.1:8765/callback", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, int(args.sizes), args.limit, args.window, args.redirect_uri)
        return
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.extend(run(size, args.limit, args.window))
    print(f"{'invoices':>8} {'phase':<12} {'endpoint':<32} {'calls':>6} {'min':>5} {'ratio':>6} {'429s':>5} "
          f"{'req/s':>6} {'allowed':>7} {'windows':>7} {'use':>5} {'wall s':>7} {'RSS MB':>7}")
    for r in rows:
        for endpoint in sorted(set(r["calls"]) | set(r["minimum"])):
            print(f"{r['size']:>8} {r['phase']:<12} {endpoint:<32} {r['calls'].get(endpoint, 0):>6} "
                  f"{r['minimum'].get(endpoint, 0):>5}")
        print(
            f"{r['size']:>8} {r['phase']:<12} {'TOTAL':<32} {r['total']:>6} {r['minimum_total']:>5} "
            f"{r['total'] / r['minimum_total']:>6.3f} {r['429s']:>5} {r['rate_per_s']:>6.2f} {r['allowed_per_s']:>7.2f} "
            f"{r['windows']:>7} {r['use']:>5.0%} {r['wall_s']:>7.1f} {r['rss_mb']:>7.1f}"
        )
    print(json.dumps(rows, default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
