"""A debtor whose data is hostile (issue 11 §5): markup in the name, CR/LF in the e-mail address.

It goes through sync, plan, apply and every report with the rest of the run intact: its e-mail
fails alone, named with the reason in the run summary and in ``status``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from connector.cli.main import app
from connector.runtime import today
from rules.calendar import business_day_in_all
from tests.e2e.conftest import World

HOSTILE_NAME = "Klant [/bold] B.V."
HOSTILE_EMAIL = "klant@example.nl\r\nBcc: everyone@example.org"


def invoke(*args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout + (result.stderr if result.stderr_bytes is not None else "")


def _emailed_debtor(world: World, run: str) -> str:
    """The source id of a debtor that gets an e-mail on ``run``."""
    import json

    code, out = invoke("plan", world.connection, "--date", run, "--format", "json")
    assert code == 0, out
    actions = json.loads(out)["actions"]
    return next(a["debtor_source_id"] for a in actions if a["channel"] == "email")


def test_a_debtor_with_markup_in_its_name_and_crlf_in_its_address_fails_alone(world: World) -> None:
    run = business_day_in_all(today(), ("NL",)).isoformat()
    assert invoke("sync", world.connection)[0] == 0
    victim = _emailed_debtor(world, run)
    state = world.sandbox.division(world.division)
    state.update_account(victim, {"Name": HOSTILE_NAME, "Email": HOSTILE_EMAIL}, datetime.now(UTC))

    code, out = invoke("sync", world.connection)
    assert code == 0, out
    code, out = invoke("plan", world.connection, "--date", run)
    assert code == 0, out
    assert HOSTILE_NAME in out

    code, out = invoke("apply", world.connection, "--date", run, "--yes", "--allow-future")
    assert code == 1, out  # one effect failed
    assert "Traceback" not in out
    # Every other debtor got its e-mail; nobody got one with an injected header.
    assert len(world.smtp.received) > 0
    for received in world.smtp.received:
        assert "everyone@example.org" not in received.recipients
        assert received.message["Bcc"] is None
    summary = [line for line in out.splitlines() if HOSTILE_NAME in line and "e-mail address" in line]
    assert summary, out

    code, out = invoke("status")
    assert HOSTILE_NAME in out and "e-mail address" in out, out
    for report in (("report", "aging"), ("report", "aging", "--format", "csv"), ("report", "aging", "--format", "json"),
                   ("report", "calls", world.connection, "--all"), ("report", "quarantine", world.connection),
                   ("mail", "checks", world.connection)):
        code, out = invoke(*report)
        assert code == 0, (report, out)
    code, out = invoke("report", "aging", world.connection)
    assert HOSTILE_NAME in out


def test_the_confirmation_names_debtors_and_mail_checks_shows_keys_that_resolve(world: World) -> None:
    from connector.actions.dispatch import MANUAL_CHECK
    from connector.model import ApplyOutcome, ApplyResult
    from connector.runtime import open_store

    run = business_day_in_all(today(), ("NL",)).isoformat()
    assert invoke("sync", world.connection)[0] == 0
    code, out = invoke("apply", world.connection, "--date", run, "--allow-future", stdin="n\n")
    assert code == 0, out
    plan = out.split("Apply these")[0]
    store = open_store()
    try:
        debtors = store.debtors(world.connection)
        assert not any(d.source_id in plan for d in debtors), "the confirmation shows the package's ids"
        assert sum(1 for d in debtors if d.name in plan) >= 3
        code, out = invoke("apply", world.connection, "--date", run, "--yes", "--allow-future")
        emails = [e for e in store.journal(world.connection) if e.idempotency_key.endswith("#email") and e.state == ApplyOutcome.DONE]
        for entry in emails[:2]:
            store.journal_finish(entry.idempotency_key, ApplyResult(outcome=ApplyOutcome.FAILED, reason=f"{MANUAL_CHECK} test"))
    finally:
        store.close()
    code, out = invoke("mail", "checks", world.connection)
    assert code == 0
    keys = [line for line in out.splitlines() if line.endswith("#email")]
    assert sorted(keys) == sorted(e.idempotency_key for e in emails[:2])
    for key in keys:
        assert invoke("mail", "resolve", key, "--sent")[0] == 0
    assert invoke("mail", "checks", world.connection)[1].strip() == "no e-mails to check"
