"""Benchmark: ``arconnect serve`` at firm scale, against loopback Exact sandboxes (issue 15 §4).

An accountancy firm: ``--credentials`` Exact logins, each reaching ``--divisions`` divisions (default 4 x 500
= 2,000 connections). Most divisions are small, one in ten is medium, and ``--big`` of each credential hold
``--big-terms`` payment terms (default 50,000). Each credential has a sandbox process of its own with
Exact's documented limits (60 calls a minute and 5,000 a day per division, 200 token calls a day per
user; docs/reference/exact.md §1.4, §8) and is linked over the real OAuth redirect. Every connection
syncs every ``--interval`` minutes (default 15) on PostgreSQL (or ``--database sqlite``, in-process only);
``arconnect serve`` runs for ``--minutes``
of real time (the run is bounded: everything it started is stopped at the end, whatever happened), in
each of the ``--modes``:

* ``inproc``: one ``arconnect serve --workers N`` process (APScheduler thread pool);
* ``celery``: one ``arconnect serve --role scheduler`` (the leader, it only enqueues) and two
  ``arconnect serve --role worker --workers N`` processes, each running one Celery worker child, on the
  Redis at ``--redis`` (started here when nothing answers there, and stopped again).

Printed per mode, from the store's run records and the sandboxes' own counts:

* when every connection's first full sync was done (minutes after serve started);
* the share of connections with a successful sync in the last ``--interval`` minutes, at every minute
  after that (and its lowest value);
* runs and API calls per minute (the store's count, and the sandboxes' count with token calls), 429s;
* token calls per credential per day, projected from the run (Exact allows 200 per user per day);
* peak RSS (``VmHWM``) of every process arconnect ran, and the database size.

    .venv/bin/python bench/serve.py [--credentials 4] [--divisions 500] [--big 1] [--big-terms 50000]
                                    [--interval 15] [--minutes 30] [--modes inproc,celery] [--workers 8]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connector.cli.demo import _FormParser, free_port  # noqa: E402
from connector.sandbox import wait_for_port  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "arconnect-bench", "bench-secret"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

SANDBOX = """
import sys, time
from adapters.exact.sandbox import ExactSandbox
from adapters.exact.sandbox_admin import install
from adapters.exact.sandbox_data import DivisionSpec
from connector.sandbox import serve
port, first, count, big, big_terms, redirect = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                                int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])

def size(i):
    if i < big:
        return 2_000, big_terms               # a few large clients
    if i % 10 == 0:
        return 150, 1_500                     # one in ten medium
    return 20, 80                             # most are small

specs = tuple(DivisionSpec(code=first + i, description=f"Klant {first + i} B.V.", accounts=size(i)[0],
                           terms=size(i)[1]) for i in range(count))
app = ExactSandbox(divisions=specs)  # Exact's own limits: 60/min and 5,000/day a division, 200 token calls a day
install(app)
app.register_client(sys.argv[7], sys.argv[8], redirect)
serve(app, port=port)
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def tick_all(url: str) -> None:
    """The person at Exact's consent page keeps every division ticked and presses Allow."""

    def run() -> None:
        with httpx.Client(follow_redirects=False, timeout=60) as browser:
            page = browser.get(url)
            form = _FormParser()
            form.feed(page.text)
            fields = [(k, v) for k, v in form.fields if k != "division"]
            fields += [("division", code) for code in re.findall(r'name="division" value="(\d+)"', page.text)]
            answer = browser.post(urljoin(str(page.url), form.action or ""), content=urlencode(fields),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
            browser.get(answer.headers["location"])

    threading.Thread(target=run, daemon=True).start()


def proc_status(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def sandbox_stats(url: str) -> tuple[Counter[str], int]:
    stats = httpx.get(f"{url}/_sandbox/stats", timeout=60).json()
    calls = Counter({k: int(v) for k, v in stats.get("calls", {}).items()})
    return calls, int(stats.get("status", {}).get("429", 0))


@dataclass
class Processes:
    """Every process a run started, stopped in reverse order whatever happens."""

    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)

    def start(self, label: str, command: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
        out: Any = subprocess.DEVNULL
        if log is not None:
            out = log.open("wb")
            self.logs.append(out)
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.started.append((label, process))
        return process

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for _, process in reversed(self.started):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # its own session: the Celery child goes too
                process.wait()
        for log in self.logs:
            log.close()


def ensure_redis(url: str, procs: Processes, work: Path) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return
    except redis.exceptions.ConnectionError:
        pass
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit(f"no Redis answers at {url} and redis-server is not installed")
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    procs.start("redis", [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", str(work)], dict(os.environ))
    wait_for_port("127.0.0.1", port, timeout=30)


def one(args: argparse.Namespace, mode: str) -> dict[str, Any]:
    from connector import config as cfg
    from connector.runtime import link_package

    work = Path(tempfile.mkdtemp(prefix=f"arconnect-bench-firm-{mode}-"))
    pg_name = f"arconnect_bench_{uuid.uuid4().hex[:8]}"
    queue = f"arconnect-bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "ARCONNECT_DATA_DIR": str(work / "data"), "ARCONNECT_CONFIG_DIR": str(work / "config"),
           "ARCONNECT_SECRET_STORE": "plain-file", "ARCONNECT_QUEUE": queue}
    if args.database == "postgresql":
        env["ARCONNECT_DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
    else:
        env.pop("ARCONNECT_DATABASE_URL", None)
        os.environ.pop("ARCONNECT_DATABASE_URL", None)
        if mode != "inproc":
            raise SystemExit("Celery workers on several processes need PostgreSQL: --modes inproc with --database sqlite")
    os.environ.update(env)
    import psycopg

    if args.database == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{pg_name}"')
    procs = Processes()
    sandboxes: list[str] = []
    try:
        link_seconds: list[float] = []
        for index in range(args.credentials):
            port, redirect = free_port(), f"http://127.0.0.1:{free_port()}/callback"
            first = 100_000 + index * 10_000
            procs.start(f"sandbox-{index}", [sys.executable, "-c", SANDBOX, str(port), str(first), str(args.divisions),
                                             str(args.big), str(args.big_terms), redirect, CLIENT_ID, CLIENT_SECRET], env)
            wait_for_port("127.0.0.1", port, timeout=120)
            url = f"http://127.0.0.1:{port}"
            sandboxes.append(url)
            began = time.monotonic()
            link_package("exact", region="nl", client_id=CLIENT_ID, redirect_uri=redirect,
                         credential_name=f"firm-{index}", host=url, open_browser=True, divisions=[],
                         say=lambda _l: None, opener=tick_all, client_secret_value=CLIENT_SECRET)
            link_seconds.append(time.monotonic() - began)
        config = cfg.load_config()
        for name, connection in config.connections.items():
            config.connections[name] = connection.model_copy(update={"sync_every_minutes": args.interval})
        cfg.save_config(config)
        total = len(config.connections)
        assert total == args.credentials * args.divisions, total
        before = [sandbox_stats(url) for url in sandboxes]
        cli = [sys.executable, "-c", "from connector.cli.main import main; main()", "serve", "--log-format", "json"]
        serving: list[tuple[str, subprocess.Popen[bytes]]] = []
        if mode == "inproc":
            serving.append(("serve", procs.start("serve", [*cli, "--workers", str(args.workers)], env, work / "serve.log")))
        else:
            ensure_redis(args.redis, procs, work)
            broker = ["--broker", args.redis]
            serving.append(("scheduler", procs.start("scheduler", [*cli, *broker, "--role", "scheduler"], env,
                                                     work / "scheduler.log")))
            for k in range(2):
                serving.append((f"worker-{k}", procs.start(f"worker-{k}", [*cli, *broker, "--role", "worker",
                                                                          "--workers", str(args.workers)], env,
                                                           work / f"worker-{k}.log")))
        started = datetime.now(UTC)
        deadline = time.monotonic() + args.minutes * 60
        peaks: dict[str, float] = {}
        while time.monotonic() < deadline:
            time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
            for label, process in serving:
                peaks[label] = max(peaks.get(label, 0.0), proc_status(process.pid, "VmHWM"))
                for n, child in enumerate(children(process.pid)):
                    key = f"{label} child {n + 1}"
                    peaks[key] = max(peaks.get(key, 0.0), proc_status(child, "VmHWM"))
        ended = datetime.now(UTC)
        after = [sandbox_stats(url) for url in sandboxes]
        for _, process in serving:
            procs.stop(process)
        return measure(args, mode, total, started, ended, before, after, peaks, link_seconds, pg_name)
    finally:
        procs.stop_all()
        _drop_queue(args.redis, queue)
        if args.database == "postgresql":
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


def _drop_queue(url: str, queue: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.delete(queue, *client.keys(f"_kombu.binding*.{queue}"), *client.keys(f"{queue}*"))
        client.close()
    except Exception as exc:  # the queue is the bench's own; a Redis that is gone has nothing to clean
        print(f"(could not clean the queue {queue}: {type(exc).__name__})", file=sys.stderr)


def measure(args: argparse.Namespace, mode: str, total: int, started: datetime, ended: datetime,
            before: list[tuple[Counter[str], int]], after: list[tuple[Counter[str], int]],
            peaks: dict[str, float], link_seconds: list[float], pg_name: str) -> dict[str, Any]:
    import psycopg

    from connector import config as cfg
    from connector.store import Store

    with Store(cfg.database_url()) as store:
        runs = [r for r in store.runs(limit=10_000_000) if r.started_at >= started]
    if args.database == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            found = admin.execute("SELECT pg_database_size(%s)", (pg_name,)).fetchone()
        size = int(found[0]) if found else 0
    else:
        size = sum(p.stat().st_size for p in cfg.data_dir().glob("arconnect.db*"))
    minutes = (ended - started).total_seconds() / 60
    ok = [r for r in runs if r.kind == "sync" and r.outcome == "ok" and r.finished_at is not None]
    first_done: dict[str, datetime] = {}
    for run in ok:
        assert run.finished_at is not None
        if run.connection_id not in first_done or run.finished_at < first_done[run.connection_id]:
            first_done[run.connection_id] = run.finished_at
    all_first = max(first_done.values()) if len(first_done) == total else None
    window = timedelta(minutes=args.interval)
    fresh: list[tuple[int, float]] = []
    if all_first is not None:
        mark = started + timedelta(minutes=math.ceil((all_first - started).total_seconds() / 60))
        finished = sorted((r.finished_at, r.connection_id) for r in ok if r.finished_at is not None)
        while mark <= ended:
            recent = {c for at, c in finished if mark - window < at <= mark}
            fresh.append((round((mark - started).total_seconds() / 60), len(recent) / total))
            mark += timedelta(minutes=1)
    calls_api = sum(
        sum(v for k, v in a[0].items() if not k.startswith(("_sandbox", "oauth2/"))) -
        sum(v for k, v in b[0].items() if not k.startswith(("_sandbox", "oauth2/")))
        for a, b in zip(after, before, strict=True))
    tokens = [a[0]["oauth2/token"] - b[0]["oauth2/token"] for a, b in zip(after, before, strict=True)]
    per_minute = Counter(int((r.finished_at - started).total_seconds() // 60) for r in ok if r.finished_at)
    return {
        "mode": mode,
        "connections": total,
        "link_s": max(link_seconds),
        "all_first_synced_min": None if all_first is None else (all_first - started).total_seconds() / 60,
        "first_synced": len(first_done),
        "fresh": fresh,
        "fresh_min": min((share for _, share in fresh), default=float("nan")),
        "runs": len(runs),
        "failed": sum(1 for r in runs if r.outcome not in ("ok", None)),
        "runs_per_min": len(runs) / minutes,
        "runs_by_minute": [per_minute.get(m, 0) for m in range(int(minutes) + 1)],
        "api_calls_per_min": sum(r.api_calls for r in runs) / minutes,
        "sandbox_calls_per_min": calls_api / minutes,
        "429s": sum(a[1] - b[1] for a, b in zip(after, before, strict=True)) + sum(r.rate_limited for r in runs),
        "token_calls_per_credential_day": max(tokens) / minutes * 1440 if tokens else 0.0,
        "token_calls": tokens,
        "peak_rss_mb": peaks,
        "db_mb": size / 2**20,
        "minutes": minutes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--credentials", type=int, default=4)
    parser.add_argument("--divisions", type=int, default=500, help="divisions per credential")
    parser.add_argument("--big", type=int, default=1, help="divisions per credential with --big-terms terms")
    parser.add_argument("--big-terms", type=int, default=50_000)
    parser.add_argument("--interval", type=int, default=15, help="sync_every_minutes")
    parser.add_argument("--minutes", type=float, default=30, help="real minutes each mode is served")
    parser.add_argument("--modes", default="inproc,celery")
    parser.add_argument("--workers", type=int, default=8, help="threads of the in-process pool / of each Celery worker")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    rows = [one(args, mode) for mode in args.modes.split(",")]
    print(f"\n{rows[0]['connections']} connections ({args.credentials} credentials x {args.divisions} divisions, "
          f"{args.big} a credential with {args.big_terms} terms), sync every {args.interval} min, {args.database}, "
          f"{args.minutes:g} min served per mode, {args.workers} workers")
    columns = ["mode", "link_s", "all_first_synced_min", "fresh_min", "runs", "failed", "runs_per_min",
               "api_calls_per_min", "sandbox_calls_per_min", "429s", "token_calls_per_credential_day", "db_mb"]
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join("-" if row[c] is None else f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c])
                         for c in columns))
    for row in rows:
        print(f"\n{row['mode']}: fresher than {args.interval} min at each minute after all first syncs: "
              + ", ".join(f"{m}: {share:.1%}" for m, share in row["fresh"]))
        print(f"{row['mode']}: sync runs finished per minute: {row['runs_by_minute']}")
        print(f"{row['mode']}: token calls per credential in {row['minutes']:.1f} min: {row['token_calls']}")
        print(f"{row['mode']}: peak RSS (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(row["peak_rss_mb"].items())))
        print(f"{row['mode']}: first syncs done: {row['first_synced']} of {row['connections']}")


if __name__ == "__main__":
    main()
