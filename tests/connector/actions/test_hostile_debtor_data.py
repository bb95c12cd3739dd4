"""One debtor's hostile data fails that debtor's effect alone; the run goes on (issue 11 §5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.actions.channels.email import InvalidAddress, checked_address
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.actions.dispatch import Effect
from connector.model import ApplyOutcome, ApplyResult, Debtor, DebtorKind, Page, PlannedAction
from connector.store import Store
from tests.connector.actions.conftest import CONNECTION, PackageDouble, make_dispatcher, message


@pytest.mark.parametrize(
    "address",
    ["klant@example.nl\r\nBcc: everyone@example.org", "klant@example.nl\n", "a@b.nl, c@d.nl", "Klant <klant@example.nl>",
     "klant", "@example.nl", "klant@", "klant@localhost", "kl\u00e4nt@example.nl", "klant@exa mple.nl",
     "klant@example.nl\u202e", "klant\x00@example.nl", "x" * 65 + "@example.nl"],
)
def test_an_address_that_is_no_plain_address_is_refused(address: str) -> None:
    with pytest.raises(InvalidAddress, match="fix it in the package"):
        checked_address(address)


def test_a_plain_or_internationalised_address_passes() -> None:
    assert checked_address("boekhouding+herinnering@jansen.nl") == "boekhouding+herinnering@jansen.nl"
    assert checked_address("info@café.be") == "info@xn--caf-dma.be"


def _add_debtor(store: Store, source_id: str, name: str, email: str) -> None:
    store.save_page(CONNECTION, "debtors", Page[Debtor](records=[
        Debtor(connection_id=CONNECTION, source_id=source_id, code="1666", name=name, kind=DebtorKind.BUSINESS,
               country="NL", language="nl", emails=(email,)),
    ], bookmark="2"))


def test_a_debtor_with_crlf_in_its_address_fails_alone_and_the_others_get_their_mail(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    _add_debtor(store, "evil", "Klant [/bold] B.V.", "klant@example.nl\r\nBcc: everyone@example.org")
    report = make_dispatcher(store, package, tmp_path, smtp).run(
        [message("r1"), message("r-evil", debtor="evil"), message("r2", debtor="d2")]
    )
    assert sorted(m.recipients for m in smtp.received) == [("boekhouding@jansen.nl",), ("marie@dupont.be",)]
    [failed] = [r for r in report.results if r.outcome == ApplyOutcome.FAILED]
    assert (failed.action.idempotency_key, failed.effect) == ("r-evil", Effect.EMAIL)
    assert "is not valid (line break or control character)" in failed.reason
    # Nothing in the package says a reminder went out that never could.
    assert "r-evil#note" not in package.notes and "r-evil#document" not in package.documents
    # Not "handed to the mail server": the next run tries again (after the address is fixed), no manual check.
    entry = store.journal_entry("r-evil#email")
    assert entry is not None and entry.state == ApplyOutcome.FAILED and not (entry.reason or "").startswith("manual check")


def test_an_unexpected_error_in_one_effect_fails_that_effect_alone(
    store: Store, package: PackageDouble, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    dispatcher = make_dispatcher(store, package, tmp_path, smtp)
    real_apply = dispatcher.adapter_apply

    def odd(action: PlannedAction) -> ApplyResult:
        if action.debtor_source_id == "d2":
            raise ValueError("a value the adapter did not expect")
        return real_apply(action)

    dispatcher.adapter_apply = odd
    report = dispatcher.run([message("r1"), message("r2", debtor="d2"), message("r3")])
    failed = [(r.action.idempotency_key, r.effect) for r in report.results if r.outcome == ApplyOutcome.FAILED]
    assert failed == [("r2", Effect.DOCUMENT), ("r2", Effect.NOTE)]
    assert "unexpected ValueError: a value the adapter did not expect" in next(
        r.reason for r in report.results if r.outcome == ApplyOutcome.FAILED)
    assert {"r1#note", "r3#note"} <= set(package.notes)
