"""The jobs `serve` declares from the configuration, and the business-day trigger of the dunning run."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connector import config as cfg
from connector.serve.scheduling import (
    DUNNING_MISFIRE_GRACE_SECONDS,
    SYNC_MISFIRE_GRACE_SECONDS,
    BusinessDayTrigger,
    Leadership,
    build_scheduler,
    job_specs,
)

AMS = ZoneInfo("Europe/Amsterdam")
BXL = ZoneInfo("Europe/Brussels")


@pytest.mark.parametrize(
    ("country", "tz", "after", "expected"),
    [
        # an ordinary Tuesday before 09:00 fires the same morning (CET: 08:00 UTC)
        ("NL", AMS, datetime(2026, 12, 1, 7, 0, tzinfo=AMS), datetime(2026, 12, 1, 9, 0, tzinfo=AMS)),
        # after 09:00 on Friday: the weekend is skipped
        ("NL", AMS, datetime(2026, 12, 4, 9, 30, tzinfo=AMS), datetime(2026, 12, 7, 9, 0, tzinfo=AMS)),
        # Thursday 24 Dec 2026 after 09:00: Friday 25 Dec is Christmas, then the weekend
        ("NL", AMS, datetime(2026, 12, 24, 10, 0, tzinfo=AMS), datetime(2026, 12, 28, 9, 0, tzinfo=AMS)),
        # King's Day, Monday 27 April 2026, is a holiday in the Netherlands only
        ("NL", AMS, datetime(2026, 4, 24, 10, 0, tzinfo=AMS), datetime(2026, 4, 28, 9, 0, tzinfo=AMS)),
        ("BE", BXL, datetime(2026, 4, 24, 10, 0, tzinfo=BXL), datetime(2026, 4, 27, 9, 0, tzinfo=BXL)),
        # Easter Monday 6 April 2026 in both countries; Good Friday 3 April is a business day in
        # Belgium but listed for the Netherlands by the holidays package
        ("BE", BXL, datetime(2026, 4, 3, 8, 0, tzinfo=BXL), datetime(2026, 4, 3, 9, 0, tzinfo=BXL)),
        ("BE", BXL, datetime(2026, 4, 3, 10, 0, tzinfo=BXL), datetime(2026, 4, 7, 9, 0, tzinfo=BXL)),
        ("NL", AMS, datetime(2026, 4, 2, 10, 0, tzinfo=AMS), datetime(2026, 4, 7, 9, 0, tzinfo=AMS)),
        # Belgian National Day, Tuesday 21 July 2026
        ("BE", BXL, datetime(2026, 7, 20, 10, 0, tzinfo=BXL), datetime(2026, 7, 22, 9, 0, tzinfo=BXL)),
    ],
)
def test_the_dunning_run_fires_at_apply_at_on_business_days_only(
    country: str, tz: ZoneInfo, after: datetime, expected: datetime
) -> None:
    trigger = BusinessDayTrigger(9, 0, str(tz), country)
    fired = trigger.get_next_fire_time(None, after)
    assert fired == expected
    assert fired is not None and fired.utcoffset() == expected.utcoffset()


def test_summer_time_keeps_the_local_hour() -> None:
    trigger = BusinessDayTrigger(9, 0, "Europe/Amsterdam", "NL")
    winter = trigger.get_next_fire_time(None, datetime(2026, 3, 27, 10, 0, tzinfo=AMS))  # Friday before DST
    assert winter == datetime(2026, 3, 30, 9, 0, tzinfo=AMS)
    assert winter is not None and winter.astimezone(UTC).hour == 7  # CEST: UTC+2


def config_with(tmp_path: Path) -> cfg.Config:
    credential = cfg.CredentialConfig(name="exact-nl", package="exact", host="https://start.exactonline.nl", client_id="x")
    return cfg.Config(
        credentials={"exact-nl": credential},
        connections={
            "exact-101": cfg.ConnectionConfig(name="exact-101", credential="exact-nl", package="exact",
                                              administration="101", sync_every_minutes=10, apply_at="09:30"),
            "exact-202": cfg.ConnectionConfig(name="exact-202", credential="exact-nl", package="exact",
                                              administration="202", country="BE", timezone="Europe/Brussels"),
        },
    )


def test_jobs_are_declared_from_the_configuration_with_explicit_ids_and_stated_limits(tmp_path: Path) -> None:
    scheduler = build_scheduler(config_with(tmp_path), workers=3)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["check:exact-nl", "dunning:exact-101", "keepalive:exact-nl", "sync:exact-101",
                            "sync:exact-202"]
    assert jobs["check:exact-nl"].func_ref == "connector.serve.jobs:check_job"
    assert jobs["check:exact-nl"].trigger.interval == timedelta(minutes=10)  # the credential's shortest interval
    assert jobs["sync:exact-101"].func_ref == "connector.serve.jobs:sync_job"
    assert jobs["sync:exact-101"].args == ("exact-101",)
    assert jobs["sync:exact-101"].trigger.interval == timedelta(minutes=10)
    assert jobs["sync:exact-202"].trigger.interval == timedelta(minutes=15)  # the configuration's default
    assert jobs["dunning:exact-101"].func_ref == "connector.serve.jobs:dunning_job"
    assert str(jobs["dunning:exact-101"].trigger) == "business days of NL at 09:30 (Europe/Amsterdam)"
    assert jobs["keepalive:exact-nl"].func_ref == "connector.serve.jobs:keepalive_job"
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
    assert jobs["sync:exact-101"].misfire_grace_time == SYNC_MISFIRE_GRACE_SECONDS
    assert jobs["dunning:exact-101"].misfire_grace_time == DUNNING_MISFIRE_GRACE_SECONDS


def test_with_a_queue_the_scheduler_only_enqueues(tmp_path: Path) -> None:
    scheduler = build_scheduler(config_with(tmp_path), mode="enqueue")
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {job.func_ref for job in jobs.values()} == {"connector.serve.distributed:enqueue"}
    assert jobs["sync:exact-101"].args == ("sync", "exact-101")
    assert jobs["dunning:exact-101"].args == ("dunning", "exact-101")
    assert jobs["check:exact-nl"].args == ("check", "exact-nl")


def firm(connections: int, minutes: int = 15) -> cfg.Config:
    credentials = {f"firm-{k}": cfg.CredentialConfig(name=f"firm-{k}", package="exact",
                                                     host="https://start.exactonline.nl", client_id="x")
                   for k in range(4)}
    return cfg.Config(credentials=credentials, connections={
        f"exact-{n:05d}": cfg.ConnectionConfig(name=f"exact-{n:05d}", credential=f"firm-{n % 4}", package="exact",
                                               administration=str(n), sync_every_minutes=minutes)
        for n in range(connections)
    })


def test_two_thousand_syncs_are_spread_evenly_over_their_interval_after_the_checks() -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    specs = job_specs(firm(2000), now=start)
    syncs = sorted(s.first_run for s in specs if s.id.startswith("sync:") and s.first_run is not None)
    checks = [s.first_run for s in specs if s.id.startswith("check:") and s.first_run is not None]
    assert len(syncs) == 2000 and len(checks) == 4
    assert max(checks) < syncs[0]  # each cycle's answers are there before its first sync
    gaps = {round((b - a).total_seconds(), 3) for a, b in itertools.pairwise(syncs)}
    assert gaps == {0.45}  # 15 minutes / 2,000
    assert syncs[-1] - syncs[0] < timedelta(minutes=15)
    # no minute of the interval holds more than its share
    per_minute: dict[int, int] = {}
    for moment in syncs:
        minute = int((moment - syncs[0]).total_seconds() // 60)
        per_minute[minute] = per_minute.get(minute, 0) + 1
    assert len(per_minute) == 15 and max(per_minute.values()) <= 134


def test_a_few_connections_start_a_few_seconds_apart_not_minutes() -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    offsets = sorted((s.first_run - start).total_seconds() for s in job_specs(firm(3, minutes=1), now=start)
                     if s.id.startswith("sync:") and s.first_run is not None)
    assert offsets == [5.0, 10.0, 15.0]


def test_only_one_process_leads_per_database_and_another_takes_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}"
    first, second = Leadership(url), Leadership(url)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire() and second.alive()
    finally:
        first.close()
        second.close()
