"""Property: wherever a run dies, later runs never repeat an e-mail or a write-once record."""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.actions.channels.email import SmtpSender
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.cli.demo import free_port
from connector.model import ActionKind, ApplyResult, Debtor, DebtorKind, Page, PlannedAction
from connector.store import Store
from tests.connector.actions.conftest import CONNECTION, PackageDouble, account_action, make_dispatcher, message


class Crash(BaseException):
    pass


ACTIONS = [
    message("r1"),
    message("f2", ActionKind.FORMAL_NOTICE, debtor="d2"),
    message("c1", ActionKind.CALL_TASK, channel="phone"),
    message("h1", ActionKind.COLLECTION_HANDOVER, channel="email"),
    account_action("b1", ActionKind.BLOCK),
]


class Dying:
    """Counts effects and journal writes; at number ``at`` the process dies, before or after it."""

    def __init__(self, at: int, after: bool) -> None:
        self.at, self.after, self.seen = at, after, 0

    def point(self) -> None:
        self.seen += 1
        if self.seen == self.at:
            raise Crash


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.integers(min_value=1, max_value=40), after=st.booleans(), order=st.permutations(range(len(ACTIONS))))
def test_a_crash_anywhere_never_repeats_an_email_or_a_record(at: int, after: bool, order: list[int]) -> None:
    actions = [ACTIONS[i] for i in order]
    with tempfile.TemporaryDirectory() as tmp, LocalSmtpServer(free_port()) as smtp:
        tmp_path = Path(tmp)
        with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
            store.migrate()
            store.save_page(CONNECTION, "debtors", Page[Debtor](records=[
                Debtor(connection_id=CONNECTION, source_id=d, code=d, name=d, kind=DebtorKind.BUSINESS, emails=(f"{d}@x.nl",))
                for d in ("d1", "d2")
            ], bookmark="1"))
            package = PackageDouble()
            dying = Dying(at, after)
            real_apply, real_finish, real_send = package.apply, store.journal_finish, SmtpSender.send

            def apply(action: PlannedAction) -> ApplyResult:
                if not dying.after:
                    dying.point()
                result = real_apply(action)
                if dying.after:
                    dying.point()
                return result

            def finish(key: str, result: ApplyResult) -> object:
                dying.point()
                return real_finish(key, result)

            def send(self: SmtpSender, msg: EmailMessage) -> None:
                if not dying.after:
                    dying.point()
                real_send(self, msg)
                if dying.after:
                    dying.point()

            dispatcher = make_dispatcher(store, package, tmp_path, smtp)
            dispatcher.adapter_apply = apply
            setattr(store, "journal_finish", finish)  # noqa: B010 - the process dies inside the store call
            setattr(SmtpSender, "send", send)  # noqa: B010
            try:
                with contextlib.suppress(Crash):
                    dispatcher.run(actions)
            finally:
                setattr(SmtpSender, "send", real_send)  # noqa: B010
                setattr(store, "journal_finish", real_finish)  # noqa: B010
            for _ in range(2):  # the runs after the crash
                make_dispatcher(store, package, tmp_path, smtp).run(actions)

            sent = Counter(m.message["X-Arconnect-Key"] for m in smtp.received)
            assert all(count == 1 for count in sent.values()), sent
            # Everything that is not waiting for a person is complete.
            waiting = {e.idempotency_key for e in store.journal(CONNECTION) if (e.reason or "").startswith("manual check:")}
            for action in actions:
                parent = store.journal_entry(action.idempotency_key)
                assert parent is not None
                if not any(k.startswith(action.idempotency_key + "#") for k in waiting):
                    assert parent.state.value in ("done", "already_true"), (action.idempotency_key, parent.reason)
