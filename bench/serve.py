"""Benchmark: ``arconnect serve`` with many connections against loopback Exact sandboxes.

Sandboxes run in processes of their own (``--sandboxes`` of them, the divisions split between
them), each with Exact's documented limits (60 calls a minute per division, docs/reference/exact.md §8)
and its ``/_sandbox/stats`` control path. One credential per sandbox is linked over the real OAuth
redirect (every division ticked on the consent page), every connection syncs every minute, and one
``arconnect serve`` process (in-process worker pool of ``--workers`` threads) runs for
``--seconds``. Printed, per configuration:

* sync runs finished per minute, over the whole run and after the first minute (the first minute
  holds the full syncs, later ones are incremental), and the share of runs that failed;
* API calls per minute, from the store's run records and from the sandboxes' own counts (token
  calls included there), and 429s;
* run duration (median, p95) and how late the last connection's first sync finished;
* the serve process's peak RSS (``VmHWM``).

    .venv/bin/python bench/serve.py [--connections 200] [--sandboxes 4] [--workers 8,16]
                                    [--seconds 150] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.cli.demo import _FormParser, free_port  # noqa: E402
from connector.sandbox import wait_for_port  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "arconnect-bench", "bench-secret"

SANDBOX = """
import sys, time
from adapters.exact.sandbox import ExactSandbox
from adapters.exact.sandbox_admin import install
from adapters.exact.sandbox_data import DivisionSpec
from connector.sandbox import serve
port, first, count, redirect = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
specs = tuple(DivisionSpec(code=first + i, description=f"Bench {first + i} B.V.", accounts=10, terms=30)
              for i in range(count))
app = ExactSandbox(divisions=specs, token_daily_limit=100_000)
install(app)
app.register_client(sys.argv[5], sys.argv[6], redirect)
serve(app, port=port)
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def tick_all(url: str) -> None:
    """The person at Exact's consent page keeps every division ticked and presses Allow."""

    def run() -> None:
        with httpx.Client(follow_redirects=False, timeout=30) as browser:
            page = browser.get(url)
            form = _FormParser()
            form.feed(page.text)
            fields = [(k, v) for k, v in form.fields if k != "division"]
            fields += [("division", code) for code in re.findall(r'name="division" value="(\d+)"', page.text)]
            answer = browser.post(urljoin(str(page.url), form.action or ""), content=urlencode(fields),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
            browser.get(answer.headers["location"])

    threading.Thread(target=run, daemon=True).start()


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sandbox_calls(url: str) -> tuple[int, int]:
    stats = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()
    calls = sum(int(v) for k, v in stats.get("calls", {}).items() if not k.startswith("_sandbox"))
    return calls, int(stats.get("status", {}).get("429", 0))


def one(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    from connector import config as cfg
    from connector.runtime import link_package
    from connector.store import Store

    work = Path(tempfile.mkdtemp(prefix="arconnect-bench-serve-"))
    env = {"ARCONNECT_DATA_DIR": str(work / "data"), "ARCONNECT_CONFIG_DIR": str(work / "config"),
           "ARCONNECT_SECRET_STORE": "plain-file"}
    pg_name = None
    if args.database == "postgresql":
        import psycopg

        pg_name = f"arconnect_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{pg_name}"')
        env["ARCONNECT_DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
    os.environ.update(env)
    sandboxes: list[tuple[subprocess.Popen[bytes], str]] = []
    per = -(-args.connections // args.sandboxes)
    try:
        for index in range(args.sandboxes):
            count = min(per, args.connections - index * per)
            port, redirect = free_port(), f"http://127.0.0.1:{free_port()}/callback"
            process = subprocess.Popen(
                [sys.executable, "-c", SANDBOX, str(port), str(1000 + index * per), str(count), redirect,
                 CLIENT_ID, CLIENT_SECRET], cwd=ROOT, stdout=subprocess.DEVNULL)
            wait_for_port("127.0.0.1", port, timeout=60)
            url = f"http://127.0.0.1:{port}"
            sandboxes.append((process, url))
            link_package("exact", region="nl", client_id=CLIENT_ID, redirect_uri=redirect,
                         credential_name=f"bench-{index}", host=url, open_browser=True, divisions=[],
                         say=lambda _l: None, opener=tick_all, client_secret_value=CLIENT_SECRET)
        config = cfg.load_config()
        for name, connection in config.connections.items():
            config.connections[name] = connection.model_copy(update={"sync_every_minutes": 1})
        cfg.save_config(config)
        assert len(config.connections) == args.connections, len(config.connections)
        before = [sandbox_calls(url) for _, url in sandboxes]
        log = (work / "serve.log").open("wb")
        serve = subprocess.Popen(
            [sys.executable, "-c", "from connector.cli.main import main; main()", "serve", "--workers", str(workers),
             "--log-format", "json"], cwd=ROOT, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT)
        started = time.monotonic()
        time.sleep(args.seconds)
        peak = vm_hwm_mb(serve.pid)
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=120)
        log.close()
        after = [sandbox_calls(url) for _, url in sandboxes]
        wall = time.monotonic() - started
        with Store(cfg.database_url()) as store:
            finished = [(r, r.finished_at) for r in store.runs(limit=1_000_000) if r.finished_at is not None]
        runs = [r for r, _ in finished]
        first = min(r.started_at for r in runs)
        after_first_minute = first + timedelta(seconds=60)
        later = [(r, end) for r, end in finished if r.started_at >= after_first_minute]
        later_span = max((end for _, end in later), default=after_first_minute) - after_first_minute
        durations = sorted((end - r.started_at).total_seconds() for r, end in finished)
        first_done = max(min(end for r, end in finished if r.connection_id == c) for c in {r.connection_id for r in runs})
        return {
            "workers": workers,
            "database": args.database,
            "runs": len(runs),
            "runs_per_min": len(runs) / (wall / 60),
            "runs_per_min_after_1st": len(later) / max(1e-9, later_span.total_seconds() / 60),
            "failed": sum(1 for r in runs if r.outcome != "ok"),
            "api_calls_per_min": sum(r.api_calls for r in runs) / (wall / 60),
            "sandbox_calls_per_min": sum(a[0] - b[0] for a, b in zip(after, before, strict=True)) / (wall / 60),
            "429s": sum(r.rate_limited for r in runs),
            "median_s": statistics.median(durations),
            "p95_s": durations[int(0.95 * (len(durations) - 1))],
            "all_first_synced_s": (first_done - first).total_seconds(),
            "peak_rss_mb": peak,
        }
    finally:
        for process, _ in sandboxes:
            process.kill()
            process.wait()
        if pg_name:
            import psycopg

            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--sandboxes", type=int, default=4)
    parser.add_argument("--workers", default="8,16")
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    rows = [one(args, int(w)) for w in args.workers.split(",")]
    columns = ["workers", "database", "runs", "runs_per_min", "runs_per_min_after_1st", "failed",
               "api_calls_per_min", "sandbox_calls_per_min", "429s", "median_s", "p95_s",
               "all_first_synced_s", "peak_rss_mb"]
    print(f"{args.connections} connections, sync every minute, {args.sandboxes} sandbox processes, {args.seconds:g} s each")
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c]) for c in columns))


if __name__ == "__main__":
    main()
