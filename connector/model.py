"""The common model every package maps into (docs/architecture.md §4).

All models are frozen pydantic models. Money is always a :class:`Money` (a ``Decimal`` with its
currency); a float is refused at the boundary so that binary rounding can never creep in.
Every row carries the id of its **connection** (one administration of one package).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.errors import CurrencyMismatch

CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """Exact decimal for a wire value.

    Strings and ints are taken as written. A float (JSON numbers of packages such as Exact Online,
    which sends ``Edm.Double``) is taken by its shortest round-tripping repr, so ``0.1`` becomes
    ``Decimal('0.1')`` and not ``0.1000000000000000055511151231257827``.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite amount")
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            result = Decimal(text)
        except Exception as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
        if not result.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        return result
    raise TypeError(f"not an amount: {type(value).__name__}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(_Frozen):
    """An amount with its ISO 4217 currency. Arithmetic only within one currency."""

    amount: Decimal
    currency: str = Field(min_length=3, max_length=3)

    @field_validator("amount", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal:
        return to_decimal(value)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        if not value.isalpha():
            raise ValueError(f"not a currency code: {value!r}")
        return value.upper()

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        return cls(amount=to_decimal(amount), currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=Decimal("0"), currency=currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply money by a Decimal, never a float")
        return Money(amount=self.amount * factor, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def rounded(self) -> Money:
        """Rounded to cents, half up (the usual commercial rounding in NL and BE)."""
        return Money(amount=self.amount.quantize(CENT, rounding=ROUND_HALF_UP), currency=self.currency)

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:.2f}"


def sum_by_currency(amounts: Iterable[Money]) -> dict[str, Money]:
    """Totals per currency; amounts in different currencies are never added together."""
    totals: dict[str, Money] = {}
    for money in amounts:
        previous = totals.get(money.currency)
        totals[money.currency] = money if previous is None else previous + money
    return totals


class DebtorKind(StrEnum):
    BUSINESS = "business"
    CONSUMER = "consumer"
    UNKNOWN = "unknown"


class ItemKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    UNAPPLIED_PAYMENT = "unapplied_payment"


class ItemStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    WRITTEN_OFF = "written_off"
    DISPUTED = "disputed"


class Administration(_Frozen):
    """One set of books: Exact division, Moneybird administration, Twinfield office, Adsolut dossier."""

    source_id: str
    name: str
    country: str | None = None
    currency: str | None = None
    is_current: bool = False


class Debtor(_Frozen):
    connection_id: str
    source_id: str
    code: str | None = None
    name: str
    kind: DebtorKind = DebtorKind.UNKNOWN
    country: str | None = None
    language: str | None = None
    emails: tuple[str, ...] = ()
    phone: str | None = None
    vat_number: str | None = None
    coc_number: str | None = None
    payment_terms_days: int | None = None
    credit_limit: Money | None = None
    blocked: bool = False
    reminders_enabled_in_source: bool | None = None
    tags: tuple[str, ...] = ()
    custom_fields: dict[str, str] = Field(default_factory=dict)
    source_modified: datetime | None = None


class OpenItem(_Frozen):
    """An open item (openstaande post): an invoice, credit note or unapplied payment.

    ``original``/``open`` are in the transaction currency, ``original_base``/``open_base`` in the
    administration's base currency. Amounts are signed from the creditor's side: what the debtor
    owes is positive, a credit note or an unapplied payment is negative.
    """

    connection_id: str
    source_id: str
    debtor_source_id: str
    document_number: str | None = None
    kind: ItemKind = ItemKind.INVOICE
    invoice_date: date
    due_date: date | None = None
    original: Money
    open: Money
    original_base: Money
    open_base: Money
    status: ItemStatus = ItemStatus.OPEN
    closed_on: date | None = None
    payment_reference: str | None = None
    description: str | None = None
    in_direct_debit: bool = False
    source_dunning_level: int | None = None
    source_dunning_date: date | None = None
    source_modified: datetime | None = None


class Payment(_Frozen):
    connection_id: str
    source_id: str
    debtor_source_id: str | None = None
    item_source_ids: tuple[str, ...] = ()
    paid_on: date
    amount: Money


class Quarantined(_Frozen):
    """A source record that did not map, kept with the reason so a person can look at it."""

    stream: str
    source_id: str | None
    reason: str
    raw: dict[str, Any]


RecordT = TypeVar("RecordT", Debtor, OpenItem, Payment)


class Page(BaseModel, Generic[RecordT]):
    """One page of a stream: what to store, and the bookmark to store with it (same transaction).

    ``deleted`` names source ids that no longer exist in the package. Items that stopped being open
    are not deleted: they come in ``records`` with their closing status and date.
    """

    model_config = ConfigDict(frozen=True)

    records: list[RecordT] = Field(default_factory=list)
    quarantined: list[Quarantined] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    bookmark: str | None = None
    #: Payments the package reports in the same feed (Exact: terms that got matched), stored
    #: in the same transaction as the page.
    payments: list[Payment] = Field(default_factory=list)
    #: Source ids deleted in *other* streams, when a package reports all deletions in one feed
    #: (Exact's sync/Deleted). The engine stores them before this page, so a crash in between
    #: only means they are deleted again on the next run.
    deleted_elsewhere: dict[str, list[str]] = Field(default_factory=dict)
    #: Records of *other* streams this page makes relevant (Exact: a supplier account that turns out to
    #: owe us becomes a debtor when its open receivable arrives in the open-items feed). The engine
    #: stores them before this page, like ``deleted_elsewhere``.
    records_elsewhere: dict[str, list[Any]] = Field(default_factory=dict)
    #: The adapter's own working state for this connection (e.g. which payment terms make up
    #: an invoice), keyed by the adapter; ``None`` removes a key. Stored with the page.
    state: dict[str, Any] = Field(default_factory=dict)


class ActionKind(StrEnum):
    REMINDER = "reminder"
    FORMAL_NOTICE = "formal_notice"
    CALL_TASK = "call_task"
    NOTICE_OF_DEFAULT = "notice_of_default"
    COLLECTION_HANDOVER = "collection_handover"
    BLOCK = "block"
    UNBLOCK = "unblock"
    SET_CREDIT_LIMIT = "set_credit_limit"
    MARK_DOUBTFUL = "mark_doubtful"
    WRITE_OFF = "write_off"
    PAUSE_SOURCE_REMINDERS = "pause_source_reminders"
    RESUME_SOURCE_REMINDERS = "resume_source_reminders"
    #: a note in the package from the desk (a promise kept or broken, a dispute opened or resolved)
    ADD_NOTE = "add_note"


class PlannedAction(_Frozen):
    """One thing the rules engine wants done, with why. The idempotency key is deterministic."""

    idempotency_key: str
    connection_id: str
    debtor_source_id: str
    item_source_ids: tuple[str, ...] = ()
    kind: ActionKind
    step: str | None = None
    channel: str | None = None
    template: str | None = None
    language: str | None = None
    run_date: date
    amount: Money | None = None
    costs: Money | None = None
    interest: Money | None = None
    credit_limit: Money | None = None
    reason: str
    details: dict[str, str] = Field(default_factory=dict)


class ApplyOutcome(StrEnum):
    PENDING = "pending"  # journaled, effect not confirmed (only ever a journal state)
    DONE = "done"
    ALREADY_TRUE = "already_true"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"


class ApplyResult(_Frozen):
    outcome: ApplyOutcome
    remote_reference: str | None = None
    reason: str = ""


ConnectionStream = Literal["debtors", "open_items", "payments"]


def action_summary(action: PlannedAction) -> str:
    """The body of the note a package keeps of an action (why, how much, which items, which step),
    in Dutch and English so both the bookkeeper and an auditor read it; the same in every package."""
    parts = [action.reason]
    if action.amount is not None:
        parts.append(f"Bedrag / amount: {action.amount}")
    if action.costs is not None and not action.costs.is_zero():
        parts.append(f"Kosten / costs: {action.costs}")
    if action.interest is not None and not action.interest.is_zero():
        parts.append(f"Rente / interest: {action.interest}")
    if action.item_source_ids:
        parts.append("Facturen / invoices: " + ", ".join(action.item_source_ids))
    if action.step:
        parts.append(f"Stap / step: {action.step}")
    if action.channel:
        parts.append(f"Kanaal / channel: {action.channel}")
    record = step_record_line(action)
    if record is not None:
        parts.append(record)
    return "\n".join(parts)


#: The line of a package note that says which arconnect step it records (issue 11.2): what
#: ``arconnect journal rebuild`` reads back when the store lost its journal.
STEP_RECORD_PREFIX = "arconnect-step: "


class StepRecord(_Frozen):
    """One dunning step as the package's own note keeps it: enough to put it back in the journal."""

    key: str
    debtor_source_id: str
    item_source_ids: tuple[str, ...] = ()
    kind: ActionKind
    step: str | None = None
    profile: str | None = None
    channel: str | None = None
    run_date: date


def step_record(action: PlannedAction) -> StepRecord | None:
    """The step an effect of ``action`` records; None for an action that is not one step's effect
    (the dispatcher marks each effect with ``parent_key`` and ``parent_profile``)."""
    key = action.details.get("parent_key")
    if not key:
        return None
    return StepRecord(
        key=key, debtor_source_id=action.debtor_source_id, item_source_ids=action.item_source_ids, kind=action.kind,
        step=action.step, profile=action.details.get("parent_profile") or None, channel=action.channel,
        run_date=action.run_date,
    )


def step_record_line(action: PlannedAction) -> str | None:
    record = step_record(action)
    if record is None:
        return None
    return STEP_RECORD_PREFIX + record.model_dump_json(exclude_none=True)


def step_records_in(text: str | None) -> list[StepRecord]:
    """Every readable step record in a note's text (package text is hostile: what does not parse is skipped)."""
    found: list[StepRecord] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line.startswith(STEP_RECORD_PREFIX):
            continue
        try:
            found.append(StepRecord.model_validate_json(line[len(STEP_RECORD_PREFIX):]))
        except ValueError:
            continue
    return found
