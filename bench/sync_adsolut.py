"""Benchmark: sync an Adsolut dossier from the sandbox: 20,000 customers and 100,000 open items.

The sandbox runs in a process of its own on 127.0.0.1 with one dossier of that size and a rate
limit (ASSUMED, none is published: by default the sandbox's conservative 100 calls a minute per app
and dossier; ``--rate-limit``/``--window`` change it). The client links over the real OAuth redirect
(activation included) and runs ``connector.runtime.sync_connections`` (what ``arconnect sync`` runs)
twice: a full sync, then an incremental one with nothing changed. Printed per sync:

* API calls next to the minimum: ceil(customers / 100) + ceil(open items / 100) for the full sync
  (``Limit`` max 100; the reconcile listing is the delta on a first run), and 4 for an unchanged
  incremental sync (two empty deltas, two ``Limit=1`` count checks);
* 429s answered by the sandbox and retried after ``Retry-After``;
* wall time, and the client's RSS at the start and the end, and its peak.

    .venv/bin/python bench/sync_adsolut.py [--customers 20000] [--items 100000] [--rate-limit 100 --window 60]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.cli.demo import DemoBrowser, free_port  # noqa: E402
from connector.sandbox import wait_for_port  # noqa: E402

CLIENT_ID, SECRET = "bench-client", "bench-secret"

SERVER = textwrap.dedent("""
    import sys, time
    from adapters.adsolut.sandbox import AdsolutSandbox, DEFAULT_DOSSIERS
    from connector.sandbox import serve
    from dataclasses import replace
    port, customers, items, limit, window, redirect = sys.argv[1:7]
    spec = replace(DEFAULT_DOSSIERS[0], customers=int(customers), items=int(items))
    app = AdsolutSandbox(seed=42, dossiers=(spec,), rate_limit=int(limit), rate_window=int(window))
    app.register_client("bench-client", "bench-secret", redirect)
    server = serve(app, port=int(port))
    print("ready", flush=True)
    while True:
        time.sleep(3600)
""")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rate-limit", type=int, default=100)
    parser.add_argument("--window", type=int, default=60)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    home = Path(tempfile.mkdtemp(prefix="arconnect-bench-adsolut-"))
    os.environ.update(ARCONNECT_CONFIG_DIR=str(home / "config"), ARCONNECT_DATA_DIR=str(home / "data"),
                      ARCONNECT_SECRET_STORE="plain-file")
    os.environ.pop("ARCONNECT_DATABASE_URL", None)
    port, redirect = free_port(), f"http://127.0.0.1:{free_port()}/callback"
    started = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), str(args.customers), str(args.items), str(args.rate_limit),
         str(args.window), redirect], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        server.stdout.readline()
        wait_for_port("127.0.0.1", port, timeout=120)
        print(f"sandbox with {args.customers:,} customers and {args.items:,} items ready in "
              f"{time.monotonic() - started:.1f} s; rate limit {args.rate_limit} calls / {args.window} s (ASSUMED)")
        from connector.runtime import link_package, open_store, sync_connections

        [connection] = link_package(
            "adsolut", region="be", client_id=CLIENT_ID, redirect_uri=redirect, credential_name="adsolut-bench",
            host=f"http://127.0.0.1:{port}", open_browser=True, divisions=[], say=lambda _: None,
            opener=DemoBrowser(), client_secret_value=SECRET,
        )
        rows = []
        for label in ("full", "incremental (no change)"):
            rss_start, t0 = rss_mb(), time.monotonic()
            [result] = sync_connections(connection.name)
            seconds = time.monotonic() - t0
            if result.error:
                raise SystemExit(f"sync failed: {result.error}")
            store = open_store()
            try:
                debtors = len(list(store.debtors(connection.name)))
                items = sum(1 for i in store.open_items(connection.name) if not i.open.is_zero())
            finally:
                store.close()
            minimum = math.ceil(debtors / 100) + math.ceil(items / 100) if label == "full" else 4
            rows.append((label, result.stored, result.api_calls, minimum, result.rate_limited, seconds,
                         rss_start, rss_mb(), peak_rss_mb()))
        print()
        print("| sync | stored | API calls | minimum | 429s | time (s) | RSS start / end / peak (MB) |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for label, stored, calls, minimum, limited, seconds, r0, r1, peak in rows:
            print(f"| {label} | {stored:,} | {calls} | {minimum} | {limited} | {seconds:.1f} | "
                  f"{r0:.0f} / {r1:.0f} / {peak:.0f} |")
        print(f"\nopen items in the store: {items:,}; customers: {debtors:,}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
