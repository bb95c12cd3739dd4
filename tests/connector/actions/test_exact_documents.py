"""Exact write-back of letters: documents/Documents + DocumentAttachments (docs/reference/exact.md §7)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from adapters.exact.adapter import ExactAdapter
from adapters.exact.client import EXACT_HTTP
from adapters.exact.documents import write_once_marker
from adapters.exact.sandbox import ExactSandbox
from connector.errors import ApiError
from connector.http import ApiClient, make_client
from connector.model import ActionKind, ApplyOutcome, PlannedAction
from connector.retry import RetryPolicy
from connector.sandbox import transport
from tests.connector.actions.conftest import RUN
from tests.support.pdftext import pdf_text

BASE = "http://sandbox.test"
CLIENT, SECRET, REDIRECT = "apply-tests", "apply-secret", "http://127.0.0.1:8765/callback"
NL = 101


@pytest.fixture
def sandbox() -> ExactSandbox:
    app = ExactSandbox.small(minutely_limit=10_000, daily_limit=100_000)
    app.register_client(CLIENT, SECRET, REDIRECT)
    return app


@pytest.fixture
def adapter(sandbox: ExactSandbox) -> Iterator[ExactAdapter]:
    wire = transport(sandbox, BASE)
    redirect = sandbox.approve(CLIENT, REDIRECT, "s", [NL])
    code = httpx.URL(redirect).params["code"]
    with httpx.Client(transport=wire, base_url=BASE) as http:
        token = http.post("/api/oauth2/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": CLIENT, "client_secret": SECRET,
        }).json()["access_token"]
    client = make_client(BASE, transport=wire, headers={"Authorization": f"Bearer {token}"})
    try:
        yield ExactAdapter(ApiClient(client, EXACT_HTTP, limiter_key="apply-tests"), connection_id="c", division=str(NL))
    finally:
        client.close()


def letter_action(account: str, key: str = "reminder-1#document") -> PlannedAction:
    return PlannedAction(
        idempotency_key=key, connection_id="c", debtor_source_id=account, kind=ActionKind.REMINDER, step="reminder",
        run_date=RUN, reason="1 day overdue", template="reminder",
        details={"effect": "document", "document_subject": "Betalingsherinnering", "document_body": "tekst",
                 "document_html": "<p>Betalingsherinnering</p>", "document_file": "2026-03-02-reminder.pdf"},
    )


def test_the_letter_is_stored_as_a_document_with_the_letter_attached(adapter: ExactAdapter, sandbox: ExactSandbox) -> None:
    account = str(sandbox.accounts(NL)[0]["ID"])
    result = adapter.apply(letter_action(account))
    assert result.outcome == ApplyOutcome.DONE
    [document] = sandbox.documents(NL)
    assert document["ID"] == result.remote_reference
    assert document["Account"] == account
    assert document["Type"] == 55
    assert document["Subject"] == f"{write_once_marker('reminder-1#document')} Betalingsherinnering"
    [attachment] = sandbox.attachments(NL)
    assert attachment["Document"] == document["ID"]
    assert attachment["FileName"] == "2026-03-02-reminder.pdf"
    pdf = base64.b64decode(attachment["Attachment"])
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf_text(pdf).splitlines() == ["Betalingsherinnering", "tekst"]  # the letter's subject and text


def test_a_document_is_written_once(adapter: ExactAdapter, sandbox: ExactSandbox) -> None:
    account = str(sandbox.accounts(NL)[0]["ID"])
    adapter.apply(letter_action(account))
    again = adapter.apply(letter_action(account))
    assert again.outcome == ApplyOutcome.ALREADY_TRUE
    assert len(sandbox.documents(NL)) == 1 and len(sandbox.attachments(NL)) == 1


def test_a_crash_between_document_and_attachment_is_repaired_without_a_second_document(
    adapter: ExactAdapter, sandbox: ExactSandbox
) -> None:
    account = str(sandbox.accounts(NL)[0]["ID"])
    sandbox.faults.fail(400, endpoint="documents/DocumentAttachments")  # the run stops after the document
    with pytest.raises(ApiError):
        adapter.apply(letter_action(account))
    assert len(sandbox.documents(NL)) == 1 and sandbox.attachments(NL) == []
    sandbox.faults.clear()
    repaired = adapter.apply(letter_action(account))
    assert repaired.outcome == ApplyOutcome.DONE
    assert len(sandbox.documents(NL)) == 1 and len(sandbox.attachments(NL)) == 1


def test_derived_keys_with_a_common_prefix_get_different_markers() -> None:
    assert write_once_marker("a-long-planned-action-key#note") != write_once_marker("a-long-planned-action-key#task")


@pytest.mark.parametrize("endpoint", ["documents/Documents", "documents/DocumentAttachments"])
def test_a_post_whose_answer_was_lost_is_looked_up_before_it_is_sent_again(
    adapter: ExactAdapter, sandbox: ExactSandbox, endpoint: str
) -> None:
    """Issue 11.2: the package carried out the POST but the answer never came (the process died, the
    line dropped); the retry must find what is there instead of storing a second document."""
    adapter.api.retry = RetryPolicy(sleep=lambda _: None)
    account = str(sandbox.accounts(NL)[0]["ID"])
    sandbox.faults.lose_response(endpoint=endpoint)
    result = adapter.apply(letter_action(account))
    assert result.outcome == ApplyOutcome.DONE
    assert len(sandbox.documents(NL)) == 1 and len(sandbox.attachments(NL)) == 1
    assert result.remote_reference == sandbox.documents(NL)[0]["ID"]


def test_a_lost_answer_to_a_note_is_looked_up_before_it_is_sent_again(adapter: ExactAdapter, sandbox: ExactSandbox) -> None:
    adapter.api.retry = RetryPolicy(sleep=lambda _: None)
    account = str(sandbox.accounts(NL)[0]["ID"])
    note = letter_action(account, key="reminder-1#note").model_copy(update={"details": {"effect": "note"}})
    sandbox.faults.lose_response(endpoint="activities/CommunicationNotes")
    result = adapter.apply(note)
    assert result.outcome == ApplyOutcome.DONE
    [stored] = sandbox.notes(NL)
    assert result.remote_reference == stored["ID"]
