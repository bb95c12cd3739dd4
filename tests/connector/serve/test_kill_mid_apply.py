"""Killing a worker in the middle of the daily dunning run and running it again sends nothing twice.

The worker is a process running the scheduler's job function (``connector.serve.jobs:dunning_job``, what
the in-process pool and a Celery worker run) against the Exact sandbox on loopback and a real SMTP
server, with the NL practice rules; every sandbox call takes 0.2 s, so the kill lands after some
effects and before the others.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector import config as cfg
from connector.actions.channels.local_smtp import LocalSmtpServer, Received
from connector.config import MailConfig
from connector.model import ApplyOutcome
from connector.runtime import today
from connector.serve.jobs import close_resources, resources, sync_job
from rules.calendar import business_day_in_all
from tests.connector.serve.conftest import ROOT, Linked, wait_until

NL_RULES = ROOT / "rules" / "examples" / "nl-practice.yaml"
JOB = "import sys, json; from connector.serve.jobs import dunning_job; print(json.dumps(dunning_job(*sys.argv[1:])), flush=True)"
#: The scheduler fires the dunning job on business days only (and the job skips any other day), so
#: the test runs it for the next business day whatever day the suite runs on.
RUN_DATE = business_day_in_all(today(), ("NL",)).isoformat()


def effects(linked: Linked) -> dict[str, Any]:
    app, division = linked.app, linked.divisions[linked.connections[0]]
    return {
        "notes": len(app.notes(division)),
        "tasks": len(app.tasks(division)),
        "documents": len(app.documents(division)),
        "blocked": sorted(str(a["ID"]) for a in app.accounts(division) if a.get("Blocked")),
    }


def plain_text(mail: Received) -> str:
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def run_job(name: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-c", JOB, name, RUN_DATE], cwd=ROOT, env=dict(os.environ), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def test_a_worker_killed_mid_apply_resumes_and_sends_nothing_twice(
    linked_factory: Callable[..., Linked], smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    linked: Linked = linked_factory(1, accounts=40, terms=150, rules_file=str(NL_RULES), reminders_sent_by="arconnect",
                                    mail=MailConfig(host="127.0.0.1", port=smtp.port, sender="debiteuren@example.nl"))
    name = linked.connections[0]
    assert sync_job(name)["outcome"] == "ok"
    close_resources()
    start = effects(linked)
    linked.app.faults.slow(0.2, times=100_000)
    first = run_job(name, tmp_path / "job.log")
    wait_until(lambda: effects(linked)["notes"] - start["notes"] >= 2 and len(smtp.received) >= 1, 60,
               "the dunning run to be half-way", poll=0.05)
    # The package's records of a step (document, then note) are written before its e-mail (issue 11.2):
    # wait for the next document, so the kill lands in the package calls of the note that follows and
    # not while an e-mail is being handed over (an e-mail killed in flight is never resent but left
    # for a person: tests/connector/actions/test_dispatch.py covers that).
    stored = effects(linked)["documents"]
    wait_until(lambda: effects(linked)["documents"] > stored, 60, "the next letter to be stored", poll=0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    halfway = effects(linked), len(smtp.received)
    linked.app.faults.clear()

    second = run_job(name, tmp_path / "job.log")
    assert second.wait(120) == 0
    log = (tmp_path / "job.log").read_text()
    assert '"outcome": "ok"' in log, log
    store, _ = resources()
    journal = store.journal(name)
    assert journal and all(e.state != ApplyOutcome.PENDING for e in journal)
    assert [(e.idempotency_key, e.reason) for e in journal if e.state == ApplyOutcome.FAILED] == []
    # each e-mail once: no Message-ID twice, and no letter (recipient and text) twice; one debtor may
    # rightly get two letters of one step, one per currency
    mails = smtp.received
    assert len(mails) > halfway[1]
    assert len({m.message_id for m in mails}) == len(mails)
    mailed = Counter((m.recipients, plain_text(m)) for m in mails)
    assert [k for k, n in mailed.items() if n > 1] == []
    # a third run finds everything done: nothing new in the package, no new mail
    after = effects(linked)
    assert after["notes"] > halfway[0]["notes"]
    third = run_job(name, tmp_path / "job.log")
    assert third.wait(120) == 0
    assert effects(linked) == after
    assert len(smtp.received) == len(mails)
    apply_runs = [r for r in store.runs(name) if r.kind == "apply"]
    assert [r.outcome for r in apply_runs].count("interrupted") == 1
    cfg.load_config()  # the configuration is untouched
