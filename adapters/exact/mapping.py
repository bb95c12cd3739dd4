"""Pure mapping between Exact Online payloads and the common model (no I/O).

Sources: docs/reference/exact.md §2.6 (``/Date(ms)/``), §2.7 (padded strings), §3.2–§3.3 (payment
terms), §5 (what paid means), §6 (accounts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from connector.errors import MappingError
from connector.model import Debtor, DebtorKind, ItemKind, ItemStatus, Money, OpenItem, Payment, to_decimal

_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
#: §2.6: the time zone Exact's ``/Date()/`` values are written in.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_EPOCH = datetime(1970, 1, 1)

#: §3.2 Status of a payment term: 20 open, 30 selected for collection, 40 collection processed,
#: 50 matched (settled).
STATUS_OPEN, STATUS_SELECTED, STATUS_PROCESSED, STATUS_MATCHED = 20, 30, 40, 50
#: §3.3 LineType: 20 receivable (receipt), 22 payable (payment) — payables are dropped client-side.
LINE_RECEIVABLE, LINE_PAYABLE = 20, 22
#: §3.5 transaction types (assumed the same codes on terms): 40 = cash flow, i.e. money received
#: that is not matched to an invoice yet.
TRANSACTION_CASH_FLOW = 40


def parse_datetime(value: Any) -> datetime | None:
    """``/Date(1351209600000)/`` → aware datetime (in UTC) of a Europe/Amsterdam wall-clock time.

    §2.6: Exact writes Dutch local time (CET/CEST) as if it were UTC: Airbyte's connector converts it
    that way (AIRB ``_parse_item``), date-only values come at 00:00 of the epoch, and issue 16 point 4
    asks for this reading. So the epoch is read as a wall-clock time in Amsterdam, which keeps modified
    times right across daylight-saving changes. A value with an explicit offset (``/Date(ms+0100)/``,
    the Microsoft JSON form) is a true UTC instant and read as such. Date-only fields give the same date
    under either reading.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"not an Exact date: {value!r}")
    match = _DATE_RE.match(value.strip())
    if not match:
        raise MappingError(f"not an Exact date: {value!r}")
    millis = int(match.group(1))
    if match.group(2):
        return datetime.fromtimestamp(millis / 1000, UTC)
    wall = _EPOCH + timedelta(milliseconds=millis)
    # As a UTC instant: Python subtracts two datetimes of one zone by their wall clocks, which would be
    # an hour off across a daylight-saving change.
    return wall.replace(tzinfo=AMSTERDAM).astimezone(UTC)


def parse_date(value: Any) -> date | None:
    """The day of a date-only field: the Amsterdam date of the value (§2.6), which is the date of the
    wall-clock time Exact writes (no time-zone arithmetic needed; cached, dates repeat a lot)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"not an Exact date: {value!r}")
    return _wall_date(value)


@lru_cache(maxsize=65_536)
def _wall_date(value: str) -> date:
    match = _DATE_RE.match(value.strip())
    if not match:
        raise MappingError(f"not an Exact date: {value!r}")
    if match.group(2):  # an explicit offset: a true UTC instant
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).astimezone(AMSTERDAM).date()
    return (_EPOCH + timedelta(milliseconds=int(match.group(1)))).date()


def int64(value: Any) -> int | None:
    """An ``Edm.Int64`` (``Timestamp``, ``HID``, §2.2 verbose OData v2) read from either form it travels in.

    OData v2's verbose JSON writes Edm.Int64 (and Edm.Decimal) as JSON **strings**, so JavaScript loses no
    digits, and several public Exact clients read ``Timestamp`` from a string (issue 16 point 1); our
    sandbox and other servers send a number. Either is read; anything else is None. A trailing ``L``
    (the URI literal form, §4 ``Timestamp gt 123L``) is tolerated."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        raw = value.strip()
        raw = raw[:-1] if raw[-1:] in ("L", "l") else raw
        if raw.lstrip("-").isdigit():
            return int(raw)
    return None


def text(value: Any) -> str | None:
    """§2.7: codes come padded (``"NL "``, ``"                 8"``); empty means absent."""
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def amount(row: Mapping[str, Any], field: str) -> Decimal:
    """Exact sends amounts as ``Edm.Double`` JSON numbers; take them exactly as written."""
    value = row.get(field)
    if value is None:
        return Decimal(0)
    try:
        return to_decimal(value)
    except (TypeError, ValueError) as exc:
        raise MappingError(f"{field} is not an amount: {value!r}") from exc


def _required(row: Mapping[str, Any], field: str) -> Any:
    value = row.get(field)
    if value in (None, ""):
        raise MappingError(f"{field} is missing")
    return value


# --------------------------------------------------------------------------- accounts


def debtor_from_account(row: Mapping[str, Any], *, connection_id: str, base_currency: str) -> Debtor:
    """§6 ``crm/Accounts`` → Debtor.

    Exact has no consumer flag on accounts: an account with a VAT or chamber-of-commerce number is
    a business; any other is ``unknown`` (which the rules treat as a consumer for costs, the safe
    side of the law). ``CreditLineSales`` of 0 or null is read as "no limit" (§6 [UNVERIFIED]).
    """
    source_id = str(_required(row, "ID"))
    name = text(row.get("Name"))
    if name is None:
        raise MappingError("Name is missing")
    vat = text(row.get("VATNumber"))
    coc = text(row.get("ChamberOfCommerce"))
    kind = DebtorKind.BUSINESS if (vat or coc) else DebtorKind.UNKNOWN
    credit_line = amount(row, "CreditLineSales")
    language = text(row.get("Language"))
    email = text(row.get("Email"))
    custom: dict[str, str] = {}
    for key in ("PaymentConditionSales", "Status", "Classification1", "Classification2"):
        value = text(row.get(key))
        if value is not None:
            custom[key] = value
    tags = tuple(t for t in (text(row.get("Classification1")), text(row.get("Classification2"))) if t)
    return Debtor(
        connection_id=connection_id,
        source_id=source_id,
        code=text(row.get("Code")),
        name=name,
        kind=kind,
        country=(text(row.get("Country")) or "").upper() or None,
        language=language.lower()[:2] if language else None,
        emails=(email,) if email else (),
        phone=text(row.get("Phone")),
        vat_number=vat,
        coc_number=coc,
        credit_limit=Money.of(credit_line, base_currency) if credit_line > 0 else None,
        blocked=bool(row.get("Blocked") or False),
        tags=tags,
        custom_fields=custom,
        source_modified=parse_datetime(row.get("Modified")),
    )


# --------------------------------------------------------------------------- payment terms

#: The fields of a term we keep in the adapter's state to regroup an invoice later.
TERM_STATE_FIELDS = (
    "ID", "Account", "TransactionEntryID", "EntryNumber", "InvoiceNumber", "InvoiceDate", "DueDate",
    "AmountDC", "AmountFC", "TransactionAmountDC", "TransactionAmountFC", "Currency", "Status",
    "IsFullyPaid", "EndDate", "LastPaymentDate", "PaymentReference", "Description", "YourRef",
    "TransactionType", "Modified",
)


def validate_term(row: Mapping[str, Any]) -> dict[str, Any]:
    """Check one receivable term and keep what grouping needs; raises MappingError if malformed."""
    _required(row, "ID")
    _required(row, "Account")
    for field in ("AmountDC", "AmountFC", "TransactionAmountDC", "TransactionAmountFC"):
        amount(row, field)
    if parse_date(row.get("InvoiceDate")) is None:
        raise MappingError("InvoiceDate is missing")
    parse_date(row.get("DueDate"))
    parse_date(row.get("EndDate"))
    parse_date(row.get("LastPaymentDate"))
    status = row.get("Status")
    if status is not None and not isinstance(status, int):
        raise MappingError(f"Status is not a number: {status!r}")
    return {key: row.get(key) for key in TERM_STATE_FIELDS}


def term_is_settled(term: Mapping[str, Any]) -> bool:
    """§5: fully paid when ``IsFullyPaid`` or ``Status`` 50 (matched)."""
    return bool(term.get("IsFullyPaid")) or term.get("Status") == STATUS_MATCHED


def group_key(term: Mapping[str, Any]) -> str:
    """§5: the terms of one invoice share ``TransactionEntryID`` (inference from the field text)."""
    return str(term.get("TransactionEntryID") or term["ID"])


def _signed(total: Decimal, reference: Decimal) -> Decimal:
    """Open amounts from the creditor's side: owed is positive.

    §3.2 [UNVERIFIED]: one observer saw ``AmountDC`` negative for a normal receivable, while
    ``TransactionAmountDC`` is positive for an invoice and negative for a credit note. We take the
    magnitude of the terms and the sign of the transaction total, so either reading of the term
    sign maps the same way.
    """
    magnitude = abs(total)
    return -magnitude if reference < 0 else magnitude


def open_item_from_terms(
    terms: Iterable[Mapping[str, Any]], *, connection_id: str, base_currency: str
) -> OpenItem:
    """All receivable terms of one invoice (or credit note, or unallocated receipt) → one OpenItem."""
    all_terms = sorted(terms, key=lambda t: str(t["ID"]))
    if not all_terms:
        raise MappingError("an item without terms")
    first = all_terms[0]
    currency = text(first.get("Currency")) or base_currency
    open_terms = [t for t in all_terms if not term_is_settled(t)]
    reference = amount(first, "TransactionAmountDC")
    if reference == 0:
        reference = -sum((amount(t, "AmountDC") for t in all_terms), Decimal(0))
    transaction_type = first.get("TransactionType")
    if transaction_type == TRANSACTION_CASH_FLOW:
        kind = ItemKind.UNAPPLIED_PAYMENT
        reference = -abs(reference) if reference else Decimal(-1)
    elif reference < 0:
        kind = ItemKind.CREDIT_NOTE
    else:
        kind = ItemKind.INVOICE
    original_fc = amount(first, "TransactionAmountFC") or sum((amount(t, "AmountFC") for t in all_terms), Decimal(0))
    original_dc = amount(first, "TransactionAmountDC") or sum((amount(t, "AmountDC") for t in all_terms), Decimal(0))
    open_fc = sum((amount(t, "AmountFC") for t in open_terms), Decimal(0))
    open_dc = sum((amount(t, "AmountDC") for t in open_terms), Decimal(0))
    due_dates = [d for d in (parse_date(t.get("DueDate")) for t in (open_terms or all_terms)) if d]
    invoice_date = min(d for d in (parse_date(t.get("InvoiceDate")) for t in all_terms) if d)
    closed_on: date | None = None
    if not open_terms:
        ends = [d for t in all_terms for d in (parse_date(t.get("EndDate")), parse_date(t.get("LastPaymentDate"))) if d]
        closed_on = max(ends) if ends else None
    number = first.get("InvoiceNumber") or first.get("EntryNumber")
    modified = [m for m in (parse_datetime(t.get("Modified")) for t in all_terms) if m]
    return OpenItem(
        connection_id=connection_id,
        source_id=group_key(first),
        debtor_source_id=str(first["Account"]),
        document_number=str(number) if number else None,
        kind=kind,
        invoice_date=invoice_date,
        due_date=min(due_dates) if due_dates else None,
        original=Money.of(_signed(original_fc, reference), currency),
        open=Money.of(_signed(open_fc, reference), currency),
        original_base=Money.of(_signed(original_dc, reference), base_currency),
        open_base=Money.of(_signed(open_dc, reference), base_currency),
        status=ItemStatus.OPEN if open_terms else ItemStatus.PAID,
        closed_on=closed_on,
        payment_reference=text(first.get("PaymentReference")),
        description=text(first.get("Description")) or text(first.get("YourRef")),
        in_direct_debit=any(t.get("Status") in (STATUS_SELECTED, STATUS_PROCESSED) for t in open_terms),
        source_modified=max(modified) if modified else None,
    )


def payment_from_settled_term(
    term: Mapping[str, Any], *, connection_id: str
) -> Payment | None:
    """§5: a term that got matched is what settles (part of) an invoice: that is our payment.

    Receipts matched to invoices are seen from the term side; the amount is the settled term's.
    Credit notes and receipts themselves yield no payment.
    """
    if not term_is_settled(term):
        return None
    reference = amount(term, "TransactionAmountDC")
    if reference <= 0 or term.get("TransactionType") == TRANSACTION_CASH_FLOW:
        return None
    paid_on = parse_date(term.get("LastPaymentDate")) or parse_date(term.get("EndDate"))
    if paid_on is None:
        return None
    currency = text(term.get("Currency")) or "EUR"
    return Payment(
        connection_id=connection_id,
        source_id=str(term["ID"]),
        debtor_source_id=str(term["Account"]),
        item_source_ids=(group_key(term),),
        paid_on=paid_on,
        amount=Money.of(abs(amount(term, "AmountFC")), currency),
    )
