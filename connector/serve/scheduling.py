"""APScheduler 3 wiring for ``arconnect serve`` (issue 6 §1).

Jobs are declared from the configuration at start, each with an explicit id, ``replace_existing``,
``coalesce`` (a backlog of missed runs becomes one run), ``max_instances=1`` and a stated
``misfire_grace_time``. They reference plain functions by name (``connector.serve.jobs:sync_job``), or,
with a distributed engine, ``connector.serve.distributed:enqueue`` that only puts the job on the queue.

APScheduler 3 forbids two schedulers sharing a job store (APScheduler 3 user guide, "Limitations"),
so the jobs live in memory and only one process schedules: the **leader**, the holder of a database
lock (:class:`Leadership`: a PostgreSQL advisory lock held by a session, or a lock file beside the
SQLite database). The others stand by (or, with a queue, only work) and try again every few
seconds; a new leader rebuilds every job from the configuration, so nothing depends on the old one.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import filelock
import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from connector import config as cfg
from connector.store.lease import lock_dir, runner_id

log = logging.getLogger("arconnect.serve")

#: A sync that could not start within 2 minutes of its time is dropped: the next interval comes soon.
SYNC_MISFIRE_GRACE_SECONDS: Final = 120
#: The daily dunning run may start up to 2 hours late (e.g. a scheduler that was busy or paused).
DUNNING_MISFIRE_GRACE_SECONDS: Final = 2 * 3600
KEEPALIVE_MISFIRE_GRACE_SECONDS: Final = 3600
KEEPALIVE_EVERY_HOURS: Final = 6
#: The syncs of one interval are spread evenly over it (so 2,000 connections every 15 minutes start
#: about 0.45 s apart, in every cycle, instead of all at once), at most this many seconds apart (so a
#: handful of connections still all sync within their first minute).
MAX_SYNC_GAP_SECONDS: Final = 5.0
#: The first sync starts this long after the scheduler, after the credential checks of the cycle.
FIRST_SYNC_AFTER_SECONDS: Final = 5.0
#: Kept for the keep-alive's first run: after the first syncs have begun.
START_SPREAD_SECONDS: Final = 30.0
#: Leader key of the PostgreSQL advisory lock ("arcsched").
LEADER_KEY: Final = 0x6172637363686564

Mode = Literal["direct", "enqueue"]


class BusinessDayTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at ``hour:minute`` in ``timezone`` on the business days of ``country`` only.

    A cron trigger for Monday to Friday, whose fire times on public holidays
    (``rules.calendar.is_business_day``, the ``holidays`` package underneath) are passed over.
    """

    __slots__ = ("country", "cron", "hour", "minute", "timezone")

    def __init__(self, hour: int, minute: int, timezone: str, country: str) -> None:
        self.hour, self.minute = hour, minute
        self.timezone: tzinfo = ZoneInfo(timezone)
        self.country = country
        self.cron = CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute, timezone=self.timezone)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        from rules.calendar import is_business_day

        candidate: datetime | None = self.cron.get_next_fire_time(previous_fire_time, now)
        for _ in range(400):  # at most a year of holidays in a row: never
            if candidate is None or is_business_day(candidate.astimezone(self.timezone).date(), self.country):
                return candidate
            after = candidate + timedelta(seconds=1)
            candidate = self.cron.get_next_fire_time(candidate, after)
        return None

    def __str__(self) -> str:
        return f"business days of {self.country} at {self.hour:02d}:{self.minute:02d} ({self.timezone})"

    def __repr__(self) -> str:
        return f"<BusinessDayTrigger ({self})>"


@dataclass(frozen=True)
class JobSpec:
    """One job as declared from the configuration (what ``build_scheduler`` adds)."""

    id: str
    func: str
    args: tuple[str, ...]
    trigger: BaseTrigger
    misfire_grace_time: int
    first_run: datetime | None = None


def _func(mode: Mode, job: str) -> tuple[str, tuple[str, ...]]:
    if mode == "direct":
        return f"connector.serve.jobs:{job}_job", ()
    return "connector.serve.distributed:enqueue", (job,)


def sync_offsets(config: cfg.Config) -> dict[str, float]:
    """Seconds after the scheduler's start of each connection's first sync: the connections of one
    interval evenly over it, in name order, at most :data:`MAX_SYNC_GAP_SECONDS` apart. Each keeps its
    place in every later cycle, so the load stays even (and with it the package's per-minute budget)."""
    groups: dict[int, list[str]] = {}
    for name in sorted(config.connections):
        groups.setdefault(config.connections[name].sync_every_minutes, []).append(name)
    offsets: dict[str, float] = {}
    for minutes, members in groups.items():
        gap = min(MAX_SYNC_GAP_SECONDS, minutes * 60 / len(members))
        for index, name in enumerate(members):
            offsets[name] = FIRST_SYNC_AFTER_SECONDS + gap * index
    return offsets


def check_intervals(config: cfg.Config) -> dict[str, int]:
    """Credentials whose package has a :class:`~connector.packages.CredentialCheck`, each with the shortest
    sync interval of its connections: its check runs once per cycle, at the cycle's start."""
    from connector.packages import package_spec

    intervals: dict[str, int] = {}
    for connection in config.connections.values():
        if package_spec(connection.package).credential_check is None:
            continue
        current = intervals.get(connection.credential)
        minutes = connection.sync_every_minutes
        intervals[connection.credential] = minutes if current is None else min(current, minutes)
    return intervals


def job_specs(config: cfg.Config, *, mode: Mode = "direct", now: datetime | None = None) -> list[JobSpec]:
    """Every job of the configuration: per connection a sync and (with ``apply_at``) a dunning run,
    per credential a token keep-alive and, where the package has one, the cycle's credential check
    (Exact: every division's move date in one paged read, handed to each sync)."""
    start = now or datetime.now(ZoneInfo("UTC"))
    names = sorted(config.connections)
    offsets = sync_offsets(config)
    specs: list[JobSpec] = []
    for name in names:
        connection = config.connections[name]
        func, prefix = _func(mode, "sync")
        spread = offsets[name]
        specs.append(
            JobSpec(
                id=f"sync:{name}",
                func=func,
                args=(*prefix, name),
                trigger=IntervalTrigger(minutes=connection.sync_every_minutes, start_date=start, timezone="UTC"),
                misfire_grace_time=SYNC_MISFIRE_GRACE_SECONDS,
                first_run=start + timedelta(seconds=spread),
            )
        )
        if connection.apply_at:
            hour, minute = (int(part) for part in connection.apply_at.split(":"))
            func, prefix = _func(mode, "dunning")
            specs.append(
                JobSpec(
                    id=f"dunning:{name}",
                    func=func,
                    args=(*prefix, name),
                    trigger=BusinessDayTrigger(hour, minute, connection.timezone, connection.country),
                    misfire_grace_time=DUNNING_MISFIRE_GRACE_SECONDS,
                )
            )
    used = sorted({config.connections[n].credential for n in names})
    for index, (credential, minutes) in enumerate(sorted(check_intervals(config).items())):
        func, prefix = _func(mode, "check")
        specs.append(
            JobSpec(
                id=f"check:{credential}",
                func=func,
                args=(*prefix, credential),
                trigger=IntervalTrigger(minutes=minutes, start_date=start, timezone="UTC"),
                misfire_grace_time=SYNC_MISFIRE_GRACE_SECONDS,
                first_run=start + timedelta(seconds=min(FIRST_SYNC_AFTER_SECONDS, 0.1 * index)),
            )
        )
    for credential in used:
        func, prefix = _func(mode, "keepalive")
        specs.append(
            JobSpec(
                id=f"keepalive:{credential}",
                func=func,
                args=(*prefix, credential),
                trigger=IntervalTrigger(hours=KEEPALIVE_EVERY_HOURS, start_date=start, timezone="UTC"),
                misfire_grace_time=KEEPALIVE_MISFIRE_GRACE_SECONDS,
                first_run=start + timedelta(seconds=START_SPREAD_SECONDS + 30),
            )
        )
    return specs


def build_scheduler(config: cfg.Config, *, workers: int = 4, mode: Mode = "direct") -> BlockingScheduler:
    """A BlockingScheduler with a thread pool of ``workers`` and every job of the configuration."""
    scheduler = BlockingScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    for spec in job_specs(config, mode=mode):
        extra: dict[str, Any] = {} if spec.first_run is None else {"next_run_time": spec.first_run}
        scheduler.add_job(
            spec.func,
            trigger=spec.trigger,
            args=list(spec.args),
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.misfire_grace_time,
            **extra,
        )
    return scheduler


# --------------------------------------------------------------------------- leadership


class Leadership:
    """The scheduler's lock: one leader per database, across processes and machines."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._pg = make_url(database_url).get_backend_name() == "postgresql"
        self._conn: sa.Connection | None = None
        self._engine: sa.Engine | None = None
        self._file: filelock.BaseFileLock | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_acquire(self) -> bool:
        """Become the leader if nobody is; True when this process now leads."""
        if self.held:
            return True
        if self._pg:
            parsed = make_url(self.url)
            if parsed.drivername in ("postgresql", "postgres"):
                parsed = parsed.set(drivername="postgresql+psycopg")
            self._engine = self._engine or sa.create_engine(
                parsed, poolclass=NullPool, connect_args={"application_name": f"arconnect leader {runner_id()}"[:63]}
            )
            conn = self._engine.connect()
            conn.execution_options(isolation_level="AUTOCOMMIT")
            if conn.execute(sa.select(sa.func.pg_try_advisory_lock(LEADER_KEY))).scalar_one():
                self._conn = conn
                return True
            conn.close()
            return False
        path = Path(lock_dir(self.url)) / "scheduler.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(path), timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            return False
        self._file = lock
        return True

    def alive(self) -> bool:
        """Still the leader? (False when the database session holding the lock is gone.)"""
        if self._file is not None:
            return True
        if self._conn is None:
            return False
        try:
            self._conn.execute(sa.select(1))
            return True
        except sa.exc.DBAPIError:
            self.release()
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):  # a dead session released the lock already
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock(LEADER_KEY)))
            with contextlib.suppress(sa.exc.DBAPIError):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.release()
            self._file = None

    def close(self) -> None:
        self.release()
        if self._engine is not None:
            self._engine.dispose()


def wait_for_leadership(leadership: Leadership, stop: Callable[[], bool], poll_seconds: float) -> bool:
    """Try every ``poll_seconds`` until leading (True) or ``stop()`` (False)."""
    announced = False
    while not stop():
        if leadership.try_acquire():
            return True
        if not announced:
            log.info("another process schedules; standing by (trying every %g s)", poll_seconds)
            announced = True
        deadline = time.monotonic() + poll_seconds
        while time.monotonic() < deadline and not stop():
            time.sleep(min(0.2, poll_seconds))
    return False
