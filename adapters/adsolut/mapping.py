"""Pure mapping between Adsolut payloads and the common model (no I/O).

* Customers (reference A5): the Accounting customer GET shape → :class:`Debtor`.
* Open items (ASSUMED shape, see :mod:`adapters.adsolut.sandbox`): → :class:`OpenItem`.
* Write-back (A6): the customer read shape → the PUT (write) shape, so a full-replace PUT
  carries back every field it read.

Dates (A7): Accounting ``lastModified`` carries an offset; ERP-style dates come without one and
``0001-01-01T00:00:00`` means unset. An offset-less moment is taken as UTC (ASSUMED); a calendar
date is the date as written, or, with an offset, the date in Europe/Brussels.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connector.errors import MappingError
from connector.model import Debtor, DebtorKind, ItemKind, ItemStatus, Money, OpenItem, to_decimal

BRUSSELS = ZoneInfo("Europe/Brussels")

#: A6: fields of the GET shape that are read-only and never sent in a PUT.
READ_ONLY = frozenset({"code", "id", "lastModified", "links", "contacts", "postingRuleLines", "currency"})
#: A6: nested ``{id}`` lookups in the read shape become flat ``…Id`` strings in the write shape.
FLATTENED = {"country": "countryId", "vatSpecification": "vatSpecificationId", "vatPercentage": "vatPercentageId"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_moment(value: Any) -> datetime | None:
    """An aware UTC datetime, or None for empty and the ``0001-01-01`` "unset" marker."""
    text = _text(value)
    if text is None or text.startswith("0001-01-01"):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"not a date-time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # ASSUMED: offset-less moments are UTC
    return moment.astimezone(UTC)


def parse_day(value: Any) -> date | None:
    """The calendar date of a date or date-time (with an offset: the date in Brussels)."""
    text = _text(value)
    if text is None or text.startswith("0001-01-01"):
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"not a date: {text[:40]!r}") from None
    return moment.astimezone(BRUSSELS).date() if moment.tzinfo else moment.date()


def debtor_from_customer(row: Mapping[str, Any], *, connection_id: str, default_country: str | None = "BE") -> Debtor:
    """A5: an Accounting customer. Adsolut has no customer-kind field: a customer with a VAT
    number is taken for a business, one without for a consumer (ASSUMED, Belgian practice:
    every business has a KBO number and B2B invoices carry it)."""
    ident = _text(row.get("id"))
    if ident is None:
        raise MappingError("customer without id")
    name = _text(row.get("name"))
    if name is None:
        raise MappingError(f"customer {ident} has no name")
    vat = _text(row.get("vatNumber"))
    prefix = (_text(row.get("countryPrefixVatNumber")) or "").upper() or None
    language = (_text(row.get("languageIsoCode")) or "").lower()[:2] or None
    due_days = row.get("dueDays")
    terms = due_days if isinstance(due_days, int) and not isinstance(due_days, bool) and due_days > 0 else None
    reminders = row.get("remindersEnabled")
    email = _text(row.get("email"))
    return Debtor(
        connection_id=connection_id,
        source_id=ident,
        code=_text(row.get("code")) or _text(row.get("number")),
        name=name,
        kind=DebtorKind.BUSINESS if vat else DebtorKind.CONSUMER,
        country=prefix or default_country,
        language=language,
        emails=(email,) if email else (),
        phone=_text(row.get("phone")) or _text(row.get("mobilePhone")),
        vat_number=f"{prefix or ''}{vat}" if vat else None,
        coc_number=vat if vat and (prefix in (None, "BE")) else None,  # BE: the VAT number is the KBO number
        payment_terms_days=terms,
        reminders_enabled_in_source=reminders if isinstance(reminders, bool) else None,
        source_modified=parse_moment(row.get("lastModified")),
    )


def _money(row: Mapping[str, Any], key: str, currency: str) -> Money:
    value = row.get(key)
    if value is None:
        raise MappingError(f"open item without {key}")
    try:
        return Money.of(to_decimal(value), currency)
    except (TypeError, ValueError) as exc:
        raise MappingError(f"open item {key} is not an amount: {str(value)[:20]!r}") from exc


def open_item_from_row(row: Mapping[str, Any], *, connection_id: str, base_currency: str = "EUR") -> OpenItem:
    """ASSUMED shape (no public source): ``id``, ``customer{id}``, ``documentNumber``,
    ``documentType`` (Invoice | CreditNote), ``documentDate``, ``dueDate``, ``currency{isoCode}``,
    ``amount``/``openAmount`` (document currency), ``amountBaseCurrency``/``openAmountBaseCurrency``,
    ``structuredCommunication``, ``lastModified``. An item with nothing open is closed (paid)."""
    ident = _text(row.get("id"))
    if ident is None:
        raise MappingError("open item without id")
    customer = row.get("customer")
    debtor = _text(customer.get("id")) if isinstance(customer, Mapping) else _text(row.get("customerId"))
    if debtor is None:
        raise MappingError(f"open item {ident} has no customer")
    currency_field = row.get("currency")
    currency = (_text(currency_field.get("isoCode")) if isinstance(currency_field, Mapping) else _text(currency_field))
    currency = (currency or base_currency).upper()
    original, open_amount = _money(row, "amount", currency), _money(row, "openAmount", currency)
    if currency == base_currency:
        original_base, open_base = Money.of(original.amount, base_currency), Money.of(open_amount.amount, base_currency)
    else:
        original_base = _money(row, "amountBaseCurrency", base_currency)
        open_base = _money(row, "openAmountBaseCurrency", base_currency)
    invoice_date = parse_day(row.get("documentDate"))
    if invoice_date is None:
        raise MappingError(f"open item {ident} has no document date")
    modified = parse_moment(row.get("lastModified"))
    doc_type = (_text(row.get("documentType")) or "").lower()
    kind = ItemKind.CREDIT_NOTE if doc_type == "creditnote" or (not doc_type and original.amount < 0) else ItemKind.INVOICE
    closed = open_amount.is_zero()
    return OpenItem(
        connection_id=connection_id,
        source_id=ident,
        debtor_source_id=debtor,
        document_number=_text(row.get("documentNumber")),
        kind=kind,
        invoice_date=invoice_date,
        due_date=parse_day(row.get("dueDate")),
        original=original,
        open=open_amount,
        original_base=original_base,
        open_base=open_base,
        status=ItemStatus.PAID if closed else ItemStatus.OPEN,
        closed_on=(modified.astimezone(BRUSSELS).date() if modified else None) if closed else None,
        payment_reference=_text(row.get("structuredCommunication")),
        source_modified=modified,
    )


def write_body(read: Mapping[str, Any], **overlay: Any) -> dict[str, Any]:
    """A6: the PUT body for a customer from its fresh GET, with ``overlay`` applied.

    Read-only fields are dropped; ``country{id}`` → ``countryId`` (likewise VAT specification and
    percentage); ``bankAccounts`` → ``bankAccountLines``. Fields this version does not know are
    passed through unchanged, so that a full replace never drops them. ``active`` is required by PUT
    but absent from GET (A5): it is sent as ``True`` unless the overlay says otherwise, and
    ``externalId`` (in PUT, not in GET) as read or null.
    """
    body: dict[str, Any] = {}
    for key, value in read.items():
        if key in READ_ONLY or key.startswith("_"):
            continue
        if key in FLATTENED:
            body[FLATTENED[key]] = _text(value.get("id")) if isinstance(value, Mapping) else None
        elif key == "bankAccounts":
            body["bankAccountLines"] = [
                {"default": bool(line.get("default")), "iban": line.get("iban"), "bicCode": line.get("bicCode")}
                for line in (value if isinstance(value, list) else []) if isinstance(line, Mapping)
            ]
        else:
            body[key] = value
    body.setdefault("externalId", None)
    body.setdefault("active", True)
    body.update(overlay)
    return body
