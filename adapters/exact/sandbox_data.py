"""The state of one simulated Exact division: lazily generated base rows plus an overlay of changes.

Base rows (accounts and payment terms) are produced on demand from ``(seed, division, index)``,
so a division of a million payment terms costs a few objects until it is read. Every write (a PUT,
a POST, a payment, a deletion, a test helper's change) goes into the overlay of its table.

Row versions (docs/reference/exact.md §4): every row has an Int64 ``Timestamp`` unique within the
division. Base accounts get ``ts_base + index``, base terms ``ts_base + accounts + index``, and every
change takes the next value of a per-division counter above the base range, so a change always
gets a Timestamp larger than every earlier one and page *k* of a sync feed costs O(page size).

Sign convention (§3.2, [UNVERIFIED], one observer and a mock agree): a receivable term of an invoice has
a **negative** ``AmountDC``/``AmountFC`` and a positive ``TransactionAmountDC``; a credit note or an
unallocated receipt has a positive ``AmountDC`` and a negative ``TransactionAmountDC``. Payables
(``LineType`` 22) have a positive ``AmountDC`` and positive ``TransactionAmountDC``. ``AmountFC × RateFC
= AmountDC`` (rounded to cents).
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from adapters.exact.sandbox_schema import ENTITY_TYPE_ACCOUNTS, ENTITY_TYPE_PAYMENT_TERMS
from connector.sandbox import DataGenerator, FakeParty

#: §2.6: Exact's times are Dutch local time.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

Row = dict[str, Any]

#: Initial start of the base Timestamp range. High, so that after ``move_division`` (which restarts the
#: numbering near 1, §4 "timestamps are reset") a client that ignores DivisionMoveDate sees nothing.
INITIAL_TS_BASE = 100_000_000
CENT = Decimal("0.01")
#: Fixed sandbox rates (foreign currency → EUR) for RateFC.
RATES = {"EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}
PAYMENT_CONDITIONS = {"14": "14 dagen", "21": "21 dagen", "30": "30 dagen", "60": "60 dagen"}
LANGUAGE_NAMES = {"NL": "Nederlands", "FR": "Frans", "EN": "Engels", "DE": "Duits"}


@dataclass(frozen=True)
class DivisionSpec:
    """One division (administratie) of the sandbox."""

    code: int
    description: str
    accounts: int = 40
    terms: int = 150
    country: str = "NL"
    currency: str = "EUR"
    hid: int | None = None


def pad_code(code: Any) -> str:
    """§2.5/§2.7: an account Code is 18 characters, right-aligned with leading spaces."""
    return f"{str(code).strip():>18}"


def pad_country(country: Any) -> str:
    return f"{str(country).strip().upper():<3}"


def pad_language(language: Any) -> str:
    return f"{str(language).strip().upper():<10}"


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def midnight(day: date) -> datetime:
    """Date-only values (§2.6): 00:00 of the day in Amsterdam, the zone Exact writes its times in."""
    return datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM)


class Table:
    """Base rows made by index plus an overlay of changed, new and deleted rows."""

    def __init__(
        self,
        base_count: int,
        make: Callable[[int], Row],
        guid_of: Callable[[int], str],
        index_of: Callable[[str], int | None],
        base_ts: Callable[[], int],
    ) -> None:
        self.base_count = base_count
        #: How many base rows were generated so far (tests check that paging is O(page size)).
        self.generated = 0

        def counted(index: int) -> Row:
            self.generated += 1
            return make(index)

        self._make = counted
        self._guid_of = guid_of
        self._index_of = index_of
        self._base_ts = base_ts
        self.overlay: dict[str, Row] = {}
        self.deleted: set[str] = set()
        self.overridden: set[int] = set()
        self.new_ids: list[str] = []
        self.new_pos: dict[str, int] = {}
        self.ts_log: list[tuple[int, str]] = []  # (timestamp, id), increasing

    # ---- reading
    def get(self, row_id: str) -> Row | None:
        key = row_id.lower()
        if key in self.deleted:
            return None
        if key in self.overlay:
            return self.overlay[key]
        index = self._index_of(key)
        if index is None or index in self.overridden:
            return None
        return self._make(index)

    def base_row(self, index: int) -> Row:
        return self._make(index)

    def position(self, row_id: str) -> int | None:
        """Place of a row in the natural (list) order: base rows by index, then new rows."""
        key = row_id.lower()
        index = self._index_of(key)
        if index is not None:
            return index
        pos = self.new_pos.get(key)
        return None if pos is None else self.base_count + pos

    def natural(self, start: int = 0) -> Iterator[tuple[int, Row]]:
        """(position, row) in list order from ``start``; deleted rows skipped, changes in place."""
        for index in range(max(0, start), self.base_count):
            if index in self.overridden:
                row = self.overlay.get(self._guid_of(index))
                if row is not None:
                    yield index, row
                continue
            yield index, self._make(index)
        for pos in range(max(0, start - self.base_count), len(self.new_ids)):
            row = self.overlay.get(self.new_ids[pos])
            if row is not None:
                yield self.base_count + pos, row

    def by_timestamp(self, after: int | None, before: int | None) -> Iterator[Row]:
        """Rows with ``after < Timestamp < before`` in Timestamp order, in O(rows read)."""
        low = self._base_ts()
        start = 0 if after is None else max(0, after - low + 1)
        stop = self.base_count if before is None else min(self.base_count, max(0, before - low))
        for index in range(start, stop):
            if index not in self.overridden:
                yield self._make(index)
        begin = 0 if after is None else bisect.bisect_right(self.ts_log, (after, "\uffff"))
        for ts, row_id in self.ts_log[begin:]:
            if before is not None and ts >= before:
                break
            row = self.overlay.get(row_id)
            if row is not None and row.get("Timestamp") == ts:
                yield row

    def all(self) -> Iterator[Row]:
        for _, row in self.natural():
            yield row

    # ---- writing
    def put(self, row: Row, ts: int) -> None:
        key = str(row["ID"]).lower()
        row["Timestamp"] = ts
        index = self._index_of(key)
        if index is not None:
            self.overridden.add(index)
        elif key not in self.new_pos:
            self.new_pos[key] = len(self.new_ids)
            self.new_ids.append(key)
        self.deleted.discard(key)
        self.overlay[key] = row
        self.ts_log.append((ts, key))

    def delete(self, row_id: str) -> bool:
        key = row_id.lower()
        if self.get(key) is None:
            return False
        index = self._index_of(key)
        if index is not None:
            self.overridden.add(index)
        self.overlay.pop(key, None)
        self.deleted.add(key)
        return True

    def renumber(self, first: int) -> int:
        """Give every overlay row a new Timestamp from ``first`` on (division move); returns the next."""
        live = sorted(
            ((row["Timestamp"], key) for key, row in self.overlay.items() if "Timestamp" in row), key=lambda p: p[0]
        )
        self.ts_log = []
        for _, key in live:
            self.overlay[key]["Timestamp"] = first
            self.ts_log.append((first, key))
            first += 1
        return first


def _guid_hex(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def format_guid(h: str) -> str:
    h = h[:12] + "4" + h[13:16] + "89ab"[int(h[16], 16) % 4] + h[17:32]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class GuidSpace:
    """Stable GUIDs for base rows that can be turned back into their index in O(1).

    The first 20 hex digits hash (seed, kind, division, index); the last 12 are the index XOR a
    per-kind mask. Decoding recomputes the GUID and compares, so a foreign GUID never matches.
    """

    def __init__(self, seed: int, kind: str, division: int, count: int) -> None:
        self._prefix = f"{seed}:{kind}:{division}:"
        self._mask = int(_guid_hex(self._prefix + "mask")[:12], 16)
        self.count = count

    def guid(self, index: int) -> str:
        head = _guid_hex(f"{self._prefix}{index}")[:20]
        return format_guid(head + f"{index ^ self._mask:012x}")

    def index(self, value: str) -> int | None:
        tail = value.replace("-", "")[-12:]
        try:
            index = int(tail, 16) ^ self._mask
        except ValueError:
            return None
        if 0 <= index < self.count and self.guid(index) == value.lower():
            return index
        return None


@dataclass(frozen=True)
class _Txn:
    """What one base payment term belongs to (derived from the seed)."""

    scenario: str  # open | paid | collection | credit | receipt | payable | split_paid | split_open
    txn_index: int


class DivisionState:
    """One division: its accounts, payment terms, deletions and write-back rows."""

    def __init__(self, spec: DivisionSpec, seed: int, today: date, users: list[tuple[str, str]]) -> None:
        self.spec = spec
        self.code = spec.code
        self.seed = seed
        self.today = today
        self.users = users  # (UserID, FullName) that may act in the division
        self.gen = DataGenerator(seed * 1_000_003 + spec.code)
        self.ts_base = INITIAL_TS_BASE
        self.move_date: datetime | None = None
        self.hr_link_date: datetime | None = None
        self._new_counter = 0
        n_acc, n_terms = spec.accounts, spec.terms
        self._next_ts = self.ts_base + n_acc + n_terms
        self.account_ids = GuidSpace(seed, "account", spec.code, n_acc)
        self.term_ids = GuidSpace(seed, "term", spec.code, n_terms)
        self.accounts = Table(n_acc, self._cached_account(), self.account_ids.guid, self.account_ids.index,
                              lambda: self.ts_base)
        self.terms = Table(n_terms, self._base_term, self.term_ids.guid, self.term_ids.index,
                           lambda: self.ts_base + self.spec.accounts)
        self.deleted = self._overlay_table()
        self.notes = self._overlay_table()
        self.tasks = self._overlay_table()
        self.documents = self._overlay_table()
        self.attachments = self._overlay_table()
        self.classifications = [self.gen.guid("classification", k) for k in range(3)]

    def _overlay_table(self) -> Table:
        return Table(0, lambda i: {}, lambda i: "", lambda g: None, lambda: 0)

    # ------------------------------------------------------------------ ids and timestamps
    def next_ts(self) -> int:
        self._next_ts += 1
        return self._next_ts

    def new_guid(self) -> str:
        self._new_counter += 1
        return format_guid(_guid_hex(f"{self.seed}:new:{self.code}:{self._new_counter}"))

    @property
    def max_timestamp(self) -> int:
        return self._next_ts

    def now(self) -> datetime:
        return datetime.now(UTC)

    # ------------------------------------------------------------------ accounts
    def is_supplier_index(self, index: int) -> bool:
        return index % 10 == 9

    def _cached_account(self) -> Callable[[int], Row]:
        @lru_cache(maxsize=4096)
        def frozen(index: int) -> tuple[tuple[str, Any], ...]:
            return tuple(self._base_account(index).items())

        def make(index: int) -> Row:
            row = dict(frozen(index))
            row["Timestamp"] = self.ts_base + index
            return row

        return make

    def party(self, index: int) -> FakeParty:
        be_share = 0.7 if self.spec.country == "BE" else 0.25
        return self.gen.party(index, be_share=be_share, business_share=0.65)

    def _base_account(self, index: int) -> Row:
        p = self.party(index)
        rng = self.gen.rng("account", index)
        supplier = self.is_supplier_index(index)
        created = midnight(self.today - timedelta(days=400 + rng.randint(0, 1500)))
        modified = created + timedelta(days=rng.randint(0, 380), hours=rng.randint(8, 17))
        condition = rng.choice(("14", "30", "30", "60", "21")) if p.is_business else "14"
        credit_line = Decimal(rng.choice((0, 0, 2500, 5000, 10000, 25000))) if p.is_business else Decimal(0)
        language = p.language.upper()
        slug = "".join(ch for ch in p.name.lower() if ch.isalnum())[:16]
        return {
            "ID": self.account_ids.guid(index),
            "Code": pad_code(1000 + index + 1),
            "Name": p.name,
            "Status": "A" if supplier else "C",
            "IsSales": not supplier,
            "IsSupplier": supplier,
            "Blocked": rng.random() < 0.03,
            "CreditLineSales": credit_line.quantize(CENT),
            "CreditLinePurchase": Decimal("0.00"),
            "Language": pad_language(language),
            "LanguageDescription": LANGUAGE_NAMES.get(language, language),
            "Email": p.email,
            "Phone": p.phone,
            "Fax": None,
            "Website": f"www.{slug}.{p.country.lower()}" if p.is_business else None,
            "PaymentConditionSales": condition,
            "PaymentConditionSalesDescription": PAYMENT_CONDITIONS[condition],
            "VATNumber": p.vat_number,
            "ChamberOfCommerce": p.coc_number,
            "Classification1": self.gen.guid("classification", rng.randrange(3)) if p.is_business else None,
            **{f"Classification{i}": None for i in range(2, 9)},
            "Country": pad_country(p.country),
            "City": p.city,
            "Postcode": p.postcode,
            "AddressLine1": p.street,
            "AddressLine2": None,
            "AddressLine3": None,
            "State": None,
            "MainContact": self.gen.guid("contact", index),
            "InvoiceAccount": None,
            "Parent": None,
            "Reseller": None,
            "InvoicingMethod": 2,
            "Remarks": None,
            "StartDate": created,
            "EndDate": None,
            "Type": "A",
            "Created": created,
            "Modified": modified,
            "Division": self.code,
            "GLAR": self.gen.guid("glar"),
            "CustomField": None,
            # Not an Exact field: kept for the term generator (B2B/B2C), never selected.
            "_contact_name": None if p.is_business else p.name,
        }

    def account(self, account_id: str) -> Row | None:
        return self.accounts.get(account_id)

    # ------------------------------------------------------------------ payment terms (base)
    def _txn(self, index: int) -> _Txn:
        pair = index // 2
        rng = self.gen.rng("pair", pair)
        if rng.random() < 0.08 and pair * 2 + 1 < self.spec.terms:
            return _Txn("split_paid" if index % 2 == 0 else "split_open", pair * 2)
        rng = self.gen.rng("term", index)
        roll = rng.random()
        has_suppliers = self.spec.accounts >= 10
        for scenario, share in (
            ("open", 0.42), ("paid", 0.26), ("collection", 0.04), ("credit", 0.06), ("receipt", 0.05),
            ("payable", 0.17 if has_suppliers else 0.0),
        ):
            if roll < share:
                return _Txn(scenario, index)
            roll -= share
        return _Txn("open", index)

    def _customer_index(self, rng_key: int) -> int:
        rng = self.gen.rng("customer", rng_key)
        n = self.spec.accounts
        if n < 10:
            return rng.randrange(n)
        customers = n - n // 10
        k = rng.randrange(customers)
        return k + k // 9

    def _supplier_index(self, rng_key: int) -> int:
        rng = self.gen.rng("supplier", rng_key)
        return 10 * rng.randrange(self.spec.accounts // 10) + 9

    def _base_term(self, index: int) -> Row:
        txn = self._txn(index)
        rng = self.gen.rng("txn", txn.txn_index)
        scenario = txn.scenario
        payable = scenario == "payable"
        acc_index = self._supplier_index(txn.txn_index) if payable else self._customer_index(txn.txn_index)
        account = self.accounts.get(self.account_ids.guid(acc_index)) or self.accounts.base_row(acc_index)
        total = Decimal(self.gen.amount_cents("txn", self.code, txn.txn_index)) / 100
        currency = self.spec.currency
        if scenario in ("open", "paid") and rng.random() < 0.08:
            currency = rng.choice(("USD", "GBP"))
        condition = str(account.get("PaymentConditionSales") or "30")
        days = int(condition) if condition.isdigit() else 30
        if scenario in ("paid", "split_paid", "split_open"):
            invoice_date = self.today - timedelta(days=rng.randint(20, 720))
        else:
            invoice_date = self.today - timedelta(days=rng.randint(0, 200))
        due_date = invoice_date + timedelta(days=days)
        paid_on = min(self.today - timedelta(days=1), invoice_date + timedelta(days=rng.randint(3, days + 60)))
        if scenario in ("split_paid", "split_open"):
            paid_part = money(total * Decimal(rng.randint(20, 80)) / 100)
            term_total = paid_part if scenario == "split_paid" else total - paid_part
        else:
            term_total = total
        row = self._term_row(
            index=index, txn_index=txn.txn_index, account=account, scenario=scenario, total=total,
            term_total=term_total, currency=currency, invoice_date=invoice_date, due_date=due_date,
            condition=condition, days=days,
        )
        if scenario in ("paid", "split_paid"):
            self._close(row, paid_on)
        elif scenario == "split_open":
            row["LastPaymentDate"] = midnight(paid_on)
        elif scenario == "collection":
            status = 30 if rng.random() < 0.5 else 40
            row.update(
                Status=status, PaymentMethod="I", ReceivableBatchNumber=1000 + txn.txn_index % 500,
                ReceivableSelected=midnight(self.today - timedelta(days=rng.randint(1, 10))),
                ReceivableSelector=self.users[0][0], ReceivableSelectorFullName=self.users[0][1],
                DirectDebitMandate=self.gen.guid("mandate", acc_index),
                DirectDebitMandateReference=f"MND-{acc_index:06d}", DirectDebitMandateDescription="SEPA machtiging",
                DirectDebitMandatePaymentType=0, DirectDebitMandateType=0,
                EndToEndID=f"E2E{txn.txn_index:09d}" if status == 40 else None,
            )
        modified = row["EndDate"] or midnight(invoice_date)
        row["Modified"] = modified + timedelta(hours=9)
        row["Timestamp"] = self.ts_base + self.spec.accounts + index
        return row

    def _term_row(
        self, *, index: int | None, txn_index: int | str, account: Row, scenario: str, total: Decimal,
        term_total: Decimal, currency: str, invoice_date: date, due_date: date, condition: str, days: int,
    ) -> Row:
        payable = scenario == "payable"
        credit = scenario in ("credit", "receipt")
        rate = RATES.get(currency, Decimal(1)) if currency != self.spec.currency else Decimal(1)
        # §3.2 sign convention (see module docstring).
        term_sign = Decimal(1) if (credit or payable) else Decimal(-1)
        txn_sign = Decimal(-1) if credit else Decimal(1)
        amount_fc = (term_sign * term_total).quantize(CENT)
        transaction_fc = (txn_sign * total).quantize(CENT)
        number = 20_000_000 + int(str(txn_index).lstrip("n"))
        kind_label = {"credit": "Creditnota", "receipt": "Ontvangst", "payable": "Inkoopfactuur"}.get(scenario, "Factuur")
        country = str(account.get("Country") or "").strip()
        reference = _ogm(number) if country == "BE" else str(number)
        term_id = self.term_ids.guid(index) if index is not None else self.new_guid()
        txn_key = ("txn", self.code, txn_index)
        return {
            "ID": term_id,
            "Account": account["ID"],
            "AccountCode": account.get("Code"),
            "AccountName": account.get("Name"),
            "AccountCountry": account.get("Country"),
            "AccountContact": account.get("MainContact"),
            "AccountContactName": account.get("_contact_name"),
            "AccountBankAccountID": None,
            "AccountBankAccountNumber": None,
            "AmountDC": (amount_fc * rate).quantize(CENT),
            "AmountFC": amount_fc,
            "AmountDiscountDC": Decimal("0.00"),
            "AmountDiscountFC": Decimal("0.00"),
            "TransactionAmountDC": (transaction_fc * rate).quantize(CENT),
            "TransactionAmountFC": transaction_fc,
            "RateFC": rate,
            "Currency": currency,
            "Description": f"{kind_label} {number}",
            "DueDate": midnight(due_date),
            "DiscountDueDate": midnight(due_date),
            "TransactionDueDate": midnight(due_date),
            "InvoiceDate": midnight(invoice_date),
            "InvoiceNumber": number if scenario != "receipt" else 0,
            "EntryNumber": number,
            "OrderNumber": None,
            "YourRef": None if scenario == "receipt" else f"PO{number % 100000:05d}",
            "EntryDate": midnight(invoice_date),
            "EntryID": self.gen.guid("entry", index) if index is not None else self.new_guid(),
            "TransactionEntryID": self.gen.guid(*txn_key),
            "TransactionID": self.gen.guid("line", *txn_key),
            "TransactionType": {"credit": 21, "receipt": 40, "payable": 30}.get(scenario, 20),
            "TransactionStatus": 50,
            "TransactionIsReversal": False,
            "TransactionReportingYear": invoice_date.year,
            "TransactionReportingPeriod": invoice_date.month,
            "Status": 20,
            "IsFullyPaid": False,
            "LastPaymentDate": None,
            "EndDate": None,
            "EndPeriod": None,
            "EndYear": None,
            "Source": None,
            "PaymentMethod": "B",
            "PaymentReference": reference,
            "PaymentCondition": condition,
            "PaymentConditionDescription": PAYMENT_CONDITIONS.get(condition, f"{days} dagen"),
            "PaymentDays": days,
            "PaymentDaysDiscount": 0,
            "PaymentDiscountPercentage": Decimal("0.00"),
            "DirectDebitMandate": None,
            "DirectDebitMandateDescription": None,
            "DirectDebitMandateReference": None,
            "DirectDebitMandatePaymentType": None,
            "DirectDebitMandateType": None,
            "GLAccount": self.gen.guid("glap" if payable else "glar"),
            "GLAccountCode": "1600" if payable else "1300",
            "GLAccountDescription": "Crediteuren" if payable else "Debiteuren",
            "Journal": {"payable": "60", "receipt": "20"}.get(scenario, "70"),
            "JournalDescription": {"payable": "Inkoopboek", "receipt": "Bank"}.get(scenario, "Verkoopboek"),
            "BankAccountID": None,
            "BankAccountNumber": None,
            "CashflowTransactionBatchCode": None,
            "ReceivableBatchNumber": None,
            "ReceivableSelected": None,
            "ReceivableSelector": None,
            "ReceivableSelectorFullName": None,
            "EndToEndID": None,
            "PaymentInformationID": None,
            "IsBatchBooking": 0,
            "Document": None,
            "DocumentNumber": None,
            "DocumentSubject": None,
            "Created": midnight(invoice_date) + timedelta(hours=9),
            "Creator": self.users[0][0],
            "CreatorFullName": self.users[0][1],
            "Modified": midnight(invoice_date) + timedelta(hours=9),
            "Modifier": self.users[0][0],
            "ModifierFullName": self.users[0][1],
            "Division": self.code,
            "LineType": 22 if payable else 20,
            "ApprovalStatus": None,
            "PaymentBatchNumber": None,
            "PaymentSelected": None,
            "PaymentSelector": None,
            "PaymentSelectorFullName": None,
        }

    @staticmethod
    def _close(row: Row, paid_on: date) -> None:
        """§5: a fully paid term is Status 50, IsFullyPaid, with EndDate/EndYear/EndPeriod set."""
        row.update(
            Status=50, IsFullyPaid=True, Source=3, LastPaymentDate=midnight(paid_on), EndDate=midnight(paid_on),
            EndYear=paid_on.year, EndPeriod=paid_on.month,
        )

    # ------------------------------------------------------------------ writes (helpers and REST)
    def touch(self, table: Table, row: Row, now: datetime, user: tuple[str, str] | None = None) -> None:
        """Store a changed row with a fresh Timestamp and Modified."""
        row["Modified"] = now
        if "Modifier" in row or table is self.terms:
            who = user or self.users[0]
            row["Modifier"], row["ModifierFullName"] = who
        table.put(row, self.next_ts())

    def record_deletion(self, entity_type: int, key: str, now: datetime) -> None:
        row: Row = {
            "ID": self.new_guid(), "DeletedBy": self.users[0][0], "DeletedDate": now, "Division": self.code,
            "EntityKey": key.lower(), "EntityType": entity_type,
        }
        self.deleted.put(row, self.next_ts())

    def delete_term(self, term_id: str, now: datetime) -> None:
        if not self.terms.delete(term_id):
            raise KeyError(term_id)
        self.record_deletion(ENTITY_TYPE_PAYMENT_TERMS, term_id, now)

    def delete_account(self, account_id: str, now: datetime) -> None:
        if not self.accounts.delete(account_id):
            raise KeyError(account_id)
        self.record_deletion(ENTITY_TYPE_ACCOUNTS, account_id, now)

    def find_term(self, term_or_entry_id: str) -> Row:
        row = self.terms.get(term_or_entry_id)
        if row is not None:
            return row
        key = term_or_entry_id.lower()
        for candidate in self.terms.all():
            if str(candidate.get("EntryID", "")).lower() == key:
                return candidate
        raise KeyError(term_or_entry_id)

    def pay(self, term_or_entry_id: str, amount: Decimal, now: datetime, today: date) -> str | None:
        """Pay ``amount`` (in the term's currency) on one open term; returns the remainder term's ID.

        §5/§3.2 EntryID: a partial payment splits the term. The existing term keeps the paid part and
        is closed (Status 50, IsFullyPaid, EndDate); the rest becomes a new open term with a new ID and
        EntryID and the same TransactionEntryID. A full payment closes the term.
        """
        row = dict(self.find_term(term_or_entry_id))
        if row.get("IsFullyPaid") or row.get("Status") == 50:
            raise ValueError("the term is already paid")
        paid = money(amount)
        if paid <= 0:
            raise ValueError("amount must be positive")
        open_fc = Decimal(row["AmountFC"])
        sign = Decimal(-1) if open_fc < 0 else Decimal(1)
        remainder: str | None = None
        if paid < abs(open_fc):
            rest = dict(row)
            paid_fc = sign * paid
            paid_dc = (paid_fc * Decimal(row["RateFC"])).quantize(CENT)
            rest_id = self.new_guid()
            rest.update(
                ID=rest_id, EntryID=self.new_guid(), AmountFC=open_fc - paid_fc,
                AmountDC=Decimal(row["AmountDC"]) - paid_dc, LastPaymentDate=midnight(today), Created=now,
            )
            row.update(AmountFC=paid_fc, AmountDC=paid_dc)
            self._close(row, today)
            self.touch(self.terms, row, now)
            self.touch(self.terms, rest, now)
            remainder = rest_id
        else:
            self._close(row, today)
            self.touch(self.terms, row, now)
        return remainder

    def add_invoice(
        self, account_id: str, amount: Decimal, invoice_date: date, due_date: date, currency: str, now: datetime
    ) -> str:
        """A new booked sales invoice (or credit note when ``amount`` < 0) with one open term."""
        account = self.account(account_id)
        if account is None:
            raise KeyError(account_id)
        total = money(abs(amount))
        self._new_counter += 1
        row = self._term_row(
            index=None, txn_index=f"n{self.spec.terms + self._new_counter}", account=account,
            scenario="credit" if amount < 0 else "open", total=total, term_total=total, currency=currency,
            invoice_date=invoice_date, due_date=due_date, condition=str(account.get("PaymentConditionSales") or "30"),
            days=(due_date - invoice_date).days,
        )
        row["Created"] = now
        self.touch(self.terms, row, now)
        return str(row["ID"])

    def update_account(self, account_id: str, fields: dict[str, Any], now: datetime) -> Row:
        row = self.account(account_id)
        if row is None:
            raise KeyError(account_id)
        row = dict(row)
        for key, value in fields.items():
            if key == "Code" and value is not None:
                value = pad_code(value)
            elif key == "Country" and value is not None:
                value = pad_country(value)
            elif key == "Language" and value is not None:
                value = pad_language(value)
            elif key in ("CreditLineSales", "CreditLinePurchase") and value is not None:
                value = money(value)
            row[key] = value
        self.touch(self.accounts, row, now)
        if "Modified" in fields:
            row["Modified"] = fields["Modified"]
        return row

    def move(self, now: datetime, *, hr_link: bool = False) -> None:
        """§4: moving a division to another database resets its Timestamps; DivisionMoveDate is set.

        The reference names ``DivisionHRLinkUnlinkDate`` as a resync trigger "likewise": with ``hr_link``
        the division is linked to or unlinked from an HR division instead, which (as simulated here) resets
        the Timestamps the same way and sets that date [UNVERIFIED what an HR (un)link does to Timestamps].
        """
        if hr_link:
            self.hr_link_date = now
        else:
            self.move_date = now
        self.ts_base = 2
        first = self.ts_base + self.spec.accounts + self.spec.terms
        first = self.accounts.renumber(first)
        first = self.terms.renumber(first)
        first = self.deleted.renumber(first)
        self._next_ts = first - 1


def _ogm(number: int) -> str:
    """A Belgian structured reference (+++ddd/dddd/ddddd+++) with its mod-97 check digits."""
    base = number % 10_000_000_000
    check = base % 97 or 97
    digits = f"{base:010d}{check:02d}"
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"
