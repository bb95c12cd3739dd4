"""Pure mapping between Twinfield XML and the common model (docs/reference/twinfield.md §3–§5).

Browse rows are read **by field code** (``<td field="fin.trs.line.openvaluesigned">``), never by
column position, and their element text, never the localised ``name`` attribute (§3.2).
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connector.errors import MappingError
from connector.model import Debtor, DebtorKind, ItemKind, ItemStatus, Money, OpenItem, Payment, to_decimal

#: §3.6: the columns the open-items query asks for (all visible: zypp's note, §3.1).
ITEM_FIELDS = (
    "fin.trs.head.code", "fin.trs.head.number", "fin.trs.head.date", "fin.trs.head.curcode", "fin.trs.head.status",
    "fin.trs.line.dim2", "fin.trs.line.invnumber", "fin.trs.line.datedue", "fin.trs.line.valuesigned",
    "fin.trs.line.basevaluesigned", "fin.trs.line.openvaluesigned", "fin.trs.line.openbasevaluesigned",
    "fin.trs.line.matchstatus", "fin.trs.line.matchnumber", "fin.trs.line.matchdate", "fin.trs.line.modified",
)
OPEN_STATUSES = ("available", "proposed")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class BrowseRow:
    """One ``<tr>``: values by field code and the line's key (office, daybook, number, line)."""

    fields: dict[str, str]
    office: str
    code: str
    number: str
    line: str

    @property
    def source_id(self) -> str:
        return item_id(self.code, self.number, self.line)

    def raw(self) -> dict[str, Any]:
        return {"key": [self.office, self.code, self.number, self.line], **self.fields}


#: §5.2: the free-text fields a block can be recorded in (``blocked`` is a T&E project flag).
BLOCK_FIELDS = ("freetext2", "freetext3", "comment")
DEFAULT_BLOCK_FIELD = "freetext3"
#: What arconnect writes into the block field to record its credit block.
BLOCK_TEXT = "arconnect: kredietblokkade"

def item_id(code: str, number: str, line: str) -> str:
    """An open item's source id within its office (§3.2: the key identifies the transaction line)."""
    return f"{code}/{number}/{line}"


def clean(text: str | None) -> str:
    """Package text is hostile input: drop control characters, trim."""
    return _CONTROL.sub("", text or "").strip()


def row_from_tr(tr: ET.Element) -> BrowseRow:
    fields = {td.get("field", ""): (td.text or "").strip() for td in tr if _local(td.tag) == "td"}
    key = next((el for el in tr if _local(el.tag) == "key"), None)
    values = {_local(el.tag): (el.text or "").strip() for el in key} if key is not None else {}
    return BrowseRow(fields, values.get("office", ""), values.get("code", ""), values.get("number", ""), values.get("line", ""))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _date(text: str, what: str) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise MappingError(f"{what} is not a yyyyMMdd date: {text!r}") from None


def _timestamp(text: str) -> datetime | None:
    if not text:
        return None
    try:
        # §3.1: yyyyMMddHHmmss; the zone is not documented (read as UTC: UNVERIFIED).
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise MappingError(f"modified is not a yyyyMMddHHmmss timestamp: {text!r}") from None


def _amount(row: BrowseRow, field: str) -> Decimal:
    text = row.fields.get(field)
    if text is None or text == "":
        raise MappingError(f"{field} is missing")
    try:
        return to_decimal(text)
    except (TypeError, ValueError):
        raise MappingError(f"{field} is not an amount: {text!r}") from None


def item_kind(row: BrowseRow, value: Decimal) -> ItemKind:
    """Invoice, credit note or unapplied payment.

    Positive lines are invoices. A negative line is a credit note when it is a sales document of
    its own (its invoice number is its transaction number), otherwise a receipt not (fully)
    matched. Browse 100 has no column naming the daybook type (§3.4), so this rule is inferred
    from the samples (sales total lines carry their own number as invoice number, bank lines the
    number of the invoice they pay) — UNVERIFIED; reading the daybook types (finder ``TRS``) is
    the alternative.
    """
    if value >= 0:
        return ItemKind.INVOICE
    return ItemKind.CREDIT_NOTE if row.fields.get("fin.trs.line.invnumber") == row.number else ItemKind.UNAPPLIED_PAYMENT


def open_item_from_row(row: BrowseRow, connection_id: str, base_currency: str) -> OpenItem:
    """A browse-100 row as an open item; a matched row comes back as paid (open 0, closed on its match date)."""
    currency = row.fields.get("fin.trs.head.curcode") or base_currency
    value = _amount(row, "fin.trs.line.valuesigned")
    base_value = _amount(row, "fin.trs.line.basevaluesigned")
    status = row.fields.get("fin.trs.line.matchstatus", "")
    matched = status == "matched"
    open_value = Decimal(0) if matched else _amount(row, "fin.trs.line.openvaluesigned")
    open_base = Decimal(0) if matched else _amount(row, "fin.trs.line.openbasevaluesigned")
    invoice_date = _date(row.fields.get("fin.trs.head.date", ""), "fin.trs.head.date")
    if invoice_date is None:
        raise MappingError("fin.trs.head.date is missing")
    debtor = clean(row.fields.get("fin.trs.line.dim2"))
    if not debtor:
        raise MappingError("fin.trs.line.dim2 (customer) is missing")
    return OpenItem(
        connection_id=connection_id,
        source_id=row.source_id,
        debtor_source_id=debtor,
        document_number=clean(row.fields.get("fin.trs.line.invnumber")) or row.number,
        kind=item_kind(row, value),
        invoice_date=invoice_date,
        due_date=_date(row.fields.get("fin.trs.line.datedue", ""), "fin.trs.line.datedue"),
        original=Money.of(value, currency),
        open=Money.of(open_value, currency),
        original_base=Money.of(base_value, base_currency),
        open_base=Money.of(open_base, base_currency),
        status=ItemStatus.PAID if matched else ItemStatus.OPEN,
        closed_on=_date(row.fields.get("fin.trs.line.matchdate", ""), "fin.trs.line.matchdate") if matched else None,
        # §3.5 / §4.1: proposed = taken into a collection run; not to be reminded meanwhile.
        in_direct_debit=status == "proposed",
        source_modified=_timestamp(row.fields.get("fin.trs.line.modified", "")),
    )


def payments_from_rows(rows: list[BrowseRow], connection_id: str, base_currency: str) -> list[Payment]:
    """Receipts matched with invoices (§4.2: customer + match number links payment to invoice).

    Each receipt line that carries a match number is a payment of the part of it that was set
    off (value − open value), settling the sales lines with the same match number.
    """
    by_match: dict[str, list[BrowseRow]] = {}
    for row in rows:
        number = row.fields.get("fin.trs.line.matchnumber", "")
        if number:
            by_match.setdefault(f"{row.fields.get('fin.trs.line.dim2', '')}:{number}", []).append(row)
    payments: list[Payment] = []
    for group in by_match.values():
        receipts: list[tuple[BrowseRow, Decimal]] = []
        sales: list[tuple[BrowseRow, Decimal]] = []
        for row in group:
            value = _amount(row, "fin.trs.line.valuesigned")
            (receipts if item_kind(row, value) == ItemKind.UNAPPLIED_PAYMENT else sales).append((row, value))
        for row, value in receipts:
            is_matched = row.fields.get("fin.trs.line.matchstatus") == "matched"
            open_value = Decimal(0) if is_matched else _amount(row, "fin.trs.line.openvaluesigned")
            paid_on = _date(row.fields.get("fin.trs.line.matchdate", ""), "fin.trs.line.matchdate")
            if paid_on is None:
                continue
            payments.append(Payment(
                connection_id=connection_id,
                source_id=row.source_id,
                debtor_source_id=clean(row.fields.get("fin.trs.line.dim2")) or None,
                item_source_ids=tuple(s.source_id for s, v in sales if v > 0),
                paid_on=paid_on,
                amount=Money.of(open_value - value, row.fields.get("fin.trs.head.curcode") or base_currency),
            ))
    return payments


# ---------------------------------------------------------------- dimensions (§5)


def debtor_from_dimension(dim: ET.Element, connection_id: str, base_currency: str,
                          block_field: str = DEFAULT_BLOCK_FIELD) -> Debtor:
    """A DEB dimension as a debtor. It is ``blocked`` when arconnect's block text stands in the
    connection's block field: a block arconnect wrote reads back as one, and a person who deletes
    the text lifts it (the next sync sees that)."""
    code = clean(dim.findtext("code"))
    if not code:
        raise MappingError("dimension without code")
    name = clean(dim.findtext("name")) or code
    address = next((a for a in dim.iter("address") if a.get("default") == "true"), dim.find("addresses/address"))
    email = clean(address.findtext("email")) if address is not None else ""
    country = clean(address.findtext("country")) if address is not None else ""
    cm = dim.find("creditmanagement")
    limit_text = clean(cm.findtext("basecreditlimit")) if cm is not None else ""
    try:
        limit = to_decimal(limit_text) if limit_text else None
    except ValueError:
        raise MappingError(f"basecreditlimit is not an amount: {limit_text!r}") from None
    duedays = clean(dim.findtext("financials/duedays"))
    send = clean(cm.findtext("sendreminder")) if cm is not None else ""
    vat = clean(dim.findtext("vatnumber"))
    coc = clean(dim.findtext("cocnumber"))
    return Debtor(
        connection_id=connection_id,
        source_id=code,
        code=code,
        name=name,
        kind=DebtorKind.BUSINESS if (vat or coc) else DebtorKind.UNKNOWN,
        country=country.upper()[:2] or None,
        emails=tuple(e for e in (email, clean(cm.findtext("reminderemail")) if cm is not None else "") if e),
        phone=(clean(address.findtext("telephone")) or None) if address is not None else None,
        vat_number=vat or None,
        coc_number=coc or None,
        payment_terms_days=int(duedays) if duedays.isdigit() else None,
        # §5.2: 0.00 is Twinfield's "no limit set".
        credit_limit=Money.of(limit, base_currency) if limit else None,
        # §5.2: ``blocked`` blocks projects in time & expenses, not sales: it is not a credit block.
        blocked=cm is not None and BLOCK_TEXT in (cm.findtext(block_field) or ""),
        reminders_enabled_in_source=send in ("true", "email") if send else None,
        source_modified=_timestamp(clean(dim.findtext("modified"))),
    )


#: §5.3: elements a write must not carry (``inuse`` is refused) or that the server keeps.
_READ_ONLY = ("inuse", "behaviour", "touched", "modified", "beginperiod", "beginyear", "endperiod", "endyear")


def writable_dimension(read: ET.Element) -> ET.Element:
    """The dimension as read, made fit to post back: every block kept, read-only parts removed.

    Read-modify-write (§5.3: whether omitted children survive an update is UNVERIFIED), so the
    whole dimension goes back; ``financials/level`` is read-only (§5.2) and the ``result``
    attribute is part of the answer, not of the object.
    """
    dim = copy.deepcopy(read)
    dim.attrib.pop("result", None)
    for element in dim.iter():
        for attr in ("msgtype", "msg", "result"):
            element.attrib.pop(attr, None)
    for tag in _READ_ONLY:
        for child in dim.findall(tag):
            dim.remove(child)
    financials = dim.find("financials")
    if financials is not None:
        for child in financials.findall("level"):
            financials.remove(child)
    # Creating responses have been seen with duplicated creditmanagement children (§5.2): keep the first.
    cm = dim.find("creditmanagement")
    if cm is not None:
        seen: set[str] = set()
        for child in list(cm):
            if child.tag in seen:
                cm.remove(child)
            seen.add(child.tag)
    return dim


def set_credit_field(dim: ET.Element, tag: str, value: str) -> bool:
    """Set ``creditmanagement/<tag>``; True when that changed something."""
    cm = dim.find("creditmanagement")
    if cm is None:
        cm = ET.SubElement(dim, "creditmanagement")
    child = cm.find(tag)
    if child is None:
        child = ET.SubElement(cm, tag)
    if (child.text or "") == value:
        return False
    child.text = value
    return True
