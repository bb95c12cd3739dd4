"""Moneybird sandbox data: seeded, generated lazily by index, writes kept in an overlay.

One :class:`AdminState` per administration. Contacts and sales invoices are produced on demand
from ``(seed, administration, index)``; the first write to a record copies it into the overlay
(``contacts``/``invoices`` dicts), so 100 000 invoices cost nothing until they are touched.

Ids are 18-digit strings (docs/reference/moneybird.md §1: bigints returned as strings) built as
``<administration number><kind><index>`` so an id maps back to its index without a lookup table.
Money is :class:`~decimal.Decimal` and rendered as Moneybird's decimal strings (``"363.0"``, §1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connector.sandbox import DataGenerator

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CENT = Decimal("0.01")
#: Fixed base-currency (EUR) rates for the few foreign-currency invoices.
RATES = {"EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17"), "CHF": Decimal("1.05")}
VAT = Decimal("0.21")

KIND_CONTACT = 1
KIND_INVOICE = 2
KIND_PAYMENT = 3
KIND_NOTE = 4
KIND_FIXED = 5  # workflows, document styles, identities, users, custom fields, ledger accounts
_SPAN = 10**11  # room per kind: index < 10**11

#: Fixed-id numbers (``AdminState.fixed_id``) of the two invoice workflows, document styles and
#: identities every sandbox administration has; the first of each is the administration's default.
#: Steps of workflow n are n+1 … n+4. Identity 30 is the default identity (``GET /identities/default``),
#: 31 the extra trade name that ``GET /identities`` lists ("This does not include the default
#: identity", spec ``GET /identities``).
WORKFLOWS = (10, 15)
DOCUMENT_STYLES = (20, 21)
IDENTITIES = (30, 31)
#: Generated layout [sandbox choice, shares not from the reference]: this share of contacts has the
#: second workflow as ``invoice_workflow_id``; an invoice takes its contact's workflow (else the default)
#: except this share, which names the other workflow explicitly (reference §7: "explicit workflow_id →
#: contact's invoice_workflow_id → administration default"); this share of invoices uses the second
#: document style; the identity is the style's own (spec ``document_style_response.identity_id``)
#: except this share.
CONTACT_OTHER_WORKFLOW = 0.15
INVOICE_OTHER_WORKFLOW = 0.08
INVOICE_OTHER_STYLE = 0.15
INVOICE_OTHER_IDENTITY = 0.08


@dataclass(frozen=True)
class AdministrationSpec:
    """One Moneybird administration of the sandbox (reference §3)."""

    id: str
    name: str
    contacts: int = 40
    invoices: int = 150
    country: str = "NL"
    currency: str = "EUR"
    language: str = "nl"  # nl | nl-be | en
    suspended: bool = False
    #: Spread generated contacts and invoices over both workflows, document styles and identities (see
    #: ``CONTACT_OTHER_WORKFLOW`` …), so every user of the sandbox sees realistic data. Off, every
    #: generated record uses the defaults. The second layout exists either way (lists, ``add_invoice``).
    varied_layouts: bool = True


def money(value: Decimal) -> str:
    """Moneybird's decimal string: at least one decimal, no trailing zeros beyond it (``"363.0"``)."""
    text = f"{value.quantize(CENT, ROUND_HALF_UP):f}"
    if text.endswith("0"):  # "363.00" -> "363.0", "12.50" -> "12.5"
        text = text[:-1]
    return "0.0" if text == "-0.0" else text


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z`` (reference §1)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A moment on ``day`` in Europe/Amsterdam."""
    return datetime.combine(day, time(hour, minute), tzinfo=AMSTERDAM)


@dataclass
class ContactRec:
    index: int
    id: str
    company_name: str | None
    firstname: str | None
    lastname: str | None
    address1: str
    zipcode: str
    city: str
    country: str
    phone: str
    email: str
    tax_number: str | None
    chamber_of_commerce: str | None
    customer_id: str
    delivery_method: str
    created_at: datetime
    updated_at: datetime
    custom_fields: dict[str, str] = field(default_factory=dict)
    notes: list[dict[str, Any]] = field(default_factory=list)
    archived: bool = False
    invoice_workflow: int | None = None  # fixed-id number of ``invoice_workflow_id`` (§8), None = default


@dataclass
class PaymentRec:
    id: str
    price: Decimal
    price_base: Decimal
    payment_date: date
    created_at: datetime
    credit_invoice_id: str | None = None
    transaction_identifier: str | None = None
    manual_payment_action: str | None = None


@dataclass
class InvoiceRec:
    index: int
    id: str
    contact_index: int
    invoice_number: str | None  # None while draft
    invoice_date: date | None
    due_date: date
    currency: str
    excl: Decimal
    tax: Decimal
    reference: str
    created_at: datetime
    updated_at: datetime
    draft: bool = False
    pending_payment: bool = False
    paused: bool = False
    original_sales_invoice_id: str | None = None
    payments: list[PaymentRec] = field(default_factory=list)
    reminders: list[date] = field(default_factory=list)
    uncollectible_on: date | None = None
    dubious_on: date | None = None
    events: list[tuple[str, datetime, dict[str, Any]]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)
    #: Fixed-id numbers of the invoice's own workflow, document style and identity (reference §4
    #: response fields ``workflow_id``, ``document_style_id``, ``identity_id``).
    workflow: int = WORKFLOWS[0]
    document_style: int = DOCUMENT_STYLES[0]
    identity: int = IDENTITIES[0]

    @property
    def rate(self) -> Decimal:
        return RATES.get(self.currency, Decimal("1"))

    @property
    def total(self) -> Decimal:
        return self.excl + self.tax

    @property
    def total_paid(self) -> Decimal:
        return sum((p.price for p in self.payments), Decimal("0"))

    @property
    def total_unpaid(self) -> Decimal:
        return self.total - self.total_paid

    def state(self, today: date) -> str:
        """reference §4 States. Uncollectible keeps ``total_unpaid``; paid when nothing is left."""
        if self.draft:
            return "draft"
        if self.uncollectible_on is not None:
            return "uncollectible"
        if self.total_unpaid == 0:
            return "paid"
        if self.pending_payment:
            return "pending_payment"
        if self.reminders:
            return "reminded"
        if today > self.due_date:
            return "late"
        return "open"

    def effective_updated_at(self, today: date) -> datetime:
        """``updated_at`` including the nightly open → late transition (it changes the record)."""
        if self.state(today) == "late":
            turned = at(self.due_date + timedelta(days=1), 0, 5)
            if turned > self.updated_at:
                return turned
        return self.updated_at


class AdminState:
    """Everything one administration holds: generated base plus overlay."""

    def __init__(self, spec: AdministrationSpec, number: int, seed: int, anchor: date) -> None:
        self.spec = spec
        self.number = number  # 1-based, part of every id
        self.gen = DataGenerator(seed)
        self.anchor = anchor  # generated data is dated relative to this day
        self.contact_count = spec.contacts
        self.invoice_count = spec.invoices
        self.contacts: dict[int, ContactRec] = {}
        self.invoices: dict[int, InvoiceRec] = {}
        self.deleted_invoices: set[int] = set()
        self.deleted_contacts: set[int] = set()
        self.next_payment = 0
        self.next_note = 0
        self.reminder_log: list[dict[str, Any]] = []
        self.base_moment = at(anchor - timedelta(days=500), 8)

    # ------------------------------------------------------------------ ids
    def make_id(self, kind: int, index: int) -> str:
        return str(400_000_000_000_000_000 + self.number * 10**13 + kind * _SPAN + index)

    def index_of(self, kind: int, ident: str) -> int | None:
        if not ident.isdigit():
            return None
        rest = int(ident) - 400_000_000_000_000_000 - self.number * 10**13 - kind * _SPAN
        return rest if 0 <= rest < _SPAN else None

    @property
    def user_id(self) -> str:
        return self.make_id(KIND_FIXED, 1)

    def fixed_id(self, n: int) -> str:
        return self.make_id(KIND_FIXED, n)

    # ------------------------------------------------------------------ contacts
    def contact(self, index: int) -> ContactRec | None:
        if index < 0 or index >= self.contact_count or index in self.deleted_contacts:
            return None
        rec = self.contacts.get(index)
        return rec if rec is not None else self._generate_contact(index)

    def contact_for_write(self, index: int) -> ContactRec | None:
        rec = self.contact(index)
        if rec is not None and index not in self.contacts:
            self.contacts[index] = rec
        return rec

    def _generate_contact(self, index: int) -> ContactRec:
        party = self.gen.party(index + self.number * 1_000_003)
        rng = self.gen.rng("mb-contact", self.spec.id, index)
        created = self.base_moment + timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 600))
        updated = created + timedelta(days=rng.randint(0, 300))
        return ContactRec(
            index=index,
            id=self.make_id(KIND_CONTACT, index),
            company_name=party.name if party.is_business else None,
            firstname=party.first_name,
            lastname=party.last_name,
            address1=party.street,
            zipcode=party.postcode,
            city=party.city,
            country=party.country,
            phone=party.phone,
            email=party.email,
            tax_number=party.vat_number,
            chamber_of_commerce=party.coc_number,
            customer_id=str(index + 1),
            delivery_method="Email",
            created_at=created,
            updated_at=updated,
            invoice_workflow=self.contact_workflow(index),
        )

    def contact_workflow(self, index: int) -> int | None:
        """The generated contact's ``invoice_workflow_id`` (fixed-id number), None for the default."""
        if not self.spec.varied_layouts:
            return None
        other = self.gen.rng("mb-contact-layout", self.spec.id, index).random() < CONTACT_OTHER_WORKFLOW
        return WORKFLOWS[1] if other else None

    # ------------------------------------------------------------------ invoices
    def invoice(self, index: int) -> InvoiceRec | None:
        if index < 0 or index >= self.invoice_count or index in self.deleted_invoices:
            return None
        rec = self.invoices.get(index)
        return rec if rec is not None else self._generate_invoice(index)

    def invoice_for_write(self, index: int) -> InvoiceRec | None:
        rec = self.invoice(index)
        if rec is not None and index not in self.invoices:
            self.invoices[index] = rec
        return rec

    def invoice_by_id(self, ident: str) -> InvoiceRec | None:
        index = self.index_of(KIND_INVOICE, ident)
        return None if index is None else self.invoice(index)

    def live_invoice_indexes(self) -> range | list[int]:
        if not self.deleted_invoices:
            return range(self.invoice_count)
        return [i for i in range(self.invoice_count) if i not in self.deleted_invoices]

    def live_contact_indexes(self) -> range | list[int]:
        if not self.deleted_contacts:
            return range(self.contact_count)
        return [i for i in range(self.contact_count) if i not in self.deleted_contacts]

    def _is_credit(self, index: int) -> bool:
        # Credit invoices sit on odd indexes and credit the invoice just before them.
        if index % 2 == 0 or index >= self.spec.invoices:
            return False
        return self.gen.rng("mb-credit", self.spec.id, index).random() < 0.08

    def _base(self, index: int) -> InvoiceRec:
        rng = self.gen.rng("mb-invoice", self.spec.id, index)
        contact_index = rng.randrange(max(1, self.spec.contacts))
        invoice_date = self.anchor - timedelta(days=int(420 * rng.random() ** 2))  # skewed to recent
        due_days = rng.choice((14, 14, 14, 30))
        currency = rng.choice(("USD", "GBP", "CHF")) if rng.random() < 0.06 else self.spec.currency
        excl = Decimal(self.gen.amount_cents("mb", self.spec.id, index)) / 100
        tax = (excl * VAT).quantize(CENT, ROUND_HALF_UP)
        created = at(invoice_date, 9, rng.randint(0, 59))
        year_seq = index + 1
        # A stream of its own, so the layout ids do not shift any other generated value.
        layout = self.gen.rng("mb-layout", self.spec.id, index)
        workflow = self.contact_workflow(contact_index) or WORKFLOWS[0]
        varied = self.spec.varied_layouts
        if varied and layout.random() < INVOICE_OTHER_WORKFLOW:
            workflow = WORKFLOWS[1] if workflow == WORKFLOWS[0] else WORKFLOWS[0]
        styled = varied and layout.random() < INVOICE_OTHER_STYLE
        style = DOCUMENT_STYLES[1] if styled else DOCUMENT_STYLES[0]
        other_identity = varied and layout.random() < INVOICE_OTHER_IDENTITY
        identity = IDENTITIES[1] if styled != other_identity else IDENTITIES[0]
        return InvoiceRec(
            index=index,
            id=self.make_id(KIND_INVOICE, index),
            contact_index=contact_index,
            invoice_number=f"{invoice_date.year}-{year_seq:05d}",
            invoice_date=invoice_date,
            due_date=invoice_date + timedelta(days=due_days),
            currency=currency,
            excl=excl,
            tax=tax,
            reference=rng.choice(("Project", "Onderhoud", "Levering", "Advies", "Abonnement")) + f" {index + 1}",
            created_at=created,
            updated_at=created,
            events=[("sales_invoice_created", created, {}), ("sales_invoice_state_changed_to_open", created, {}),
                    ("sales_invoice_send_email", created, {})],
            workflow=workflow,
            document_style=style,
            identity=identity,
        )

    def _add_payment(self, rec: InvoiceRec, price: Decimal, day: date, credit_invoice_id: str | None = None) -> None:
        moment = at(day, 10)
        rec.payments.append(PaymentRec(
            id=self.make_id(KIND_PAYMENT, rec.index * 4 + len(rec.payments)),
            price=price, price_base=(price * rec.rate).quantize(CENT, ROUND_HALF_UP), payment_date=day,
            created_at=moment, credit_invoice_id=credit_invoice_id,
        ))
        rec.updated_at = max(rec.updated_at, moment)
        rec.events.append(("payment_registered", moment, {}))

    def _generate_invoice(self, index: int) -> InvoiceRec:
        if index >= self.spec.invoices:  # added later through add_invoice, always in the overlay
            raise KeyError(index)
        if self._is_credit(index):
            return self._generate_credit(index)
        rec = self._base(index)
        rng = self.gen.rng("mb-scenario", self.spec.id, index)
        assert rec.invoice_date is not None
        age = (self.anchor - rec.invoice_date).days
        if self._is_credit(index + 1):
            credit = self._generate_credit(index + 1)
            self._add_payment(rec, -credit.total, credit.invoice_date or self.anchor, credit_invoice_id=credit.id)
            rec.events.append(("credit_invoice_created", at(credit.invoice_date or self.anchor, 10), {}))
            return rec
        roll = rng.random()
        if roll < 0.03:
            rec.draft = True
            rec.invoice_number = None
            rec.invoice_date = None
            rec.due_date = self.anchor + timedelta(days=14)
            rec.events = [("sales_invoice_created", rec.created_at, {})]
            return rec
        if roll < 0.45 and age > 0:
            paid_on = min(self.anchor, rec.invoice_date + timedelta(days=rng.randint(1, max(1, min(age, 60)))))
            self._add_payment(rec, rec.total, paid_on)
            rec.events.append(("sales_invoice_state_changed_to_paid", at(paid_on, 10, 1), {}))
            return rec
        if roll < 0.57 and age > 0:
            part = (rec.total * Decimal(rng.choice((25, 40, 50, 60))) / 100).quantize(CENT, ROUND_HALF_UP)
            self._add_payment(rec, part, min(self.anchor, rec.invoice_date + timedelta(days=rng.randint(1, age))))
        elif roll < 0.60 and age > 30:
            day = rec.due_date + timedelta(days=30)
            rec.uncollectible_on = min(day, self.anchor)
            rec.updated_at = at(rec.uncollectible_on, 11)
            rec.events.append(("sales_invoice_marked_as_uncollectible", rec.updated_at, {}))
            return rec
        elif roll < 0.62:
            rec.pending_payment = True
        if not rec.pending_payment and self.anchor > rec.due_date + timedelta(days=10) and rng.random() < 0.5:
            first = rec.due_date + timedelta(days=10)
            rec.reminders.append(first)
            if self.anchor > first + timedelta(days=14) and rng.random() < 0.4:
                rec.reminders.append(first + timedelta(days=14))
            for day in rec.reminders:
                rec.events.append(("sales_invoice_send_reminder_email", at(day, 8), {}))
            rec.updated_at = max(rec.updated_at, at(rec.reminders[-1], 8))
        if rng.random() < 0.1:
            rec.paused = True
            rec.events.append(("sales_invoice_paused", rec.updated_at, {}))
        return rec

    def _generate_credit(self, index: int) -> InvoiceRec:
        original = self._base(index - 1)
        rng = self.gen.rng("mb-credit-amount", self.spec.id, index)
        share = Decimal(1) if rng.random() < 0.6 else Decimal("0.5")
        rec = self._base(index)
        rec.contact_index = original.contact_index
        rec.currency = original.currency
        rec.excl = -(original.excl * share).quantize(CENT, ROUND_HALF_UP)
        rec.tax = (rec.excl * VAT).quantize(CENT, ROUND_HALF_UP)
        assert original.invoice_date is not None
        rec.invoice_date = min(self.anchor, original.invoice_date + timedelta(days=rng.randint(0, 20)))
        rec.due_date = rec.invoice_date + timedelta(days=14)
        rec.invoice_number = f"{rec.invoice_date.year}-{index + 1:05d}"
        rec.reference = f"Creditnota {original.invoice_number}"
        rec.original_sales_invoice_id = original.id
        rec.workflow, rec.document_style, rec.identity = original.workflow, original.document_style, original.identity
        rec.created_at = rec.updated_at = at(rec.invoice_date, 10)
        rec.events = [("credit_invoice_created_from_original", rec.created_at, {}),
                      ("sales_invoice_state_changed_to_open", rec.created_at, {})]
        self._add_payment(rec, rec.total, rec.invoice_date)
        rec.events.append(("sales_invoice_state_changed_to_paid", rec.created_at, {}))
        return rec

    # ------------------------------------------------------------------ writes
    def new_payment_id(self) -> str:
        self.next_payment += 1
        return self.make_id(KIND_PAYMENT, 4 * 10**10 + self.next_payment)

    def new_note_id(self) -> str:
        self.next_note += 1
        return self.make_id(KIND_NOTE, self.next_note)

    def add_invoice(self, rec: InvoiceRec) -> InvoiceRec:
        rec.index = self.invoice_count
        rec.id = self.make_id(KIND_INVOICE, rec.index)
        self.invoices[rec.index] = rec
        self.invoice_count += 1
        return rec

    def add_contact(self, rec: ContactRec) -> ContactRec:
        rec.index = self.contact_count
        rec.id = self.make_id(KIND_CONTACT, rec.index)
        self.contacts[rec.index] = rec
        self.contact_count += 1
        return rec

