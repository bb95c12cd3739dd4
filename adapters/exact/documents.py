"""Exact Online: the dunning letter as a document with the letter attached (write-once).

docs/reference/exact.md §7 ("store the letter PDF"): ``documents/Documents`` (G, P, U, D) then
``documents/DocumentAttachments`` (G, P, D). Document fields written: ``Subject``, ``Type`` (Int32;
55 = "Miscellaneous", the value of Exact's SDK example), ``Account``, ``Body``, ``DocumentDate``.
Attachment fields: ``Document``, ``FileName``, ``Attachment`` (base64).

The attachment is the letter as PDF (``<date>-<step>.pdf``, rendered by
:mod:`connector.pdf` from the letter's text). What the reference does not give us: a
documented ``Category`` for dunning letters (left empty).

Write-once like notes and tasks: the document's ``Subject`` carries the ``[arconnect …]`` marker of
the effect's idempotency key; before posting, the account's documents are searched for it. A crash
between the document and its attachment is repaired on the next try: the document is found, its
attachments are listed, and the missing attachment is posted.

The action carries what to store in ``details``: ``document_subject``, ``document_body`` (the
letter's text, also the PDF's content) and ``document_file``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from adapters.exact.client import JSON_HEADERS, odata_rows
from connector.http import ApiClient
from connector.model import ApplyOutcome, ApplyResult, PlannedAction
from connector.pdf import letter_pdf

DOCUMENT_TYPE_MISCELLANEOUS = 55  # §7, Exact's SDK example


class ExactWriter(Protocol):
    api: ApiClient
    division: str


def write_once_marker(idempotency_key: str) -> str:
    """``[arconnect <16 hex>]``: a digest of the whole key, so derived keys (``key#note``,
    ``key#document``) that share a prefix never share a marker."""
    return f"[arconnect {hashlib.sha256(idempotency_key.encode('utf-8')).hexdigest()[:16]}]"


def _exact_date(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def _post(writer: ExactWriter, path: str, body: dict[str, Any], find: Callable[[], str | None]) -> dict[str, Any]:
    """POST a write-once record; after an attempt without an answer, ``find`` looks it up by its
    marker before it is sent again (:meth:`connector.http.ApiClient.create`)."""
    answer = writer.api.create(
        "POST", f"/api/v1/{writer.division}/{path}", endpoint=path, json=body,
        headers={**JSON_HEADERS, "Prefer": "return=representation"}, find=find,
    )
    if isinstance(answer, str):
        return {"ID": answer}
    created = answer.json().get("d") or {}
    return created if isinstance(created, dict) else {}


def _rows(writer: ExactWriter, path: str, select: str, filter_: str) -> list[dict[str, Any]]:
    url = f"/api/v1/{writer.division}/{path}?$select={select}&$filter={filter_}"
    found: list[dict[str, Any]] = []
    for rows, _ in odata_rows(writer.api, url, endpoint=path):
        found.extend(rows)
    return found


def find_document(writer: ExactWriter, account: str, marker: str) -> str | None:
    for row in _rows(writer, "documents/Documents", "ID,Subject", f"Account eq guid'{account}'"):
        if marker in str(row.get("Subject") or ""):
            return str(row.get("ID"))
    return None


def has_attachment(writer: ExactWriter, document_id: str, file_name: str) -> bool:
    rows = _rows(writer, "documents/DocumentAttachments", "ID,FileName", f"Document eq guid'{document_id}'")
    return any(str(row.get("FileName") or "") == file_name for row in rows)


def post_document(writer: ExactWriter, action: PlannedAction, marker: str | None = None) -> ApplyResult:
    """Store the letter of ``action`` as a document of the debtor's account, once."""
    marker = marker or write_once_marker(action.idempotency_key)
    details = action.details
    subject = f"{marker} {details.get('document_subject') or action.kind.value}"[:200]
    file_name = details.get("document_file") or f"{action.run_date.isoformat()}-{action.step or action.kind.value}.pdf"
    title = details.get("document_subject") or action.kind.value
    pdf = letter_pdf(title, details.get("document_body") or "")
    account = action.debtor_source_id
    existing = find_document(writer, account, marker)
    if existing is None:
        created = _post(writer, "documents/Documents", {
            "Subject": subject,
            "Type": DOCUMENT_TYPE_MISCELLANEOUS,
            "Account": account,
            "Body": details.get("document_body") or "",
            "DocumentDate": _exact_date(action.run_date),
        }, lambda: find_document(writer, account, marker))
        document_id = str(created.get("ID") or "")
        if not document_id:
            return ApplyResult(outcome=ApplyOutcome.FAILED, reason="Exact did not return the new document's ID")
        outcome = ApplyOutcome.DONE
    else:
        document_id = existing
        if has_attachment(writer, document_id, file_name):
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, remote_reference=document_id, reason="document already stored")
        outcome = ApplyOutcome.DONE  # the document was there, its attachment was not: repaired now
    _post(writer, "documents/DocumentAttachments", {
        "Document": document_id,
        "FileName": file_name,
        "Attachment": base64.b64encode(pdf).decode("ascii"),
    }, lambda: document_id if has_attachment(writer, document_id, file_name) else None)
    return ApplyResult(outcome=outcome, remote_reference=document_id)
