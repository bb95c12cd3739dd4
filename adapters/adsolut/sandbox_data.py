"""Seeded Belgian data for the Adsolut sandbox: dossiers, Accounting customers, open items.

Customers are kept in the **read shape** of ``GET /acc/v1/adm/{adm}/customers/{id}`` (the
"CustomerDetailResponse" of the servicedesk client's FullGetShape fixture, reference A5), plus the
write-only ``active`` flag that GET never shows. Open items follow the ASSUMED shape documented
in :mod:`adapters.adsolut.sandbox` (no public source shows one).

Belgian details:

* KBO/BCE enterprise numbers: ten digits, the last two are ``97 - (first eight mod 97)``; the VAT
  number is the same ten digits with ``countryPrefixVatNumber`` ``BE`` (reference A5).
* Structured communication (gestructureerde mededeling): ten digits and two check digits
  (``number mod 97``, 97 when that is 0), written ``+++123/4567/89012+++``.
* Businesses carry a VAT number; consumers do not. Languages ``nl`` and ``fr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from connector.sandbox import DataGenerator

CENT = Decimal("0.01")

#: Lookup GUIDs per dossier (reference A7: country, VAT code, currency are GUID lookups).
COUNTRY_BE = "00000000-0000-0000-0000-0000000000be"
COUNTRY_NL = "00000000-0000-0000-0000-00000000000e"
VAT_SPEC_DOMESTIC = "00000000-0000-0000-0000-000000000002"
VAT_21 = "00000000-0000-0000-0000-000000000003"
VAT_PERCENTAGES = {VAT_21: 21}
CURRENCY_EUR = "00000000-0000-0000-0000-000000000005"
GL_CUSTOMERS = "00000000-0000-0000-0000-000000000004"

_FR_FIRST = ("Luc", "Sophie", "Olivier", "Camille", "Thomas", "Julie", "Nicolas", "Céline")
_FR_LAST = ("Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Lejeune", "Renard")
_FR_TRADES = ("Construction", "Transports", "Boulangerie", "Conseil", "Imprimerie", "Jardins", "Menuiserie")
_FR_CITIES = (("Liège", "4000"), ("Namur", "5000"), ("Charleroi", "6000"), ("Mons", "7000"), ("Wavre", "1300"))


def kbo_number(base: int) -> str:
    """A valid KBO/BCE number (ten digits) from an eight-digit base starting with 0 or 1."""
    head = f"{base:08d}"[-8:]
    return f"{head}{97 - int(head) % 97:02d}"


def structured_communication(number: int) -> str:
    """``+++ddd/dddd/dddcc+++`` for a ten-digit number; ``cc`` = number mod 97 (97 for 0)."""
    digits = f"{number % 10**10:010d}"
    check = int(digits) % 97 or 97
    full = f"{digits}{check:02d}"
    return f"+++{full[:3]}/{full[3:7]}/{full[7:]}+++"


def stamp(moment: datetime) -> str:
    """Accounting ``lastModified``: ISO 8601 with an offset, seconds precision (reference A7)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def local_midnight(day: date) -> str:
    """An offset-less date-time at midnight, as the ERP API writes dates (reference A7)."""
    return f"{day.isoformat()}T00:00:00"


@dataclass(frozen=True)
class DossierSpec:
    """One dossier (administration) the consenting user may see."""

    id: str
    name: str
    code: str
    language: str = "nl"  # the dossier's language and the majority language of its customers
    customers: int = 60
    items: int = 300
    kbo: str = "0123456749"


@dataclass(slots=True)
class OpenItemRec:
    id: str
    customer_id: str
    customer_code: str
    document_number: str
    document_type: str  # "Invoice" | "CreditNote"
    document_date: date
    due_date: date
    currency: str
    rate: Decimal  # base (EUR) per unit of the document currency
    amount: Decimal
    open_amount: Decimal
    reference: str
    last_modified: datetime


@dataclass
class DossierState:
    spec: DossierSpec
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    active: dict[str, bool] = field(default_factory=dict)
    #: ``externalId`` is in the PUT shape but not in the GET sample (A5): kept aside like ``active``
    external_ids: dict[str, str | None] = field(default_factory=dict)
    items: dict[str, OpenItemRec] = field(default_factory=dict)
    #: client ids whose integration is active on this dossier (reference A3)
    integrations: set[str] = field(default_factory=set)
    activations: int = 0
    deactivations: int = 0
    next_number: int = 1
    version: int = 0  # bumped by every write; list caches key on it


def customer_read_shape(gen: DataGenerator, dossier: DossierSpec, index: int, last_modified: datetime) -> dict[str, Any]:
    """One generated customer in the GET shape of reference A5 (same field order as the sample)."""
    rng = gen.rng("adsolut-customer", dossier.id, index)
    party = gen.party(index * 7 + len(dossier.id), be_share=1.0, business_share=0.65)
    french = rng.random() < (0.7 if dossier.language == "fr" else 0.3)
    if french:
        first, last = rng.choice(_FR_FIRST), rng.choice(_FR_LAST)
        city, postal = rng.choice(_FR_CITIES)
        name = f"{last} {rng.choice(_FR_TRADES)} SRL" if party.is_business else f"{first} {last}"
    else:
        city, postal = party.city, party.postcode
        name = party.name
    street, _, number = party.street.rpartition(" ")
    number_text = f"C{index + 1:05d}"
    vat = kbo_number(rng.randint(2_000_000, 9_999_999)) if party.is_business else None
    slug = "".join(ch for ch in name.lower() if ch.isalpha())[:14] or "klant"
    email = f"boekhouding@{slug}.be" if party.is_business else f"{slug}@example.be"
    return {
        "name": name,
        "alphaCode": name.upper().replace(" ", "")[:10],
        "code": number_text,
        "number": number_text,
        "streetName": street,
        "streetNumber": number,
        "boxNumber": None if rng.random() < 0.8 else str(rng.randint(1, 12)),
        "postalCode": postal,
        "city": city,
        "country": {"id": COUNTRY_BE},
        "vatNumber": vat,
        "countryPrefixVatNumber": "BE" if vat else None,
        "phone": party.phone.replace(" ", ""),
        "mobilePhone": None,
        "fax": None,
        "email": None if rng.random() < 0.05 else email,
        "dueDays": 30 if party.is_business and rng.random() < 0.6 else 15,
        "dueDate": "AddDueDays",
        "vatSpecification": {"id": VAT_SPEC_DOMESTIC},
        "vatPercentage": {"id": VAT_21, "percentage": 21},
        "bankAccounts": [
            {"default": True, "iban": f"BE{rng.randint(10, 99)}{rng.randint(10**11, 10**12 - 1)}", "bicCode": "GKCCBEBB"}
        ],
        "postingRuleLines": [
            {"vatSpecificationId": VAT_SPEC_DOMESTIC, "vatPercentageId": VAT_21, "generalLedgerId": GL_CUSTOMERS}
        ],
        "currency": {"id": CURRENCY_EUR, "nameNl": "Euro"},
        "languageIsoCode": "fr" if french else "nl",
        "financialDiscountPercentage": 0,
        "financialDiscountDays": 0,
        "remindersEnabled": True,
        "remarks": None,
        "id": gen.guid("adsolut-customer", dossier.id, index),
        "lastModified": stamp(last_modified),
        "links": [],
    }


def generate(gen: DataGenerator, dossier: DossierSpec, now: datetime) -> DossierState:
    """A dossier full of customers and items dated relative to ``now`` (the sandbox clock)."""
    state = DossierState(dossier)
    today = now.date()
    for index in range(dossier.customers):
        rng = gen.rng("adsolut-customer-time", dossier.id, index)
        modified = now - timedelta(days=rng.randint(2, 400), seconds=rng.randint(0, 86_399))
        customer = customer_read_shape(gen, dossier, index, modified)
        state.customers[customer["id"]] = customer
        state.active[customer["id"]] = True
    state.next_number = dossier.customers + 1
    customers = list(state.customers.values())
    for index in range(dossier.items):
        rng = gen.rng("adsolut-item", dossier.id, index)
        if not customers:
            break
        customer = customers[rng.randrange(len(customers))]
        credit = rng.random() < 0.06
        doc_date = today - timedelta(days=rng.randint(0, 150))
        due = doc_date + timedelta(days=int(customer["dueDays"] or 15))
        currency, rate = ("USD", Decimal("0.92")) if rng.random() < 0.03 else ("EUR", Decimal(1))
        amount = (Decimal(gen.amount_cents("adsolut", dossier.id, index, low=2_500, high=1_500_000)) * CENT)
        if credit:
            amount = -(amount / 5).quantize(CENT)
        roll = rng.random()
        if roll < 0.2:
            open_amount = Decimal(0)  # paid: stays in the list with nothing open
        elif roll < 0.32 and not credit:
            open_amount = (amount * Decimal(rng.randint(20, 80)) / 100).quantize(CENT)
        else:
            open_amount = amount
        item = OpenItemRec(
            id=gen.guid("adsolut-item", dossier.id, index),
            customer_id=str(customer["id"]),
            customer_code=str(customer["code"]),
            document_number=f"{'CN' if credit else 'VF'}{doc_date:%y}-{index + 1:06d}",
            document_type="CreditNote" if credit else "Invoice",
            document_date=doc_date,
            due_date=due,
            currency=currency,
            rate=rate,
            amount=amount,
            open_amount=open_amount,
            reference=structured_communication(rng.randint(10**8, 10**10 - 1)),
            last_modified=now - timedelta(days=rng.randint(1, 120), seconds=rng.randint(0, 86_399)),
        )
        state.items[item.id] = item
    return state


def item_json(item: OpenItemRec) -> dict[str, Any]:
    """The ASSUMED open-item shape (see adapters.adsolut.sandbox): amounts as JSON numbers, dates
    offset-less like the ERP API's, ``lastModified`` with an offset like the Accounting API's."""
    return {
        "id": item.id,
        "customer": {"id": item.customer_id, "code": item.customer_code},
        "documentNumber": item.document_number,
        "documentType": item.document_type,
        "documentDate": local_midnight(item.document_date),
        "dueDate": local_midnight(item.due_date),
        "currency": {"isoCode": item.currency},
        "amount": float(item.amount),
        "openAmount": float(item.open_amount),
        "amountBaseCurrency": float((item.amount * item.rate).quantize(CENT)),
        "openAmountBaseCurrency": float((item.open_amount * item.rate).quantize(CENT)),
        "structuredCommunication": item.reference,
        "lastModified": stamp(item.last_modified),
    }
