"""Dispatch: each planned step becomes its effects, each journaled before it runs, each once."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from connector.actions.channels.email import SmtpSender
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.actions.dispatch import MANUAL_CHECK, Effect, manual_checks, resolve_manual_check, route, sub_key
from connector.cli.demo import free_port
from connector.config import MailConfig
from connector.errors import ConfigError
from connector.model import ActionKind, ApplyOutcome, ApplyResult, Money, PlannedAction
from connector.ports import Capability
from connector.store import Store
from tests.connector.actions.conftest import CONNECTION, PackageDouble, account_action, make_dispatcher, message

EXACT = frozenset({Capability.BLOCK_DEBTOR, Capability.SET_CREDIT_LIMIT, Capability.ADD_NOTE, Capability.ADD_TASK, Capability.ADD_DOCUMENT})
BARE: frozenset[Capability] = frozenset()


class Crash(BaseException):
    """The process dies here (not an error arconnect handles: nothing catches it)."""


@pytest.mark.parametrize(
    ("kind", "channel", "caps", "expected"),
    [
        (ActionKind.REMINDER, "email", EXACT, [Effect.DOCUMENT, Effect.NOTE, Effect.EMAIL]),
        (ActionKind.FORMAL_NOTICE, "letter", EXACT, [Effect.DOCUMENT, Effect.NOTE, Effect.LETTER]),
        (ActionKind.NOTICE_OF_DEFAULT, "registered_letter", BARE, [Effect.LETTER]),
        (ActionKind.REMINDER, "phone", EXACT, [Effect.TASK, Effect.CALL_LIST, Effect.NOTE]),
        (ActionKind.REMINDER, "package", EXACT, [Effect.PACKAGE, Effect.NOTE]),
        (ActionKind.REMINDER, "none", EXACT, [Effect.NOTE]),
        (ActionKind.CALL_TASK, "phone", EXACT, [Effect.TASK, Effect.CALL_LIST]),
        (ActionKind.CALL_TASK, "phone", BARE, [Effect.CALL_LIST]),
        (ActionKind.COLLECTION_HANDOVER, "none", EXACT, [Effect.NOTE, Effect.HANDOVER]),
        (ActionKind.BLOCK, "none", EXACT, [Effect.PACKAGE]),
        (ActionKind.WRITE_OFF, "none", EXACT, [Effect.PACKAGE]),
    ],
)
def test_each_step_is_routed_to_its_effects(kind: ActionKind, channel: str, caps: frozenset[Capability], expected: list[Effect]) -> None:
    assert route(message("k", kind, channel=channel), caps) == expected


def test_a_reminder_by_email_is_sent_stored_as_document_and_recorded_as_note(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    report = make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    [mail] = smtp.received
    assert mail.recipients == ("boekhouding@jansen.nl",)
    assert mail.subject == "Betalingsherinnering van Bakkerij De Korenschoof B.V."
    assert mail.message["X-Arconnect-Key"] == "r1#email"
    body = mail.message.get_body(("plain",))
    assert body is not None and "€ 1.234,56" in body.get_content()
    assert list(package.documents) == ["r1#document"]
    assert "Betalingsherinnering" in package.documents["r1#document"].details["document_html"]
    assert list(package.notes) == ["r1#note"]
    assert report.emails_sent == 1
    assert {e.idempotency_key: e.state for e in store.journal(CONNECTION)} == {
        "r1": ApplyOutcome.DONE, "r1#email": ApplyOutcome.DONE, "r1#document": ApplyOutcome.DONE, "r1#note": ApplyOutcome.DONE,
    }


def test_every_effect_is_journaled_pending_before_it_runs(store: Store, package: PackageDouble, tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []

    def watching(action: PlannedAction) -> ApplyResult:
        entry = store.journal_entry(action.idempotency_key)
        seen.append((action.idempotency_key, entry.state.value if entry else None))
        return package.apply(action)

    dispatcher = make_dispatcher(store, package, tmp_path, None)
    dispatcher.adapter_apply = watching
    dispatcher.run([message("c1", ActionKind.CALL_TASK, channel="phone"), account_action("b1", ActionKind.BLOCK)])
    assert seen == [("c1#task", "pending"), ("b1", "pending")]


def test_applying_twice_has_the_effect_of_applying_once(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    actions = [
        message("r1"),
        message("f1", ActionKind.FORMAL_NOTICE, debtor="d2", costs="40.00"),
        message("c1", ActionKind.CALL_TASK, channel="phone"),
        message("h1", ActionKind.COLLECTION_HANDOVER, channel="none"),
        account_action("b1", ActionKind.BLOCK),
        account_action("l1", ActionKind.SET_CREDIT_LIMIT, limit="5000"),
    ]
    first = make_dispatcher(store, package, tmp_path, smtp).run(actions)
    effects_after_first = list(package.calls)
    files_after_first = sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".db")
    second = make_dispatcher(store, package, tmp_path, smtp).run(actions)
    assert first.count(ApplyOutcome.FAILED) == 0
    assert second.skipped == len(actions)
    assert second.changed == 0
    assert package.calls == effects_after_first  # not even a read of remote state
    assert len(smtp.received) == 2
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".db") == files_after_first


def test_a_crash_after_the_mail_server_accepted_the_email_never_sends_it_again(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_finish = store.journal_finish

    def die_after_sending(key: str, result: ApplyResult) -> object:
        if key == "r1#email":
            raise Crash
        return real_finish(key, result)

    monkeypatch.setattr(store, "journal_finish", die_after_sending)
    with pytest.raises(Crash):
        make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    assert len(smtp.received) == 1
    monkeypatch.setattr(store, "journal_finish", real_finish)

    for _ in range(2):  # the next runs: resumed, not resent
        report = make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
        assert report.emails_sent == 0
    assert len(smtp.received) == 1
    entry = store.journal_entry("r1#email")
    assert entry is not None and entry.state == ApplyOutcome.FAILED
    assert (entry.reason or "").startswith(MANUAL_CHECK)
    assert str(smtp.received[0].message_id) in (entry.reason or "")
    # The package's record of the step was written before the e-mail left (issue 11.2).
    assert list(package.notes) == ["r1#note"]


def test_a_crash_between_journal_and_send_does_not_send_later_either(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die_before_sending(self: SmtpSender, message: object) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(SmtpSender, "send", die_before_sending)
        with pytest.raises(Crash):
            make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    # At most once: after a crash nobody knows whether the server got it, so it is not resent.
    assert smtp.received == []
    entry = store.journal_entry("r1#email")
    assert entry is not None and (entry.reason or "").startswith(MANUAL_CHECK)


def test_a_refused_email_is_not_sent_and_retried_next_run(
    store: Store, package: PackageDouble, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens here yet: the server is not reachable, nothing is sent
    dispatcher = make_dispatcher(store, package, tmp_path, None)
    dispatcher.channels.mail = SmtpSender(MailConfig(host="127.0.0.1", port=port, sender="x@korenschoof.nl"), timeout=2)
    report = dispatcher.run([message("r1")])
    entry = store.journal_entry("r1#email")
    assert entry is not None and entry.state == ApplyOutcome.FAILED
    assert "not reachable" in (entry.reason or "") and not (entry.reason or "").startswith(MANUAL_CHECK)
    assert [(r.effect, r.outcome) for r in report.results] == [
        (Effect.DOCUMENT, ApplyOutcome.DONE), (Effect.NOTE, ApplyOutcome.DONE), (Effect.EMAIL, ApplyOutcome.FAILED),
    ]  # the package's record first, then the e-mail
    assert list(package.notes) == ["r1#note"] and list(package.documents) == ["r1#document"]

    with LocalSmtpServer(port) as back:
        make_dispatcher(store, package, tmp_path, back).run([message("r1")])
        assert len(back.received) == 1
    assert list(package.notes) == ["r1#note"]
    parent = store.journal_entry("r1")
    assert parent is not None and parent.state == ApplyOutcome.DONE


def test_a_debtor_without_email_address_fails_with_a_reason_and_nothing_is_recorded(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    make_dispatcher(store, package, tmp_path, smtp).run([message("r3", debtor="d3")])
    entry = store.journal_entry("r3")
    assert entry is not None and entry.state == ApplyOutcome.FAILED
    assert "no e-mail address" in (entry.reason or "")
    assert smtp.received == [] and package.notes == {}


def test_a_block_the_bookkeeper_set_is_never_lifted(store: Store, package: PackageDouble, tmp_path: Path) -> None:
    package.blocked.add("d1")  # blocked by the bookkeeper in the package
    dispatcher = make_dispatcher(store, package, tmp_path, None)
    dispatcher.run([account_action("b1", ActionKind.BLOCK)])
    assert store.blocks_by_us(CONNECTION) == set()
    report = dispatcher.run([account_action("u1", ActionKind.UNBLOCK)])
    assert package.blocked == {"d1"}
    assert report.results[0].outcome == ApplyOutcome.UNSUPPORTED
    assert "not set by arconnect" in report.results[0].reason


def test_a_block_arconnect_set_is_lifted(store: Store, package: PackageDouble, tmp_path: Path) -> None:
    dispatcher = make_dispatcher(store, package, tmp_path, None)
    dispatcher.run([account_action("b1", ActionKind.BLOCK)])
    assert package.blocked == {"d1"} and store.blocks_by_us(CONNECTION) == {"d1"}
    dispatcher.run([account_action("u1", ActionKind.UNBLOCK)])
    assert package.blocked == set() and store.blocks_by_us(CONNECTION) == set()


def test_what_the_package_cannot_do_is_unsupported_with_its_reason(store: Store, package: PackageDouble, tmp_path: Path) -> None:
    report = make_dispatcher(store, package, tmp_path, None).run([
        account_action("w1", ActionKind.WRITE_OFF), message("p1", channel="package"),
    ])
    write_off, reminder = report.results[0], report.results[1]
    assert (write_off.outcome, write_off.reason) == (ApplyOutcome.UNSUPPORTED, "the package has no API for write_off")
    assert reminder.outcome == ApplyOutcome.UNSUPPORTED
    assert "Exact Online cannot send reminders through its API" in reminder.reason
    parent = store.journal_entry("p1")
    assert parent is not None and parent.state == ApplyOutcome.UNSUPPORTED
    assert package.notes == {}  # nothing was sent, so nothing is recorded as sent


def test_a_template_that_does_not_render_fails_the_step_with_one_line(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    make_dispatcher(store, package, tmp_path, smtp).run([message("r1", template="no_such_template")])
    entry = store.journal_entry(sub_key("r1", Effect.EMAIL))
    assert entry is not None and entry.state == ApplyOutcome.FAILED
    assert entry.reason == "template 'no_such_template' has no nl version (no_such_template.nl.j2)"
    assert smtp.received == []


def test_the_call_list_gets_one_row_per_call_task(store: Store, package: PackageDouble, tmp_path: Path) -> None:
    call = message("c1", ActionKind.CALL_TASK, channel="phone")
    make_dispatcher(store, package, tmp_path, None).run([call])
    make_dispatcher(store, package, tmp_path, None).run([call])
    with (tmp_path / "calls.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["debtor_code"], r["debtor"], r["phone"], r["amount"], r["items"], r["key"]) for r in rows] == [
        ("1001", "Jansen & Zn.", "'+31 6 1234 5678", "1234.56", "2026001", "c1#call_list")  # "+" starts a formula
    ]
    assert list(package.tasks) == ["c1#task"]
    assert package.tasks["c1#task"].kind == ActionKind.CALL_TASK


def test_the_handover_file_carries_the_whole_claim_and_its_history(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    dispatcher = make_dispatcher(store, package, tmp_path, smtp)
    dispatcher.run([message("r1"), message("n1", ActionKind.NOTICE_OF_DEFAULT, costs="185.18")])
    handover = message("h1", ActionKind.COLLECTION_HANDOVER, channel="none", costs="185.18")
    handover = handover.model_copy(update={"interest": Money.of("12.00", "EUR")})
    dispatcher.run([handover])
    [json_path] = (tmp_path / "handover").glob("*.json")
    claim = json.loads(json_path.read_text(encoding="utf-8"))
    assert claim["principal"] == {"amount": "1234.56", "currency": "EUR"}
    assert claim["costs"] == {"amount": "185.18", "currency": "EUR"}
    assert claim["interest"] == {"amount": "12.00", "currency": "EUR"}
    assert claim["total"] == {"amount": "1431.74", "currency": "EUR"}  # 1234.56 + 185.18 + 12.00
    assert claim["creditor"]["coc_number"] == "34567890"
    assert claim["debtor"]["name"] == "Jansen & Zn."
    assert [(h["kind"], h["outcome"]) for h in claim["history"]] == [("reminder", "done"), ("notice_of_default", "done")]
    [csv_path] = (tmp_path / "handover").glob("*.csv")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["document_number"], row["open"], row["claim_total"]) == ("2026001", "1234.56", "1431.74")
    assert list(package.notes) == ["r1#note", "n1#note", "h1#note"]


def _crash_after_send(store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_finish = store.journal_finish

    def die_after_sending(key: str, result: ApplyResult) -> object:
        if key == "r1#email":
            raise Crash
        return real_finish(key, result)

    with monkeypatch.context() as patch:
        patch.setattr(store, "journal_finish", die_after_sending)
        with pytest.raises(Crash):
            make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])


def test_a_person_confirms_the_email_arrived_and_the_step_completes_without_resending(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_after_send(store, package, smtp, tmp_path, monkeypatch)
    assert [key for key, _, _ in manual_checks(store, CONNECTION)] == ["r1#email"]
    resolve_manual_check(store, "r1#email", sent=True)
    make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    assert len(smtp.received) == 1
    assert list(package.notes) == ["r1#note"]
    assert manual_checks(store, CONNECTION) == []
    parent = store.journal_entry("r1")
    assert parent is not None and parent.state == ApplyOutcome.DONE


def test_a_person_says_the_email_did_not_arrive_and_the_next_run_sends_it(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_after_send(store, package, smtp, tmp_path, monkeypatch)
    resolve_manual_check(store, "r1#email", sent=False)
    make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    assert len(smtp.received) == 2  # the person decided: send it again
    assert smtp.received[0].message_id == smtp.received[1].message_id  # recognisable as the same e-mail


def test_only_an_email_waiting_for_a_check_can_be_resolved(store: Store, package: PackageDouble, tmp_path: Path) -> None:
    make_dispatcher(store, package, tmp_path, None).run([account_action("b1", ActionKind.BLOCK)])
    with pytest.raises(ConfigError, match="'b1' is not waiting for a manual check"):
        resolve_manual_check(store, "b1", sent=True)
    with pytest.raises(ConfigError, match="no journal entry 'nope'"):
        resolve_manual_check(store, "nope", sent=False)


def fresh_store(path: Path, like: Store) -> Store:
    """A second, empty store for the same connection: the database was deleted or reset."""
    other = Store(f"sqlite:///{path}")
    other.migrate()
    other.ensure_connection(CONNECTION, "exact", "Demo")
    from connector.model import Debtor, Page

    other.save_page(CONNECTION, "debtors", Page[Debtor](records=like.debtors(CONNECTION), bookmark="1"))
    return other


def test_a_step_the_package_already_records_is_not_sent_again_when_the_journal_is_gone(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    """Issue 11.2: the journal is not the only guard. The package's note and document of the step carry
    its key; a new journal that finds them there records the step and sends nothing."""
    steps = [message("r1"), message("f1", ActionKind.FORMAL_NOTICE, debtor="d2", channel="letter")]
    make_dispatcher(store, package, tmp_path, smtp).run(steps)
    assert len(smtp.received) == 1
    letters = sorted(p.name for p in (tmp_path / "outbox").rglob("*") if p.is_file())
    records = (dict(package.notes), dict(package.documents))

    with fresh_store(tmp_path / "new.db", store) as empty:
        other_outbox = tmp_path / "elsewhere"  # the letters folder went too
        dispatcher = make_dispatcher(empty, package, other_outbox, smtp)
        report = dispatcher.run(steps)
        assert report.emails_sent == 0
        assert len(smtp.received) == 1
        assert not (other_outbox / "outbox").exists()
        assert (dict(package.notes), dict(package.documents)) == records
        email = empty.journal_entry("r1#email")
        assert email is not None and email.state == ApplyOutcome.ALREADY_TRUE
        assert "already carried out" in (email.reason or "")
        parent = empty.journal_entry("r1")
        assert parent is not None and parent.state == ApplyOutcome.ALREADY_TRUE
    assert sorted(p.name for p in (tmp_path / "outbox").rglob("*") if p.is_file()) == letters


def test_the_package_record_is_written_before_the_email_leaves(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    seen_at_send: list[list[str]] = []
    real_send = SmtpSender.send

    def spy(self: SmtpSender, message: object) -> None:
        seen_at_send.append(sorted([*package.notes, *package.documents]))
        real_send(self, message)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SmtpSender, "send", spy)
        make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    assert seen_at_send == [["r1#document", "r1#note"]]


def test_nothing_leaves_while_the_package_cannot_record_the_step(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    real_apply = package.apply

    def down(action: PlannedAction) -> ApplyResult:
        if action.details.get("effect") == "note":
            raise ConfigError("the package is down")  # any ArconnectError: the effect fails
        return real_apply(action)

    dispatcher = make_dispatcher(store, package, tmp_path, smtp)
    dispatcher.adapter_apply = down
    dispatcher.run([message("r1")])
    assert smtp.received == []
    assert store.journal_entry("r1#email") is None  # not even tried: the next run sends it
    make_dispatcher(store, package, tmp_path, smtp).run([message("r1")])
    assert len(smtp.received) == 1


def test_apply_refuses_a_letter_with_an_unverified_rate_unless_the_rules_file_accepts_it() -> None:
    from datetime import date as _date

    from connector.actions.applying import unverified_rate_refusals
    from connector.model import ActionKind as _Kind
    from connector.model import PlannedAction as _Planned

    def letter(key: str, **details: str) -> _Planned:
        return _Planned(
            idempotency_key=key, connection_id="c", debtor_source_id="D1", item_source_ids=("I1",),
            kind=_Kind.NOTICE_OF_DEFAULT, step="default-notice", run_date=_date(2026, 12, 7), reason="r", details=details,
        )

    unverified = letter("k1", rate_status="unverified", rate_warnings="rate for days after 2026-06-30 is unverified")
    accepted = letter("k2", rate_status="unverified", rate_warnings="x", unverified_rate_accepted="true")
    computed = letter("k3", rate_status="computed", rate_warnings="rate 10.15 % from 2026-01-01 is computed")
    kept, refused = unverified_rate_refusals([unverified, accepted, computed])
    assert [a.idempotency_key for a in kept] == ["k2", "k3"]
    assert refused == [
        "not applied: default-notice for debtor D1 uses an unverified interest rate (rate for days after 2026-06-30 is "
        "unverified); verify it in rules/data/interest.yaml or set costs.accept_unverified_rates"
    ]
