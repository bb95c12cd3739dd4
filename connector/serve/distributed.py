"""Scale-out over several machines on Celery (issue 6 §3); README "Running on several machines".

The leader's scheduler only enqueues (:func:`enqueue`); every ``arconnect serve --broker URL``
runs a Celery worker (:func:`worker_command`, a child process) that takes jobs from the queue and
runs the same functions as the in-process pool (``connector.serve.jobs``). Celery was chosen because it
runs on the Redis or RabbitMQ we already operate, is the most used Python job queue, and gives
what a crash needs: ``task_acks_late`` + ``task_reject_on_worker_lost`` put the job of a killed
worker back on the queue (Celery docs, "Should I use retry or acks_late?"), and the connection
lease (connector.store.lease) makes a job delivered twice harmless: the second copy finds the lease
held, or finds nothing left to do.

Settings (environment): ``ARCONNECT_BROKER_URL`` (``redis://127.0.0.1:6379/0`` or
``amqp://guest:guest@127.0.0.1:5672//``), ``ARCONNECT_QUEUE`` (default ``arconnect``),
``ARCONNECT_VISIBILITY_TIMEOUT`` (Redis only: seconds before an unacknowledged job of a dead worker
is delivered again; default 3600, longer than any run).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Final

from celery import Celery, signals  # type: ignore[import-untyped]

from connector.errors import ConfigError
from connector.serve.jobs import JOBS
from connector.serve.observability import setup_logging

BROKER_ENV: Final = "ARCONNECT_BROKER_URL"
QUEUE_ENV: Final = "ARCONNECT_QUEUE"
VISIBILITY_ENV: Final = "ARCONNECT_VISIBILITY_TIMEOUT"
#: A queued sync older than this is dropped by the worker: a newer one is queued by then.
SYNC_EXPIRES_SECONDS: Final = 10 * 60


def queue_name() -> str:
    return os.environ.get(QUEUE_ENV) or "arconnect"


def broker_url() -> str:
    url = os.environ.get(BROKER_ENV)
    if not url:
        raise ConfigError(f"no job queue configured: set {BROKER_ENV} (e.g. redis://127.0.0.1:6379/0) or pass --broker")
    return url


def make_app(broker: str | None = None) -> Any:
    app = Celery("arconnect", broker=broker or os.environ.get(BROKER_ENV) or "redis://127.0.0.1:6379/0")
    app.conf.update(
        task_default_queue=queue_name(),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(os.environ.get(VISIBILITY_ENV) or 3600)},
        task_serializer="json",
        accept_content=["json"],
    )
    return app


app = make_app()
LOG_FORMAT_ENV: Final = "ARCONNECT_LOG_FORMAT"


@signals.setup_logging.connect  # type: ignore[untyped-decorator]
def _worker_logging(**_: Any) -> None:
    """Workers log like ``serve`` (text or JSON, scrubbed); connecting here stops Celery's own setup."""
    setup_logging("json" if os.environ.get(LOG_FORMAT_ENV) == "json" else "text")


@app.task(name="arconnect.run_job")  # type: ignore[untyped-decorator]
def run_job(job: str, *args: str) -> dict[str, Any]:
    """What a worker runs: one of ``connector.serve.jobs.JOBS`` by short name."""
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}")
    return JOBS[job](*args)


def enqueue(job: str, *args: str) -> None:
    """The leader's scheduler job in distributed mode: put ``job(*args)`` on the queue."""
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}")
    options: dict[str, Any] = {"queue": queue_name()}
    if job == "sync":
        options["expires"] = SYNC_EXPIRES_SECONDS
    run_job.apply_async(args=[job, *args], **options)


def worker_command(concurrency: int, name: str) -> list[str]:
    """The command line of one Celery worker process for this configuration."""
    return [
        sys.executable, "-m", "celery", "-A", "connector.serve.distributed:app", "worker",
        "--pool", "threads", "--concurrency", str(concurrency), "--queues", queue_name(),
        "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
    ]
