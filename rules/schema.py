"""The ``rules.yaml`` an accountant writes for one client (docs/architecture.md §7), as pydantic models.

Every model forbids unknown fields, so a typo is a mistake with a line number, never a silently
ignored setting (see :mod:`rules.loading`). Money is ``Decimal``: the loader hands YAML numbers
over as text, so ``7.50`` never passes through a binary float.

Shape (``rules/examples/nl-practice.yaml`` is the annotated reference)::

    version: 1
    creditor: {name, coc_number | kbo_number, vat_number, iban, bic, address_lines, email, ...}
    reminders_sent_by: arconnect | package          # who sends reminders (Exact: see plan warnings)
    business_days: {country: NL | BE}               # sending only on business days of that country
    letters: {default_language, languages, templates_dir}
    costs: {contract_clause, postage, commercial_interest}
    segments:                                       # first match wins, a default is required
      - {name, when: <condition>, profile}
      - {name, default: true, profile}
    profiles:
      <name>: {tolerance, min_days_between_messages, steps: [<step>, ...]}
    credit_limits:                                  # first match wins, per debtor
      - {name, when: <condition>, limit: 10000 | from_package, buckets, overdue_margin_days, ...}

A condition combines ``all``, ``any`` and ``not`` with leaves over debtor fields (``kind``,
``country``, ``language``, ``tags``, ``open_total``, ``avg_days_late``) and item fields
(``item_amount``, ``days_overdue``); every field given in one condition must hold.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.model import ActionKind, DebtorKind, to_decimal

Country = Literal["NL", "BE"]
Channel = Literal["email", "letter", "registered_letter", "phone", "package", "none"]
Language = Literal["nl", "fr", "en", "de"]
Bucket = Literal["open", "overdue_after_margin", "disputed"]

#: Item-level fields: a condition using them depends on the open item, not only on the debtor.
ITEM_FIELDS = ("item_amount", "days_overdue")


class StepAction(StrEnum):
    """What a dunning step does (a subset of :class:`connector.model.ActionKind`)."""

    REMINDER = "reminder"
    FORMAL_NOTICE = "formal_notice"
    CALL_TASK = "call_task"
    NOTICE_OF_DEFAULT = "notice_of_default"
    COLLECTION_HANDOVER = "collection_handover"
    BLOCK = "block"
    MARK_DOUBTFUL = "mark_doubtful"
    WRITE_OFF = "write_off"

    @property
    def kind(self) -> ActionKind:
        return ActionKind(self.value)


#: Actions that send the debtor something (or ask a person to call): they carry letter facts.
MESSAGE_ACTIONS = frozenset(
    {
        StepAction.REMINDER,
        StepAction.FORMAL_NOTICE,
        StepAction.CALL_TASK,
        StepAction.NOTICE_OF_DEFAULT,
        StepAction.COLLECTION_HANDOVER,
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _amount(value: object) -> Decimal:
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        raise ValueError(f"not an amount: {value!r} (write it like 7.50 or \"7.50\")") from None


Amount = Annotated[Decimal, Field(json_schema_extra={"examples": ["40.00"]})]


class Range(_Model):
    """Bounds on a number; every bound given must hold (``gte: 1000, lt: 50000``)."""

    gt: Decimal | None = None
    gte: Decimal | None = None
    lt: Decimal | None = None
    lte: Decimal | None = None

    @field_validator("gt", "gte", "lt", "lte", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal | None:
        return None if value is None else _amount(value)

    @model_validator(mode="after")
    def _some_bound(self) -> Range:
        if self.gt is None and self.gte is None and self.lt is None and self.lte is None:
            raise ValueError("give at least one of gt, gte, lt, lte")
        return self


class TagTest(_Model):
    """Tags of the debtor: ``any`` of these, ``all`` of these, ``none`` of these."""

    any_: list[str] | None = Field(default=None, alias="any")
    all_: list[str] | None = Field(default=None, alias="all")
    none: list[str] | None = None


class Condition(_Model):
    """A test on a debtor and (for item fields) one open item. All given fields must hold."""

    all_: list[Condition] | None = Field(default=None, alias="all", description="every condition holds")
    any_: list[Condition] | None = Field(default=None, alias="any", description="at least one condition holds")
    not_: Condition | None = Field(default=None, alias="not", description="the condition does not hold")
    kind: list[DebtorKind] | None = Field(default=None, description="debtor kind: business, consumer, unknown")
    country: list[str] | None = Field(default=None, description="debtor country codes, e.g. [NL, BE]")
    language: list[Language] | None = None
    tags: TagTest | None = None
    open_total: Range | None = Field(default=None, description="the debtor's total open amount (base currency)")
    avg_days_late: Range | None = Field(default=None, description="amount-weighted days beyond terms of paid items")
    item_amount: Range | None = Field(default=None, description="the open amount of the item")
    days_overdue: Range | None = Field(default=None, description="days since the item's due date")

    @field_validator("kind", mode="before", json_schema_input_type=DebtorKind | list[DebtorKind] | None)
    @classmethod
    def _one_kind_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("country", mode="before", json_schema_input_type=str | list[str] | None)
    @classmethod
    def _one_country_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("language", mode="before", json_schema_input_type=Language | list[Language] | None)
    @classmethod
    def _one_language_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("country")
    @classmethod
    def _upper(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [c.upper() for c in value]

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.model_fields_set:
            raise ValueError("an empty condition; use all, any, not or a field such as kind or days_overdue")
        return self

    def uses_item_fields(self) -> bool:
        if any(getattr(self, name) is not None for name in ITEM_FIELDS):
            return True
        children = [*(self.all_ or []), *(self.any_ or []), *([self.not_] if self.not_ else [])]
        return any(child.uses_item_fields() for child in children)


class Creditor(_Model):
    """Who is owed: printed on every letter (NL: KvK number; BE: KBO/enterprise number)."""

    name: str = Field(min_length=1)
    coc_number: str | None = Field(default=None, description="KvK number (NL)")
    kbo_number: str | None = Field(default=None, description="KBO / enterprise number (BE)")
    vat_number: str | None = None
    iban: str = Field(min_length=15, max_length=34)
    bic: str | None = None
    address_lines: list[str] = Field(default_factory=list)
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    country: Country = "NL"

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        compact = value.replace(" ", "").upper()
        if not (compact[:2].isalpha() and compact[2:4].isdigit() and compact.isalnum()):
            raise ValueError("not an IBAN (two letters, two check digits, then the account)")
        # ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1.
        digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
        if int(digits) % 97 != 1:
            raise ValueError("IBAN check digits do not match")
        return compact

    @model_validator(mode="after")
    def _registration(self) -> Creditor:
        if self.country == "NL" and not self.coc_number:
            raise ValueError("a Dutch creditor must give coc_number (KvK), letters must show it")
        if self.country == "BE" and not self.kbo_number:
            raise ValueError("a Belgian creditor must give kbo_number, Book XIX letters must show it")
        return self


class BusinessDays(_Model):
    """Whose calendar decides business days (weekends and public holidays, `holidays` package)."""

    country: Country | None = Field(default=None, description="default: the connection's country")
    roll_due_dates: bool = Field(
        default=True, description="a due date on a weekend or holiday moves to the next business day"
    )


class Letters(_Model):
    default_language: Language = "nl"
    languages: list[Language] = Field(default_factory=lambda: list[Language](["nl"]), min_length=1)
    templates_dir: str | None = Field(default=None, description="own templates, relative to this file")


class DebtorSettings(_Model):
    """How debtors are classified when the package does not say (see :mod:`rules.classify`)."""

    unknown_as: Literal["consumer", "business"] | None = Field(
        default=None, description="treat debtors of unknown kind as this unless the connection says (config.yaml unknown_as); "
        "default consumer"
    )
    kinds: dict[str, Literal["consumer", "business"]] = Field(
        default_factory=dict, description="debtor code -> kind, overriding every other signal"
    )


class CostSettings(_Model):
    contract_clause: bool = Field(
        default=True, description="the contract has the clause the law needs (BE consumers: a damages clause)"
    )
    interest_clause: bool | None = Field(
        default=None, description="BE consumers: the contract has an interest clause (default: contract_clause)"
    )
    regular_delivery: bool = Field(
        default=False,
        description="BE consumers: contracts for the regular delivery of goods or services (the only case of the "
        "EUR 7.50 + postage reminder fee, from the 4th unpaid due date of a calendar year)",
    )
    accept_unverified_rates: bool = Field(
        default=False,
        description="let apply put an interest rate marked unverified in rules/data/interest.yaml on a letter",
    )
    business_law: Literal["creditor", "debtor"] = Field(
        default="creditor", description="whose country's law sets a business debtor's costs and interest"
    )
    postage: Decimal | None = Field(default=None, description="postage added to BE consumer reminders by letter")
    interest: bool = Field(default=True, description="compute statutory/commercial interest on steps that ask for it")

    @field_validator("postage", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal | None:
        return None if value is None else _amount(value)


class Step(_Model):
    """One rung of a dunning profile. Reached only from the previous rung, never skipped."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    after_days: int = Field(description="days after `from`; may be negative (a call before the due date)")
    from_: Literal["invoice_date", "due_date", "end_of_month", "previous_step"] = Field(
        default="due_date", alias="from"
    )
    action: StepAction
    channel: Channel = "email"
    template: str | None = None
    costs: Literal["none", "statutory"] | Decimal = Field(
        default="none", description="none, statutory (the most the law allows) or a fixed amount"
    )
    interest: bool = Field(default=False, description="add statutory / commercial interest to this message")
    term_days: int | None = Field(default=None, ge=1, le=90, description="pay-by term stated in the letter")
    consumer_letter: bool = Field(
        default=False,
        description="this letter starts a consumer's 14-day term before costs (NL 14-dagenbrief, BE free first reminder)",
    )

    @field_validator("costs", mode="before")
    @classmethod
    def _costs(cls, value: object) -> object:
        if value in ("none", "statutory") or value is None:
            return "none" if value is None else value
        try:
            amount = to_decimal(value)
        except (TypeError, ValueError):
            raise ValueError(f"costs must be none, statutory or an amount such as \"12.50\", not {value!r}") from None
        if amount < 0:
            raise ValueError("fixed costs cannot be negative")
        return amount

    @model_validator(mode="after")
    def _needs_template(self) -> Step:
        letter = self.channel in ("email", "letter", "registered_letter")
        if self.action in MESSAGE_ACTIONS and letter and not self.template:
            raise ValueError(f"a {self.action.value} by {self.channel} needs a template")
        return self


class Profile(_Model):
    tolerance: Decimal = Field(default=Decimal("5.00"), description="nothing is sent when the net open is at most this")
    min_days_between_messages: int = Field(default=7, ge=0)
    steps: list[Step] = Field(min_length=1)
    broken_promise_step: str | None = Field(
        default=None,
        description="when a promise to pay or a payment plan breaks, its items resume the ladder at this step",
    )

    @field_validator("tolerance", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal:
        return _amount(value)

    @model_validator(mode="after")
    def _ladder(self) -> Profile:
        names = [s.name for s in self.steps]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"step names must be unique in a profile: {', '.join(duplicates)}")
        if self.steps[0].from_ == "previous_step":
            raise ValueError("the first step cannot count from previous_step")
        if self.broken_promise_step is not None and self.broken_promise_step not in names:
            raise ValueError(f"broken_promise_step {self.broken_promise_step!r} is not a step of this profile ({', '.join(names)})")
        return self


class Desk(_Model):
    """The credit controller's desk: promises to pay, payment plans, disputes (rules/desk.py)."""

    promise_grace_days: int = Field(default=3, ge=0, le=60, description="days after a promised date before it is broken")
    plan_grace_days: int = Field(default=5, ge=0, le=60, description="days after an instalment's date before the plan breaks")
    instalment_reminder_days: int | None = Field(
        default=3, ge=0, le=30, description="remind this many days before each instalment (none: no reminders)"
    )
    instalment_reminder_channel: Literal["email", "letter"] = "email"
    instalment_reminder_template: str = "instalment_reminder"
    dispute_review_days: int | None = Field(
        default=30, ge=1, le=365, description="default review date of a new dispute, in days (none: no review date)"
    )
    effect_window_days: int = Field(
        default=14, ge=1, le=90, description="a payment within this many days of a dunning step counts as its effect"
    )


class Segment(_Model):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    when: Condition | None = None
    default: bool = False
    profile: str

    @model_validator(mode="after")
    def _default_has_no_condition(self) -> Segment:
        if self.default and self.when is not None:
            raise ValueError("the default segment matches everything: remove `when`")
        if not self.default and self.when is None:
            raise ValueError("give `when` (or mark the segment `default: true`)")
        return self


class CreditLimitPolicy(_Model):
    """Block a debtor whose exposure exceeds the limit; lift our own block below it (hysteresis)."""

    name: str = Field(min_length=1)
    when: Condition | None = Field(default=None, description="debtor fields only; default: every debtor")
    limit: Literal["from_package"] | Decimal = Field(description="an amount in base currency, or from_package")
    buckets: list[Bucket] = Field(default_factory=lambda: list[Bucket](["open"]), min_length=1)
    overdue_margin_days: int = Field(default=0, ge=0)
    unblock_below_percent: Decimal = Field(
        default=Decimal("90"), gt=0, le=100, description="lift our block once exposure is below this % of the limit"
    )
    write_limit: bool = Field(default=False, description="set a fixed limit as the debtor's credit line in the package")

    @field_validator("limit", mode="before")
    @classmethod
    def _limit(cls, value: object) -> object:
        if value == "from_package":
            return value
        try:
            amount = to_decimal(value)
        except (TypeError, ValueError):
            raise ValueError(f"limit must be an amount or from_package, not {value!r}") from None
        if amount < 0:
            raise ValueError("a credit limit cannot be negative")
        return amount

    @field_validator("unblock_below_percent", mode="before")
    @classmethod
    def _exact(cls, value: object) -> Decimal:
        return _amount(value)

    @model_validator(mode="after")
    def _debtor_only(self) -> CreditLimitPolicy:
        if self.when is not None and self.when.uses_item_fields():
            raise ValueError(f"a credit-limit condition is about the debtor: do not use {' or '.join(ITEM_FIELDS)}")
        if self.write_limit and self.limit == "from_package":
            raise ValueError("write_limit needs a fixed limit: a limit read from the package is never written back")
        return self


class Rules(_Model):
    version: Literal[1]
    creditor: Creditor
    reminders_sent_by: Literal["arconnect", "package"] | None = None
    business_days: BusinessDays = Field(default_factory=BusinessDays)
    letters: Letters = Field(default_factory=Letters)
    costs: CostSettings = Field(default_factory=CostSettings)
    debtors: DebtorSettings = Field(default_factory=DebtorSettings)
    segments: list[Segment] = Field(min_length=1)
    profiles: dict[str, Profile] = Field(min_length=1)
    credit_limits: list[CreditLimitPolicy] = Field(default_factory=list)
    desk: Desk = Field(default_factory=Desk)

    @model_validator(mode="after")
    def _cross(self) -> Rules:
        problems = cross_problems(self.model_dump(by_alias=True, mode="python"))
        if problems:
            raise ValueError(problems[0][1])
        return self

    def default_segment(self) -> Segment:
        return next(s for s in self.segments if s.default)


def cross_problems(raw: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Mistakes between parts of the file, as (path, message), checked on the raw data.

    Working on the raw mapping lets ``rules check`` report them together with field errors.
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if not isinstance(raw, dict):
        return problems
    profiles = raw.get("profiles")
    profile_names = sorted(profiles) if isinstance(profiles, dict) else []
    segments = raw.get("segments")
    if isinstance(segments, list):
        defaults = [i for i, s in enumerate(segments) if isinstance(s, dict) and s.get("default") is True]
        if not defaults:
            problems.append((("segments",), "a default segment is required: add one with `default: true` at the end"))
        elif len(defaults) > 1:
            problems.append((("segments", defaults[1], "default"), "only one segment can be the default"))
        elif defaults[0] != len(segments) - 1:
            problems.append(
                (("segments", defaults[0], "default"), "the default segment must come last (first match wins)")
            )
        seen: set[str] = set()
        for i, segment in enumerate(segments):
            if not isinstance(segment, dict):
                continue
            name = segment.get("name")
            if isinstance(name, str):
                if name in seen:
                    problems.append((("segments", i, "name"), f"segment {name!r} appears twice"))
                seen.add(name)
            profile = segment.get("profile")
            if isinstance(profile, str) and isinstance(profiles, dict) and profile not in profiles:
                allowed = ", ".join(profile_names) or "none defined"
                problems.append((("segments", i, "profile"), f"unknown profile {profile!r} (profiles: {allowed})"))
    if isinstance(profiles, dict):
        for name, profile in profiles.items():
            steps = profile.get("steps") if isinstance(profile, dict) else None
            if not isinstance(steps, list):
                continue
            seen_steps: set[str] = set()
            for i, step in enumerate(steps):
                if not isinstance(step, dict):
                    continue
                step_name = step.get("name")
                if isinstance(step_name, str):
                    if step_name in seen_steps:
                        problems.append(
                            (("profiles", name, "steps", i, "name"), f"step names must be unique in a profile: {step_name}")
                        )
                    seen_steps.add(step_name)
                if i == 0 and step.get("from") == "previous_step":
                    problems.append((("profiles", name, "steps", 0, "from"), "the first step cannot count from previous_step"))
    problems.extend(_be_consumer_problems(raw, profiles))
    return problems


#: The template of the Belgian free first reminder (Book XIX WER, docs/reference/legal-and-kpi.md §3.2).
FIRST_REMINDER = "first_reminder"
_MESSAGE_ACTION_NAMES = ("reminder", "formal_notice", "notice_of_default", "collection_handover")


def _names_consumers(condition: Any) -> bool:
    """True when a segment condition selects consumers (or debtors of unknown kind, treated as
    consumers by default) by ``kind``, at its top level or in an ``all``."""
    if not isinstance(condition, dict):
        return False
    kinds = condition.get("kind")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if isinstance(kinds, list) and any(k in ("consumer", "unknown") for k in kinds):
        return True
    parts = condition.get("all")
    return isinstance(parts, list) and any(_names_consumers(part) for part in parts)


def _be_consumer_problems(raw: dict[str, Any], profiles: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Book XIX WER: a Belgian creditor's first message to a consumer is the free first reminder
    with the content the law lists, so a consumer profile (one a segment selects consumers for, or
    one with a ``consumer_letter`` step) must start with it."""
    creditor = raw.get("creditor")
    days = raw.get("business_days")
    belgian = (isinstance(creditor, dict) and creditor.get("country") == "BE") or (
        isinstance(days, dict) and days.get("country") == "BE"
    )
    if not belgian or not isinstance(profiles, dict):
        return []
    consumer_profiles: set[str] = set()
    segments = raw.get("segments")
    for segment in segments if isinstance(segments, list) else []:
        if isinstance(segment, dict) and isinstance(segment.get("profile"), str) and _names_consumers(segment.get("when")):
            consumer_profiles.add(segment["profile"])
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for name, profile in profiles.items():
        steps = profile.get("steps") if isinstance(profile, dict) else None
        if not isinstance(steps, list):
            continue
        if name not in consumer_profiles and not any(isinstance(s, dict) and s.get("consumer_letter") is True for s in steps):
            continue
        first = next(
            (i for i, s in enumerate(steps) if isinstance(s, dict) and s.get("action") in _MESSAGE_ACTION_NAMES), None
        )
        if first is None:
            continue
        step = steps[first]
        wrong = [
            field
            for field, ok in (
                ("template", step.get("template") == FIRST_REMINDER),
                ("consumer_letter", step.get("consumer_letter") is True),
                ("channel", step.get("channel", "email") in ("email", "letter", "registered_letter")),
            )
            if not ok
        ]
        if wrong:
            problems.append((
                ("profiles", name, "steps", first, wrong[0]),
                "a Belgian consumer profile must start with the free first reminder (Book XIX WER): its first "
                f"message step needs template: {FIRST_REMINDER}, consumer_letter: true and channel email or letter",
            ))
    return problems


# Pydantic needs the forward reference of the recursive condition resolved.
Condition.model_rebuild()
