"""Pure mapping between Moneybird payloads and the common model (no I/O).

Facts from docs/reference/moneybird.md: ids are strings (§1), money is decimal strings (§1), contacts
have company_name or firstname+lastname (§8), sales-invoice fields and states (§4), payments are
embedded in the invoice (§6), reminders show as ``reminder_count`` and ``events`` (§4), send_reminders
groups by contact, workflow, document style and identity (§7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connector.errors import MappingError
from connector.model import (
    Debtor,
    DebtorKind,
    ItemKind,
    ItemStatus,
    Money,
    OpenItem,
    Payment,
    to_decimal,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

#: §4: the unpaid set. ``uncollectible`` keeps ``total_unpaid`` > 0, so state decides, not amount.
UNPAID_STATES = ("open", "late", "reminded", "pending_payment")
#: States that may be put in a reminder (§7; the sandbox answers 422 for others).
REMINDABLE_STATES = ("open", "late", "reminded")
#: §4 events: the reminder actions (webhook list WHEV).
REMINDER_EVENTS = (
    "sales_invoice_send_reminder_email",
    "sales_invoice_send_reminder_manually",
    "sales_invoice_send_reminder_post",
)
_TRUE_WORDS = {"ja", "j", "yes", "y", "true", "1", "x", "geblokkeerd", "blocked", "bloqué", "bloque", "oui"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _required_id(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        raise MappingError(f"missing {key}")
    text = str(value).strip()
    if not text.isdigit():
        raise MappingError(f"{key} is not a Moneybird id: {text!r}")
    return text


def _date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MappingError(f"{field} is not a date: {value!r}") from None


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _amount(row: Mapping[str, Any], field: str) -> Decimal:
    """§1: money comes as decimal strings (``"363.0"``); taken exactly, never through float."""
    value = row.get(field)
    if value is None or isinstance(value, bool):
        raise MappingError(f"missing {field}")
    try:
        return to_decimal(value)
    except (ValueError, TypeError):
        raise MappingError(f"{field} is not an amount: {value!r}") from None


def is_truthy(value: str | None) -> bool:
    """A custom-field text that means "yes" (the field is free text or a dropdown, §8)."""
    return (value or "").strip().lower() in _TRUE_WORDS


def custom_field_map(raw: Any) -> dict[str, str]:
    """§8 ``custom_fields: [{id, name, value}]`` → name → value."""
    result: dict[str, str] = {}
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict) and entry.get("name") is not None:
                result[str(entry["name"])] = "" if entry.get("value") is None else str(entry["value"])
    return result


def debtor_kind(contact: Mapping[str, Any]) -> DebtorKind:
    """§8: a contact is a company when it has a company name, a person when it has only
    first/last name (a company's contact person also fills those fields)."""
    if _text(contact.get("company_name")):
        return DebtorKind.BUSINESS
    if _text(contact.get("firstname")) or _text(contact.get("lastname")):
        return DebtorKind.CONSUMER
    return DebtorKind.UNKNOWN


def debtor_from_contact(
    contact: Mapping[str, Any],
    *,
    connection_id: str,
    base_currency: str,
    block_field: str | None = None,
    credit_limit_field: str | None = None,
) -> Debtor:
    """A contact (§8 fields) as a Debtor. Moneybird has no blocked or credit-limit field; when the
    connection names contact custom fields for them, their values are read from there."""
    source_id = _required_id(contact, "id")
    company = _text(contact.get("company_name"))
    person = " ".join(p for p in (_text(contact.get("firstname")), _text(contact.get("lastname"))) if p)
    name = company or person
    if not name:
        raise MappingError("contact has neither a company name nor a first or last name")
    emails: list[str] = []
    for raw in (contact.get("send_invoices_to_email"), contact.get("email")):
        for part in str(raw or "").replace(";", ",").split(","):
            address = part.strip()
            if address and address not in emails:
                emails.append(address)
    fields = custom_field_map(contact.get("custom_fields"))
    credit_limit: Money | None = None
    if credit_limit_field and _text(fields.get(credit_limit_field)):
        text = str(fields[credit_limit_field]).strip().replace("€", "").replace(" ", "")
        if "," in text:  # §1 request money may use a decimal comma; "1.000,50" style too
            text = text.replace(".", "").replace(",", ".")
        try:
            credit_limit = Money.of(to_decimal(text), base_currency)
        except (ValueError, TypeError):
            raise MappingError(f"custom field {credit_limit_field!r} is not an amount: {fields[credit_limit_field]!r}") from None
    country = _text(contact.get("country"))
    return Debtor(
        connection_id=connection_id,
        source_id=source_id,
        code=_text(contact.get("customer_id")),
        name=name,
        kind=debtor_kind(contact),
        country=country.upper() if country else None,
        language=None,  # §8: contacts carry no language
        emails=tuple(emails),
        phone=_text(contact.get("phone")),
        vat_number=_text(contact.get("tax_number")),
        coc_number=_text(contact.get("chamber_of_commerce")),
        credit_limit=credit_limit,
        blocked=bool(block_field) and is_truthy(fields.get(block_field or "")),
        custom_fields=fields,
        source_modified=_moment(contact.get("updated_at")),
    )


def _last_reminder(invoice: Mapping[str, Any]) -> date | None:
    best: date | None = None
    events = invoice.get("events")
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict) and event.get("action") in REMINDER_EVENTS:
            moment = _moment(event.get("created_at"))
            if moment is not None:
                day = moment.astimezone(AMSTERDAM).date()
                best = day if best is None or day > best else best
    return best


def reminded_since(invoice: Mapping[str, Any], day: date) -> bool:
    """Whether a reminder event on or after ``day`` (Amsterdam) is on the invoice (§4 events)."""
    last = _last_reminder(invoice)
    return last is not None and last >= day


def invoice_status(state: str) -> ItemStatus | None:
    """§4 states → the common status; None for drafts and scheduled invoices (not receivables yet)."""
    if state in UNPAID_STATES:
        return ItemStatus.OPEN
    if state == "paid":
        return ItemStatus.PAID
    if state == "uncollectible":
        return ItemStatus.WRITTEN_OFF
    if state in ("draft", "scheduled"):
        return None
    raise MappingError(f"unknown invoice state {state!r}")


def open_item_from_invoice(invoice: Mapping[str, Any], *, connection_id: str, base_currency: str) -> OpenItem | None:
    """A sales invoice (§4 fields) as an OpenItem; None when it is not a receivable (draft).

    Credit invoices have negative totals (§4) and become credit notes. Paid and uncollectible
    invoices stay records with their closing date (``paid_at``, ``marked_uncollectible_on``).
    """
    source_id = _required_id(invoice, "id")
    contact_id = _required_id(invoice, "contact_id")
    state = _text(invoice.get("state"))
    if state is None:
        raise MappingError("missing state")
    status = invoice_status(state)
    if status is None:
        return None
    currency = _text(invoice.get("currency")) or base_currency
    total = _amount(invoice, "total_price_incl_tax")
    unpaid = _amount(invoice, "total_unpaid")
    total_base = _amount(invoice, "total_price_incl_tax_base") if invoice.get("total_price_incl_tax_base") is not None else total
    unpaid_base = _amount(invoice, "total_unpaid_base") if invoice.get("total_unpaid_base") is not None else unpaid
    invoice_date = _date(invoice.get("invoice_date"), "invoice_date")
    if invoice_date is None:
        raise MappingError("a sent invoice without invoice_date")
    closed_on: date | None = None
    if status == ItemStatus.PAID:
        closed_on = _date(invoice.get("paid_at"), "paid_at") or _last_payment_date(invoice)
        unpaid, unpaid_base = Decimal("0"), Decimal("0")
    elif status == ItemStatus.WRITTEN_OFF:
        closed_on = _date(invoice.get("marked_uncollectible_on"), "marked_uncollectible_on")
    is_credit = total < 0 or invoice.get("original_sales_invoice_id") not in (None, "")
    reminders = invoice.get("reminder_count")
    return OpenItem(
        connection_id=connection_id,
        source_id=source_id,
        debtor_source_id=contact_id,
        document_number=_text(invoice.get("invoice_id")),
        kind=ItemKind.CREDIT_NOTE if is_credit else ItemKind.INVOICE,
        invoice_date=invoice_date,
        due_date=_date(invoice.get("due_date"), "due_date"),
        original=Money.of(total, currency),
        open=Money.of(unpaid, currency),
        original_base=Money.of(total_base, base_currency),
        open_base=Money.of(unpaid_base, base_currency),
        status=status,
        closed_on=closed_on,
        payment_reference=_text(invoice.get("payment_reference")),
        description=_text(invoice.get("reference")),
        in_direct_debit=state == "pending_payment",
        source_dunning_level=reminders if isinstance(reminders, int) and not isinstance(reminders, bool) else None,
        source_dunning_date=_last_reminder(invoice),
        source_modified=_moment(invoice.get("updated_at")),
    )


def _last_payment_date(invoice: Mapping[str, Any]) -> date | None:
    days = [p.get("payment_date") for p in invoice.get("payments") or [] if isinstance(p, dict)]
    parsed = [d for d in (_date(v, "payment_date") for v in days) if d is not None]
    return max(parsed) if parsed else None


def payments_from_invoice(invoice: Mapping[str, Any], *, connection_id: str) -> list[Payment]:
    """§6: payments are embedded in the invoice (``payments[]``); ``invoice_id`` is the Moneybird
    id of the document. Amounts in the invoice currency, negative on credit invoices."""
    source_id = _required_id(invoice, "id")
    contact_id = _text(invoice.get("contact_id"))
    currency = _text(invoice.get("currency")) or "EUR"
    result: list[Payment] = []
    for raw in invoice.get("payments") or []:
        if not isinstance(raw, dict):
            raise MappingError("a payment that is not an object")
        paid_on = _date(raw.get("payment_date"), "payment_date")
        if paid_on is None:
            raise MappingError("a payment without payment_date")
        result.append(
            Payment(
                connection_id=connection_id,
                source_id=_required_id(raw, "id"),
                debtor_source_id=contact_id,
                item_source_ids=(source_id,),
                paid_on=paid_on,
                amount=Money.of(_amount(raw, "price"), currency),
            )
        )
    return result


@dataclass(frozen=True)
class ReminderGroup:
    """One entry of ``sales_invoice_reminders`` (§7): one contact, one workflow, style, identity."""

    contact_id: str
    workflow_id: str
    document_style_id: str
    identity_id: str
    sales_invoice_ids: tuple[str, ...]

    def body(self, delivery_method: str) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "workflow_id": self.workflow_id,
            "document_style_id": self.document_style_id,
            "identity_id": self.identity_id,
            "sales_invoice_ids": list(self.sales_invoice_ids),
            "delivery_method": delivery_method,
        }


def reminder_groups(invoices: Iterable[Mapping[str, Any]]) -> list[ReminderGroup]:
    """§7 "Reminders are grouped by workflow, identity and document style": take those from each
    invoice, so one planned message becomes one reminder per distinct combination. Order is
    stable (first appearance), invoice ids keep their order within a group."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for invoice in invoices:
        key = (
            _required_id(invoice, "contact_id"),
            _required_id(invoice, "workflow_id"),
            _required_id(invoice, "document_style_id"),
            _required_id(invoice, "identity_id"),
        )
        groups.setdefault(key, []).append(_required_id(invoice, "id"))
    return [ReminderGroup(*key, sales_invoice_ids=tuple(ids)) for key, ids in groups.items()]


#: settled invoices read once at link time, so KPIs over the past have their history
#: (docs/reference/legal-and-kpi.md §4: countback DSO, days to pay)
HISTORY_MONTHS = 13


def settled_filter(today: date, months: int = HISTORY_MONTHS) -> str:
    """§4/§5: invoices paid or written off, dated in the last ``months`` months (explicit period)."""
    month0 = today.year * 12 + today.month - 1 - months
    return f"state:paid|uncollectible,period:{month0 // 12:04d}{month0 % 12 + 1:02d}..{today.year + 1}12"


def unpaid_filter(today: date) -> str:
    """§4/§5: the unpaid set with an explicit period (the list default is ``this_year``; open
    ranges are a 400). From January 2000 to the end of next year covers every dated invoice."""
    return f"state:{'|'.join(UNPAID_STATES)},period:200001..{today.year + 1}12"
