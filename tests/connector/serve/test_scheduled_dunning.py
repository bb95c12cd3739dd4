"""The dunning run as `serve` schedules it: the job declared from the configuration fires in the
scheduler's worker pool, by reference, and syncs, plans and applies the connection's rules once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from connector import config as cfg
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.config import MailConfig
from connector.runtime import today
from connector.serve.jobs import resources
from connector.serve.scheduling import build_scheduler
from rules.calendar import business_day_in_all
from tests.connector.serve.conftest import ROOT, Linked

NL_RULES = ROOT / "rules" / "examples" / "nl-practice.yaml"


def test_the_scheduled_dunning_job_fires_in_the_pool_and_applies_once(
    linked_factory: Callable[..., Linked], smtp: LocalSmtpServer
) -> None:
    linked: Linked = linked_factory(1, accounts=40, terms=150, rules_file=str(NL_RULES), reminders_sent_by="arconnect",
                                    mail=MailConfig(host="127.0.0.1", port=smtp.port, sender="debiteuren@example.nl"))
    name = linked.connections[0]
    config = cfg.load_config()
    config.connections[name] = config.connections[name].model_copy(update={"apply_at": "09:00"})
    cfg.save_config(config)

    scheduler = build_scheduler(cfg.load_config(), workers=2)
    job = scheduler.get_job(f"dunning:{name}")
    assert job is not None and job.func_ref == "connector.serve.jobs:dunning_job"
    # Fire it now instead of at 09:00 on the next business day, for that business day (the trigger's
    # own day arithmetic is tested in test_scheduling.py).
    run_date = business_day_in_all(today(), ("NL",)).isoformat()
    scheduler.modify_job(job.id, args=[name, run_date], next_run_time=datetime.now(UTC) + timedelta(seconds=0.2))
    for other in scheduler.get_jobs():
        if other.id != job.id:
            scheduler.pause_job(other.id)
    outcomes: list[JobExecutionEvent] = []
    done = threading.Event()

    def listen(event: JobExecutionEvent) -> None:
        if event.job_id == job.id:
            outcomes.append(event)
            done.set()

    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    runner = threading.Thread(target=scheduler.start, daemon=True)
    runner.start()
    try:
        assert done.wait(60), "the dunning job did not fire"
    finally:
        scheduler.shutdown(wait=True)
        runner.join(10)

    [event] = outcomes
    assert event.exception is None
    result = event.retval
    assert result["outcome"] == "ok", result
    assert len(smtp.received) > 0  # reminders went out by e-mail
    assert len({m.message_id for m in smtp.received}) == len(smtp.received)  # each once
    store, _ = resources()
    kinds = [r.kind for r in store.runs(name)]
    assert "apply" in kinds and "sync" in kinds
