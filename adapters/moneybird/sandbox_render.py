"""JSON shapes of the Moneybird sandbox, field for field as the spec's response schemas.

Every function returns exactly the properties of one ``components.schemas.*_response`` of
docs/reference/moneybird/openapi.json (the conformance test checks this), ids as strings and money as
decimal strings (docs/reference/moneybird.md §1).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.moneybird.sandbox_data import (
    CENT,
    DOCUMENT_STYLES,
    IDENTITIES,
    WORKFLOWS,
    AdminState,
    ContactRec,
    InvoiceRec,
    PaymentRec,
    at,
    iso,
    money,
)

#: Contact-level custom fields every sandbox administration has (reference §8: created in the UI).
CUSTOM_FIELDS = (
    (1, "Kredietlimiet", "contact"),
    (2, "Geblokkeerd", "contact"),
    (3, "Incassostatus", "sales_invoice"),
)
#: Days between reminder steps of the default workflow (reference §7 Workflows: 10, 5, 5).
REMINDER_DELAYS = (10, 5, 5)
#: The second invoice workflow ("Zakelijk", English letters) reminds every 7 days [sandbox choice].
OTHER_REMINDER_DELAYS = (7, 7, 7)


def reminder_delays(workflow: int) -> tuple[int, ...]:
    """The reminder delays of the workflow with fixed-id number ``workflow``."""
    return REMINDER_DELAYS if workflow == WORKFLOWS[0] else OTHER_REMINDER_DELAYS


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def version_of(moment: Any) -> int:
    """reference §1: ``version`` equals the epoch seconds of ``updated_at`` [INFERRED]."""
    return int(moment.timestamp())


def custom_field_values(admin: AdminState, values: dict[str, str]) -> list[dict[str, Any]]:
    names = {admin.fixed_id(100 + n): name for n, name, _ in CUSTOM_FIELDS}
    return [{"id": key, "name": names.get(key, key), "value": value} for key, value in values.items()]


def contact_json(admin: AdminState, rec: ContactRec, *, with_events: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rec.id,
        "administration_id": admin.spec.id,
        "company_name": rec.company_name,
        "firstname": rec.firstname,
        "lastname": rec.lastname,
        "address1": rec.address1,
        "address2": None,
        "zipcode": rec.zipcode,
        "city": rec.city,
        "country": rec.country,
        "phone": rec.phone,
        "delivery_method": rec.delivery_method,
        "customer_id": rec.customer_id,
        "tax_number": rec.tax_number,
        "chamber_of_commerce": rec.chamber_of_commerce,
        "bank_account": None,
        "is_trusted": False,
        "max_transfer_amount": None,
        "attention": None,
        "email": rec.email,
        "email_ubl": True,
        "send_invoices_to_attention": None,
        "send_invoices_to_email": rec.email,
        "send_estimates_to_attention": None,
        "send_estimates_to_email": rec.email,
        "direct_debit": False,
        "sepa_active": False,
        "sepa_iban": None,
        "sepa_iban_account_name": None,
        "sepa_bic": None,
        "sepa_mandate_id": None,
        "sepa_mandate_date": None,
        "sepa_sequence_type": "RCUR",
        "credit_card_number": None,
        "credit_card_reference": None,
        "credit_card_type": None,
        "tax_number_validated_at": None,
        "tax_number_valid": None,
        "invoice_workflow_id": None if rec.invoice_workflow is None else admin.fixed_id(rec.invoice_workflow),
        "estimate_workflow_id": None,
        "si_identifier": None,
        "si_identifier_type": None,
        "moneybird_payments_mandate": False,
        "created_at": iso(rec.created_at),
        "updated_at": iso(rec.updated_at),
        "version": version_of(rec.updated_at),
        "sales_invoices_url": f"https://moneybird.com/{admin.spec.id}/sales_invoices/{_hex64(rec.id)}/all",
        "notes": list(rec.notes),
        "custom_fields": custom_field_values(admin, rec.custom_fields),
        "contact_people": [],
        "archived": rec.archived,
    }
    if with_events:
        body["events"] = [
            _event(admin, "contact_created", rec.created_at, {}),
        ]
    return body


def _hex64(ident: str) -> str:
    import hashlib

    return hashlib.sha256(ident.encode()).hexdigest()


def _event(admin: AdminState, action: str, moment: Any, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "administration_id": admin.spec.id,
        "user_id": admin.user_id,
        "action": action,
        "link_entity_id": None,
        "link_entity_type": None,
        "data": data,
        "created_at": iso(moment),
        "updated_at": iso(moment),
    }


def payment_json(admin: AdminState, rec: InvoiceRec, payment: PaymentRec) -> dict[str, Any]:
    return {
        "id": payment.id,
        "administration_id": admin.spec.id,
        "invoice_type": "SalesInvoice",
        "invoice_id": rec.id,
        "financial_account_id": None,
        "user_id": admin.user_id,
        "payment_transaction_id": None,
        "transaction_identifier": payment.transaction_identifier,
        "price": money(payment.price),
        "price_base": money(payment.price_base),
        "payment_date": payment.payment_date.isoformat(),
        "credit_invoice_id": payment.credit_invoice_id,
        "financial_mutation_id": None,
        "ledger_account_id": admin.fixed_id(60),
        "linked_payment_id": None,
        "manual_payment_action": payment.manual_payment_action,
        "created_at": iso(payment.created_at),
        "updated_at": iso(payment.created_at),
    }


def next_reminder(rec: InvoiceRec, state: str) -> date | None:
    if state in ("draft", "paid", "uncollectible") or rec.paused:
        return None
    if not rec.reminders:
        return rec.due_date
    delays = reminder_delays(rec.workflow)
    step = min(len(rec.reminders), len(delays)) - 1
    return rec.reminders[-1] + timedelta(days=delays[step])


def invoice_json(admin: AdminState, rec: InvoiceRec, today: date, *, malformed: bool = False) -> dict[str, Any]:
    contact = admin.contact(rec.contact_index) or admin._generate_contact(rec.contact_index)
    state = rec.state(today)
    updated = rec.effective_updated_at(today)
    rate = rec.rate
    total = rec.total
    unpaid = rec.total_unpaid

    def base(value: Decimal) -> str:
        return money((value * rate).quantize(CENT, ROUND_HALF_UP))

    paid_at = max((p.payment_date for p in rec.payments), default=None) if state == "paid" else None
    sent = None if rec.draft else rec.invoice_date
    events = [_event(admin, action, moment, data) for action, moment, data in rec.events]
    if state == "late" and updated > rec.updated_at:
        events.append(_event(admin, "sales_invoice_state_changed_to_late", updated, {}))
    assert_ref = f"{rec.index + 1:012d}"
    body: dict[str, Any] = {
        "id": rec.id,
        "administration_id": admin.spec.id,
        "contact_id": contact.id,
        "contact": contact_json(admin, contact, with_events=False),
        "contact_person_id": None,
        "contact_person": None,
        "invoice_id": rec.invoice_number,
        "recurring_sales_invoice_id": None,
        "subscription_id": None,
        "workflow_id": admin.fixed_id(rec.workflow),
        "document_style_id": admin.fixed_id(rec.document_style),
        "identity_id": admin.fixed_id(rec.identity),
        "draft_id": rec.index + 1 if rec.draft else None,
        "state": state,
        "invoice_date": _day(rec.invoice_date),
        "due_date": rec.due_date.isoformat(),
        "payment_conditions": "We verzoeken u vriendelijk het bovenstaande bedrag van {document.total_price} "
        "voor {document.due_date} te voldoen op onze bankrekening onder vermelding van de omschrijving "
        "{document.payment_reference}.",
        "payment_reference": f"RF35{assert_ref}" if not rec.draft else None,
        "short_payment_reference": f"RF35{assert_ref[-8:]}" if not rec.draft else None,
        "reference": rec.reference,
        "language": "nl" if contact.country == "NL" or admin.spec.language != "en" else "en",
        "currency": rec.currency,
        "discount": "0.0",
        "original_sales_invoice_id": rec.original_sales_invoice_id,
        "paused": rec.paused,
        "paid_at": _day(paid_at),
        "sent_at": _day(sent),
        "created_at": iso(rec.created_at),
        "updated_at": iso(updated),
        "public_view_code": None if rec.draft else f"{rec.index % 1_000_000:06d}",
        "public_view_code_expires_at": None if rec.draft else iso(at(today + timedelta(days=92), 12)),
        "version": version_of(updated),
        "details": [{
            "id": admin.make_id(6, rec.index),
            "administration_id": admin.spec.id,
            "tax_rate_id": admin.fixed_id(40),
            "ledger_account_id": admin.fixed_id(50),
            "project_id": None,
            "product_id": None,
            "amount": "1 x",
            "amount_decimal": "1.0",
            "description": rec.reference,
            "price": money(rec.excl),
            "period": None,
            "row_order": 1,
            "total_price_excl_tax_with_discount": money(rec.excl),
            "total_price_excl_tax_with_discount_base": base(rec.excl),
            "tax_report_reference": ["NL/1a"],
            "mandatory_tax_text": None,
            "created_at": iso(rec.created_at),
            "updated_at": iso(rec.created_at),
        }],
        "payments": [payment_json(admin, rec, p) for p in rec.payments],
        "total_paid": money(rec.total_paid),
        "total_unpaid": money(unpaid),
        "total_unpaid_base": base(unpaid),
        "prices_are_incl_tax": False,
        "total_price_excl_tax": money(rec.excl),
        "total_price_excl_tax_base": base(rec.excl),
        "total_price_incl_tax": money(total),
        "total_price_incl_tax_base": base(total),
        "total_discount": "0.0",
        "marked_dubious_on": _day(rec.dubious_on),
        "marked_uncollectible_on": _day(rec.uncollectible_on),
        "reminder_count": len(rec.reminders),
        "next_reminder": _day(next_reminder(rec, state)),
        "original_estimate_id": None,
        "url": f"https://moneybird.com/{admin.spec.id}/external/{_hex64(rec.id)}/sales_invoice",
        "payment_url": f"https://moneybird.com/{admin.spec.id}/external/{_hex64(rec.id)}/sales_invoice",
        "custom_fields": custom_field_values(admin, rec.custom_fields),
        "notes": list(rec.notes),
        "attachments": [],
        "events": events,
        "tax_totals": [{
            "tax_rate_id": admin.fixed_id(40),
            "taxable_amount": money(rec.excl),
            "taxable_amount_base": base(rec.excl),
            "tax_amount": money(rec.tax),
            "tax_amount_base": base(rec.tax),
        }],
        "time_entries": [],
    }
    if malformed:
        # Faults "malformed": a total that is not a number (for quarantine tests).
        body["total_unpaid"] = "n/a"
        body["total_price_incl_tax"] = "n/a"
    return body


def note_json(admin: AdminState, note_id: str, entity_id: str, entity_type: str, text: str,
              assignee_id: str | None, todo: bool, moment: Any) -> dict[str, Any]:
    return {
        "id": note_id,
        "administration_id": admin.spec.id,
        "entity_id": entity_id,
        "entity_type": entity_type,
        "user_id": admin.user_id,
        "assignee_id": assignee_id,
        "todo": todo,
        "note": text,
        "completed_at": None,
        "completed_by_id": None,
        "todo_type": None,
        "data": {},
        "created_at": iso(moment),
        "updated_at": iso(moment),
    }


def administration_json(admin: AdminState) -> dict[str, Any]:
    spec = admin.spec
    return {
        "id": spec.id,
        "name": spec.name,
        "language": spec.language,
        "currency": spec.currency,
        "country": spec.country,
        "time_zone": "Europe/Amsterdam" if spec.country == "NL" else "Europe/Brussels",
        "access": "user",
        "suspended": spec.suspended,
        "period_locked_until": None,
        "period_start_date": f"{admin.anchor.year - 2}-01-01",
    }


def _fixed_moment(admin: AdminState) -> Any:
    return admin.base_moment


def workflows_json(admin: AdminState) -> list[dict[str, Any]]:
    """Two invoice workflows: the default Dutch one (reference §7, spec example) and a second one."""
    moment = iso(_fixed_moment(admin))
    dutch = (None, "Beste {recipient.name}, wij hebben uw betaling nog niet ontvangen. {reminders_table}",
             "Beste {recipient.name}, ondanks onze herinnering staat er nog een bedrag open. {reminders_table}",
             "Beste {recipient.name}, dit is onze laatste herinnering. {reminders_table}")
    english = (None, "Dear {recipient.name}, we have not yet received your payment. {reminders_table}",
               "Dear {recipient.name}, despite our reminder an amount is still due. {reminders_table}",
               "Dear {recipient.name}, this is our final reminder. {reminders_table}")
    result = []
    for number, name, language, texts in ((WORKFLOWS[0], "Standaard", "nl", dutch),
                                          (WORKFLOWS[1], "Zakelijk (Engels)", "en", english)):
        delays = reminder_delays(number)
        steps = [
            {"id": admin.fixed_id(number + 1 + n), "administration_id": admin.spec.id, "step_order": n,
             "due_interval": 14 if n == 0 else 0, "reminder_delay": 0 if n == 0 else delays[n - 1],
             "reminder_text": texts[n], "reminder_auto_send": False, "action": None,
             "created_at": moment, "updated_at": moment}
            for n in range(4)
        ]
        result.append({
            "id": admin.fixed_id(number), "administration_id": admin.spec.id, "type": "InvoiceWorkflow",
            "name": name, "default": number == WORKFLOWS[0], "currency": admin.spec.currency, "language": language,
            "active": True, "prices_are_incl_tax": False, "payment_methods": [], "collection_method": None,
            "number_of_collections": 0, "show_qr_code": True, "created_at": moment, "updated_at": moment,
            "steps": steps,
        })
    return result


def document_styles_json(admin: AdminState) -> list[dict[str, Any]]:
    """Two styles; each names its identity (spec ``document_style_response.identity_id``; the
    default style uses the default identity, as in the spec examples)."""
    moment = iso(_fixed_moment(admin))
    return [{
        "id": admin.fixed_id(number), "administration_id": admin.spec.id, "name": name,
        "identity_id": admin.fixed_id(identity), "default": number == DOCUMENT_STYLES[0], "logo_hash": None,
        "logo_container_full_width": False, "logo_display_width": 50, "logo_position": "left",
        "background_hash": None, "paper_size": "A4", "address_position": "left", "font_size": 10,
        "font_family": "Helvetica", "print_on_stationery": False, "custom_css": None,
        "invoice_sender_address": [], "invoice_metadata_left": [], "invoice_metadata_right": [],
        "estimate_sender_address": [], "estimate_metadata_left": [], "estimate_metadata_right": [],
        "created_at": moment, "updated_at": moment,
    } for number, name, identity in ((DOCUMENT_STYLES[0], "Standaard", IDENTITIES[0]),
                                     (DOCUMENT_STYLES[1], "Zakelijk", IDENTITIES[1]))]


def _identity_json(admin: AdminState, number: int) -> dict[str, Any]:
    moment = iso(_fixed_moment(admin))
    be = admin.spec.country == "BE"
    default = number == IDENTITIES[0]
    name = admin.spec.name if default else f"{admin.spec.name} (Zakelijk)"
    return {
        "id": admin.fixed_id(number), "administration_id": admin.spec.id, "company_name": name,
        "city": ("Gent" if be else "Utrecht") if default else ("Antwerpen" if be else "Rotterdam"),
        "country": admin.spec.country,
        "zipcode": ("9000" if be else "3511 AB") if default else ("2000" if be else "3011 AA"),
        "address1": "Kerkstraat 1" if default else "Havenweg 12", "address2": None,
        "email": "facturen@example.com" if default else "zakelijk@example.com", "phone": None,
        "bank_account_name": name,
        "bank_account_number": "BE71096123456769" if be else "NL91ABNA0417164300", "bank_account_bic": None,
        "custom_fields": [], "updated_at": moment, "created_at": moment,
        "chamber_of_commerce": "0123456789" if be else "12345678",
        "tax_number": "BE0123456789" if be else "NL123456789B01",
    }


def identities_json(admin: AdminState) -> list[dict[str, Any]]:
    """``GET /identities``: "This does not include the default identity" (spec) — only the second."""
    return [_identity_json(admin, number) for number in IDENTITIES[1:]]


def default_identity_json(admin: AdminState) -> dict[str, Any]:
    """``GET /identities/default`` (spec): the identity of the default document style."""
    return _identity_json(admin, IDENTITIES[0])


def users_json(admin: AdminState) -> list[dict[str, Any]]:
    moment = iso(_fixed_moment(admin))
    return [
        {"id": admin.user_id, "name": "Mo Neybird", "created_at": moment, "updated_at": moment,
         "email": "eigenaar@example.com", "email_validated": True, "language": "nl",
         "time_zone": "Europe/Amsterdam", "user_type": "owner",
         "permissions": ["sales_invoices", "documents", "estimates", "bank", "settings", "ownership", "time_entries"]},
        {"id": admin.fixed_id(2), "name": "Debiteurenbeheer", "created_at": moment, "updated_at": moment,
         "email": "debiteuren@example.com", "email_validated": True, "language": "nl",
         "time_zone": "Europe/Amsterdam", "user_type": "employee", "permissions": ["sales_invoices", "settings"]},
    ]


def custom_fields_json(admin: AdminState) -> list[dict[str, Any]]:
    return [
        {"id": admin.fixed_id(100 + n), "administration_id": admin.spec.id, "name": name, "source": source}
        for n, name, source in CUSTOM_FIELDS
    ]
