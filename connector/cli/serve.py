"""``arconnect serve`` and ``arconnect status`` (issue 6).

``serve`` checks the secret store first (a headless machine without a keyring backend stops with
one line saying how to configure one), then either leads (schedules every job of the
configuration) or stands by until the leader goes away. With ``--broker`` it also runs a Celery
worker child and the leader only enqueues (connector.serve.distributed).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated, Any

import typer
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from rich import box
from rich.console import Console
from rich.table import Table

from connector import config as cfg
from connector.cli.console import plain, safe
from connector.errors import ConfigError

log = logging.getLogger("arconnect.serve")
out = Console()


class _Worker:
    """A Celery worker child process, restarted when it dies."""

    def __init__(self, concurrency: int) -> None:
        from connector.serve.distributed import worker_command
        from connector.store.lease import runner_id

        self.command = worker_command(concurrency, f"arconnect-{runner_id().replace(':', '-')}")
        self.process: subprocess.Popen[bytes] | None = None

    def ensure(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if self.process is not None:
            log.error("the worker process stopped (exit %s); starting it again", self.process.returncode)
        self.process = subprocess.Popen(self.command, env=os.environ.copy())
        log.info("worker process %d started", self.process.pid)

    def stop(self, timeout: float = 60.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # Celery's warm shutdown: finish running jobs
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_serve(*, workers: int, broker: str | None, role: str, poll_seconds: float) -> None:
    from connector.auth import open_secret_store
    from connector.runtime import open_store
    from connector.serve.jobs import close_resources
    from connector.serve.scheduling import Leadership, build_scheduler, wait_for_leadership

    open_secret_store()  # KeyringUnavailable: one clear line, exit code 2 (connector.cli.main)
    config = cfg.load_config()
    if not config.connections:
        raise ConfigError("no connections to serve yet: run 'arconnect link exact' first")
    if role != "all" and not broker:
        raise ConfigError(f"--role {role} needs a job queue: pass --broker or set ARCONNECT_BROKER_URL")
    open_store().close()  # migrate once, before any job runs
    if broker:
        os.environ["ARCONNECT_BROKER_URL"] = broker
    stop = threading.Event()
    current: list[BlockingScheduler] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the running jobs", signum)
        stop.set()
        for scheduler in current:
            if scheduler.running:
                # Not in the handler itself: shutdown(wait=True) blocks until the running jobs end,
                # and only then lets the scheduler's main loop (this thread) return.
                threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = _Worker(workers) if broker and role in ("all", "worker") else None
    leadership = Leadership(cfg.database_url())
    try:
        if worker is not None:
            worker.ensure()
        if role == "worker":
            while not stop.wait(poll_seconds):
                if worker is not None:
                    worker.ensure()
            return
        while not stop.is_set():
            if not wait_for_leadership(leadership, stop.is_set, poll_seconds):
                break
            config = cfg.load_config()  # a new leader rebuilds every job from the configuration
            scheduler = build_scheduler(config, workers=workers, mode="enqueue" if broker else "direct")
            scheduler.add_executor(ThreadPoolExecutor(max_workers=1), "serve")

            def watch(scheduler: BlockingScheduler = scheduler) -> None:
                if worker is not None:
                    worker.ensure()
                if not leadership.alive():
                    log.error("lost the scheduler lock (database session gone); standing by")
                    scheduler.shutdown(wait=False)

            scheduler.add_job(watch, "interval", seconds=poll_seconds, id="serve:watch", executor="serve",
                              replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=None)
            jobs = len(scheduler.get_jobs()) - 1
            log.info("leading: %d jobs for %d connection(s) scheduled", jobs, len(config.connections),
                     extra={"event": "leader", "jobs": jobs})
            current[:] = [scheduler]
            scheduler.start()
            current.clear()
            leadership.release()
    finally:
        leadership.close()
        if worker is not None:
            worker.stop()
        close_resources()
        log.info("serve stopped")


def _duration(start: datetime, end: datetime | None) -> str:
    if end is None:
        return "running"
    return f"{(end - start).total_seconds():.1f} s"


def _ago(moment: datetime) -> str:
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def status_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(last run of each configured connection and kind, open problems) as JSON-able rows."""
    from connector.runtime import open_store

    config = cfg.load_config()
    store = open_store()
    try:
        latest = store.latest_runs()
        notices = store.notices()
        quarantines = {name: store.quarantine(name) for name in sorted(config.connections)}
    finally:
        store.close()
    runs = []
    for run in latest:
        if run.connection_id not in config.connections:
            continue
        runs.append({
            "connection": run.connection_id, "kind": run.kind, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "outcome": run.outcome or "running", "counts": run.counts, "api_calls": run.api_calls,
            "rate_limited": run.rate_limited, "runner": run.runner, "error": run.error,
        })
    seen = {r["connection"] for r in runs}
    runs += [{"connection": n, "kind": "sync", "outcome": "never run"} for n in sorted(config.connections) if n not in seen]
    problems = [
        {"subject": s, "topic": t, "message": m, "since": first.isoformat(), "last_seen": last.isoformat(), "times": n}
        for s, t, m, first, last, n in notices
    ]
    # Issue 11.6: a record that did not map is missing from every plan and report until it is fixed.
    for name, rows in quarantines.items():
        if rows:
            problems.append({
                "subject": f"connection:{name}", "topic": "quarantine",
                "message": f"{len(rows)} record(s) in quarantine did not map and are missing from plans and reports; "
                           f"see 'arconnect report quarantine {name}', fix them in the package, then sync "
                           f"(or 'arconnect sync --full {name}')",
                "since": min(r.first_seen_at for r in rows).isoformat(),
                "last_seen": max(r.last_seen_at for r in rows).isoformat(),
                "times": max(r.times_seen for r in rows),
            })
    return runs, problems


def desk_rows() -> list[dict[str, str]]:
    """The desk's open matters of every configured connection (connector/actions/desk.py)."""
    from connector.actions.desk import attention
    from connector.runtime import open_store, today

    config = cfg.load_config()
    store = open_store()
    try:
        return attention(store, sorted(config.connections), today())
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        workers: Annotated[int, typer.Option(min=1, help="Jobs run at once by this process")] = 4,
        broker: Annotated[str | None, typer.Option(envvar="ARCONNECT_BROKER_URL", help="Celery broker URL (redis://… or amqp://…) to run jobs on several machines")] = None,
        role: Annotated[str, typer.Option(help="all, scheduler or worker (the last two need --broker)")] = "all",
        log_format: Annotated[str, typer.Option("--log-format", help="text or json")] = "text",
        poll: Annotated[float, typer.Option(min=0.5, help="Seconds between tries to take over scheduling")] = 5.0,
    ) -> None:
        """Run headless: sync every connection on its interval and dun on business days at apply_at."""
        from connector.serve.observability import setup_logging

        if log_format not in ("text", "json"):
            raise ConfigError("--log-format must be text or json")
        if role not in ("all", "scheduler", "worker"):
            raise ConfigError("--role must be all, scheduler or worker")
        setup_logging("json" if log_format == "json" else "text")
        os.environ["ARCONNECT_LOG_FORMAT"] = log_format  # for the worker child (connector.serve.distributed)
        run_serve(workers=workers, broker=broker, role=role, poll_seconds=poll)

    @app.command()
    def status(
        format: Annotated[str, typer.Option(help="table or json")] = "table",
    ) -> None:
        """What ran last for each connection (outcome, counts, API calls, 429s) and what needs attention."""
        if format not in ("table", "json"):
            raise ConfigError("--format must be table or json")
        runs, problems = status_rows()
        desk = desk_rows()
        if format == "json":
            # ASCII JSON: package data in an error never brings a control or bidi character to a terminal.
            typer.echo(json.dumps({"runs": runs, "problems": problems, "desk": desk}, indent=2))
            return
        if not runs:
            out.print("No connections yet: run 'arconnect link exact'.")
            return
        out.print(status_table(runs))
        attention = [
            f"{r['connection']} {r['kind']} ({r['outcome']}): {r['error']}" for r in runs if r.get("error")
        ] + [
            f"{p['subject']}: {p['message']} (since {p['since'][:16]}, seen {p['times']}x)" for p in problems
        ]
        if attention:
            out.print("[bold]Needs attention[/bold]:")
            for line in attention:
                out.print(f"  {plain(line)}", markup=False, highlight=False)
        if desk:
            out.print("[bold]Desk[/bold] (broken promises, missed instalments, disputes past review):")
            for d in desk:
                out.print(f"  {plain(d['connection'])}: {d['what']} #{d['ref']} {plain(d['debtor'])} (since {d['since']})",
                          markup=False, highlight=False)


def _result(run: dict[str, Any]) -> str:
    """A run's counts in a few words: what was stored or done, what failed, API calls and 429s."""
    counts: dict[str, int] = run.get("counts") or {}
    if run["kind"] == "sync":
        stored = sum(v for k, v in counts.items() if k.endswith(".stored"))
        quarantined = sum(v for k, v in counts.items() if k.endswith(".quarantined"))
        parts = [f"{stored} stored"] + ([f"{quarantined} quarantined"] if quarantined else [])
    else:
        parts = [f"{counts[k]} {k.replace('_', ' ')}" for k in ("planned", "done", "failed", "emails") if counts.get(k)]
        parts = parts or ["nothing to do"]
    parts.append(f"{run['api_calls']} API calls" + (f" ({run['rate_limited']}x 429)" if run["rate_limited"] else ""))
    return ", ".join(parts)


def status_table(runs: list[dict[str, Any]]) -> Table:
    """The last runs, narrow enough for 80 columns: the long parts (errors) go below the table."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("connection", ratio=1, overflow="fold")
    table.add_column("run", no_wrap=True)
    table.add_column("when", no_wrap=True)
    table.add_column("took", justify="right", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("result", ratio=2)
    for r in runs:
        if "started_at" not in r:
            table.add_row(safe(r["connection"]), r["kind"], "", "", safe(r["outcome"]), "")
            continue
        started = datetime.fromisoformat(r["started_at"])
        finished = datetime.fromisoformat(r["finished_at"]) if r["finished_at"] else None
        table.add_row(safe(r["connection"]), r["kind"], _ago(started), _duration(started, finished), safe(r["outcome"]),
                      safe(_result(r)))
    return table
