"""The Twinfield sandbox's books: offices, DEB dimensions and the lines on customer accounts.

What is modelled (Twinfield research notes §4 "Payments and matching", §5 "Customers"):

* A sales transaction (daybook ``VRK``) has one matchable **total** line on the customer (line 1,
  debit, positive); a credit note is a sales transaction whose total line is credit (negative).
  Detail and VAT lines are ``notmatchable`` and not on the customer account, so they are not kept.
* A customer payment is a bank transaction (daybook ``BNK``) whose line 2 is on the customer
  (credit, negative). It is ``available`` until matched.
* Matching gives every line of the set the same ``matchnumber`` and ``matchdate``; a fully matched
  line has open value 0 and status ``matched``; a part payment leaves the invoice ``available``
  with a lower open value (it already shows the match number, as pronamic's fixture row does).
* A collection run (pay and collect) moves a line to ``proposed`` (§4.1: meaning UNVERIFIED; read
  here as "taken into a run proposal").
* Transaction status: ``temporary`` (provisional) and ``final`` are what browse status ``normal``
  returns (§3.4); ``draft`` lines exist but are not returned by default.

Dimensions are kept as XML elements (the shape ``<read>`` returns, §5.2), so an upsert can
replace exactly the blocks it posts. Everything is generated from a seed, per office.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from connector.sandbox import DataGenerator

CENT = Decimal("0.01")
#: §4.1: the AR control account that customer lines are booked on.
AR_ACCOUNT = "1300"
SALES_DAYBOOK = "VRK"
BANK_DAYBOOK = "BNK"
#: Foreign-currency invoices carry a rate to the base currency (EUR).
RATES = {"EUR": Decimal(1), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}


@dataclass(frozen=True)
class OfficeSpec:
    """One office (administration) to generate."""

    code: str
    name: str
    shortname: str = ""
    country: str = "NL"
    customers: int = 40
    #: sales invoices to generate (payments, credit notes and unapplied receipts come on top)
    invoices: int = 200
    #: book years, oldest first
    years: tuple[int, ...] = (2025, 2026)


@dataclass(slots=True)
class Line:
    """One transaction line on a customer account (what browse 100 returns a row for)."""

    code: str  # daybook
    number: int  # transaction number, e.g. 202600017
    line: int
    year: int
    period: int
    date: date
    dim2: str  # customer code
    value: Decimal  # signed, transaction currency (debit positive)
    open: Decimal  # signed open value, transaction currency
    currency: str = "EUR"
    invnumber: str = ""
    datedue: dt.date | None = None
    status: str = "final"  # draft | temporary | final
    matchstatus: str = "available"  # available | matched | proposed | notmatchable
    matchnumber: int | None = None
    matchdate: dt.date | None = None
    modified: datetime = field(default_factory=lambda: datetime(2026, 1, 1))
    description: str = ""

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.code, self.number, self.line)

    @property
    def yearperiod(self) -> str:
        return f"{self.year}/{self.period:02d}"

    @property
    def rate(self) -> Decimal:
        return RATES.get(self.currency, Decimal(1))

    @property
    def basevalue(self) -> Decimal:
        return (self.value * self.rate).quantize(CENT)

    @property
    def openbase(self) -> Decimal:
        return (self.open * self.rate).quantize(CENT)


@dataclass
class Deletion:
    code: str
    number: int
    deleted_at: datetime


def _text(parent: ET.Element, tag: str, text: str = "", **attrib: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrib)
    child.text = text
    return child


def new_dimension(
    office: OfficeSpec, code: str, name: str, *, modified: datetime, uid: str, country: str = "NL",
    email: str = "", phone: str = "", vat: str = "", coc: str = "", city: str = "", postcode: str = "",
    street: str = "", duedays: int = 30,
) -> ET.Element:
    """A DEB dimension as ``<read>`` returns it (shape of the php-twinfield customerGetResponse fixture)."""
    dim = ET.Element("dimension", {"status": "active"})
    _text(dim, "office", office.code, name=office.name, shortname=office.shortname)
    _text(dim, "type", "DEB", name="Debiteuren", shortname="Debiteuren")
    _text(dim, "code", code)
    _text(dim, "uid", uid)
    _text(dim, "name", name)
    _text(dim, "shortname", "")
    _text(dim, "inuse", "false")
    _text(dim, "behaviour", "normal")
    _text(dim, "modified", modified.strftime("%Y%m%d%H%M%S"))
    _text(dim, "touched", "0")
    for tag in ("beginperiod", "beginyear", "endperiod", "endyear"):
        _text(dim, tag, "0")
    _text(dim, "website", "")
    _text(dim, "cocnumber", coc)
    _text(dim, "vatnumber", vat)
    _text(dim, "editdimensionname", "true")
    dim.append(default_block("financials", duedays=duedays))
    dim.append(default_block("creditmanagement"))
    addresses = ET.SubElement(dim, "addresses")
    address = ET.SubElement(addresses, "address", {"id": "1", "type": "invoice", "default": "true"})
    _text(address, "name", name)
    _text(address, "country", country, name={"NL": "Nederland", "BE": "België"}.get(country, country), shortname="")
    _text(address, "city", city)
    _text(address, "postcode", postcode)
    _text(address, "telephone", phone)
    _text(address, "telefax", "")
    _text(address, "email", email)
    _text(address, "contact", "")
    _text(address, "field1", "")
    _text(address, "field2", street)
    for n in range(3, 7):
        _text(address, f"field{n}", "")
    ET.SubElement(dim, "banks")
    return dim


def default_block(tag: str, *, duedays: int = 30) -> ET.Element:
    """``financials`` / ``creditmanagement`` with every child at its default (§5.2)."""
    block = ET.Element(tag)
    if tag == "financials":
        for child, text in (
            ("matchtype", "customersupplier"), ("accounttype", "inherit"), ("subanalyse", "false"),
            ("duedays", str(duedays)), ("level", "2"), ("payavailable", "false"), ("meansofpayment", "none"),
            ("paycode", ""), ("ebilling", "false"), ("ebillmail", ""), ("substitutionlevel", "1"),
            ("substitutewith", AR_ACCOUNT), ("relationsreference", ""), ("vattype", ""), ("vatcode", ""),
            ("vatobligatory", "false"), ("performancetype", ""), ("collectionschema", ""),
        ):
            _text(block, child, text)
    else:
        _text(block, "responsibleuser", "", name="", shortname="")
        _text(block, "basecreditlimit", "0.00")
        _text(block, "sendreminder", "true")
        _text(block, "reminderemail", "")
        _text(block, "blocked", "false", locked="false", modified="")
        for child in ("freetext1", "freetext2", "freetext3", "comment"):
            _text(block, child, "")
    return block


class OfficeBook:
    """One office's state: dimensions by code, customer lines by key, deletions."""

    def __init__(self, spec: OfficeSpec) -> None:
        self.spec = spec
        self.dimensions: dict[str, ET.Element] = {}
        self.lines: dict[tuple[str, int, int], Line] = {}
        self.deletions: list[Deletion] = []
        self._next_number: dict[tuple[str, int], int] = {}
        self._next_match = 0

    # ---- numbering
    def next_number(self, daybook: str, year: int) -> int:
        key = (daybook, year)
        self._next_number[key] = self._next_number.get(key, 0) + 1
        return year * 100_000 + self._next_number[key]

    def next_matchnumber(self) -> int:
        self._next_match += 1
        return self._next_match

    # ---- postings
    def post_invoice(
        self, customer: str, amount: Decimal, on: date, due: date, *, now: datetime, currency: str = "EUR",
        status: str = "final",
    ) -> Line:
        """A sales invoice (or, with a negative amount, a credit note): its total line on the customer."""
        number = self.next_number(SALES_DAYBOOK, on.year)
        line = Line(
            code=SALES_DAYBOOK, number=number, line=1, year=on.year, period=on.month, date=on, dim2=customer,
            value=amount, open=amount, currency=currency, invnumber=str(number), datedue=due, status=status,
            modified=now,
        )
        self.lines[line.key] = line
        return line

    def post_receipt(self, customer: str, amount: Decimal, on: date, *, now: datetime, invnumber: str = "",
                     currency: str = "EUR") -> Line:
        """A bank receipt on the customer: line 2 of a bank transaction, credit (negative), available."""
        number = self.next_number(BANK_DAYBOOK, on.year)
        line = Line(
            code=BANK_DAYBOOK, number=number, line=2, year=on.year, period=on.month, date=on, dim2=customer,
            value=-amount, open=-amount, currency=currency, invnumber=invnumber, status="final", modified=now,
            description=invnumber,
        )
        self.lines[line.key] = line
        return line

    def match(self, lines: list[Line], on: date, *, now: datetime) -> int:
        """Match lines whose open values offset each other as far as they can (§4.2).

        Debit and credit open values are set off in order; a line that reaches 0 is ``matched``, a
        line left with an open value stays ``available`` (a part payment) but shows the match
        number and date.
        """
        number = self.next_matchnumber()
        debit = [ln for ln in lines if ln.open > 0]
        credit = [ln for ln in lines if ln.open < 0]
        for d in debit:
            for c in credit:
                take = min(d.open, -c.open)
                if take <= 0:
                    continue
                d.open -= take
                c.open += take
        for ln in lines:
            ln.matchnumber = number
            ln.matchdate = on
            ln.matchstatus = "matched" if ln.open == 0 else "available"
            ln.modified = now
        return number

    def pay(self, line: Line, amount: Decimal, on: date, *, now: datetime) -> Line:
        """A receipt of ``amount`` matched against ``line`` (partly when less than its open value)."""
        receipt = self.post_receipt(line.dim2, amount, on, now=now, invnumber=line.invnumber, currency=line.currency)
        self.match([line, receipt], on, now=now)
        return receipt

    def propose(self, line: Line, *, now: datetime) -> None:
        """Taken into a collection run proposal."""
        line.matchstatus = "proposed"
        line.modified = now

    def delete_transaction(self, code: str, number: int, *, now: datetime) -> list[Line]:
        gone = [ln for ln in self.lines.values() if ln.code == code and ln.number == number]
        for ln in gone:
            del self.lines[ln.key]
        self.deletions.append(Deletion(code, number, now))
        return gone

    # ---- queries
    def customer_lines(self) -> list[Line]:
        return sorted(self.lines.values(), key=lambda ln: (ln.year, ln.period, ln.code, ln.number, ln.line))

    def open_lines(self) -> list[Line]:
        """What Twinfield counts as open: provisional or final, available or proposed (§3.5)."""
        return [
            ln for ln in self.customer_lines()
            if ln.status in ("temporary", "final") and ln.matchstatus in ("available", "proposed")
        ]


def generate_office(spec: OfficeSpec, gen: DataGenerator, *, now: datetime) -> OfficeBook:
    """An office with ``spec.customers`` DEB dimensions and about ``spec.invoices`` sales invoices.

    Mix (per invoice, seeded): about half paid in full, a tenth part-paid, some credit notes (half
    of them set off against an invoice), a few unapplied receipts, a few in a collection run, a few
    provisional and a few draft; a tenth in USD or GBP.
    """
    book = OfficeBook(spec)
    customers: list[str] = []
    for i in range(spec.customers):
        party = gen.party(zlib.crc32(spec.code.encode()) % 10_000 * 100_000 + i)
        code = str(1000 + i) if i < 9000 else str(100000 + i)
        rng = gen.rng("twf-dim", spec.code, i)
        book.dimensions[code] = new_dimension(
            spec, code, party.name, modified=now - timedelta(days=rng.randint(1, 400)),
            uid=gen.guid("twf", spec.code, code), country=party.country, email=party.email, phone=party.phone,
            vat=party.vat_number or "", coc=party.coc_number or "", city=party.city, postcode=party.postcode,
            street=party.street, duedays=rng.choice((14, 30, 30, 30, 60)),
        )
        customers.append(code)
    if not customers:
        return book
    first, last = date(spec.years[0], 1, 1), min(date(spec.years[-1], 12, 31), now.date())
    span = max(1, (last - first).days)
    for k in range(spec.invoices):
        rng = gen.rng("twf-inv", spec.code, k)
        customer = rng.choice(customers)
        on = first + timedelta(days=int(span * k / max(1, spec.invoices)) + rng.randint(0, 3))
        on = min(on, last)
        due = on + timedelta(days=30)
        cents = gen.amount_cents("twf", spec.code, k, low=2_500, high=2_000_000)
        amount = (Decimal(cents) / 100).quantize(CENT)
        currency = rng.choice(("USD", "GBP")) if rng.random() < 0.1 else "EUR"
        roll = rng.random()
        status = "draft" if roll < 0.02 else ("temporary" if roll < 0.08 else "final")
        touched = datetime.combine(on, datetime.min.time()).replace(tzinfo=now.tzinfo) + timedelta(hours=9)
        inv = book.post_invoice(customer, amount, on, due, now=touched, currency=currency, status=status)
        if status == "draft":
            continue
        fate = rng.random()
        pay_day = min(on + timedelta(days=rng.randint(5, 60)), last)
        pay_touched = datetime.combine(pay_day, datetime.min.time()).replace(tzinfo=now.tzinfo) + timedelta(hours=11)
        if fate < 0.50:
            book.pay(inv, amount, pay_day, now=pay_touched)
        elif fate < 0.60:
            book.pay(inv, (amount * Decimal(rng.choice(("0.25", "0.5", "0.6")))).quantize(CENT), pay_day, now=pay_touched)
        elif fate < 0.66:
            note = book.post_invoice(customer, -(amount / 4).quantize(CENT), pay_day, pay_day, now=pay_touched,
                                     currency=currency)
            if rng.random() < 0.5:
                book.match([inv, note], pay_day, now=pay_touched)
        elif fate < 0.69:
            book.post_receipt(customer, (amount / 3).quantize(CENT), pay_day, now=pay_touched, currency=currency)
        elif fate < 0.72:
            book.propose(inv, now=pay_touched)
    return book
