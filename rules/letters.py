"""Dunning letters and e-mails: Jinja2 templates per step and language, money and dates by Babel.

A template is ``<name>.<language>.j2`` (e.g. ``reminder.nl.j2``). It extends a layout and fills the
blocks ``subject``, ``opening``, ``request`` and ``closing``; the layout draws what every letter
carries (docs/reference/legal-and-kpi.md §3.1, §3.2, §3.4): the creditor's name, KvK or KBO number and VAT
number, the IBAN/BIC and payment reference, each open item with its due date, the exact costs and
interest, the total, and the pay-by term where the step sets one. The same template renders twice:
as plain text (``_letter.txt.j2``) and as HTML with autoescape (``_letter.html.j2``).

Lookup: a ``templates`` dir next to the rules file first (``extra_dir``), then the shipped
``rules/templates``. Undefined names are errors (``StrictUndefined``), so a template that names a
field the context does not have fails at ``rules check`` (:func:`template_problems`), not at 3 a.m.

Locales: the letter's language with the creditor's country where Babel has it (``nl`` in Belgium is
``nl_BE``, ``fr`` is ``fr_BE`` or ``fr_FR``, ``de`` is ``de_BE`` or ``de_DE``); English is ``en``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from pydantic import BaseModel, ConfigDict, Field

from connector.model import Money, PlannedAction

SHIPPED = Path(__file__).parent / "templates"
LANGUAGES = ("nl", "fr", "en", "de")
#: Templates shipped for every language; a rules file may name others found next to it.
SHIPPED_TEMPLATES = ("reminder", "first_reminder", "formal_notice", "notice_of_default", "collection_handover", "call_task")


class CreditorFacts(BaseModel):
    """Who sends the letter: what the law wants on it (a view of ``Rules.creditor``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    coc_number: str | None = None  # KvK (NL)
    kbo_number: str | None = None  # KBO/BCE enterprise number (BE)
    vat_number: str | None = None
    iban: str | None = None
    bic: str | None = None
    address_lines: list[str] = Field(default_factory=list)
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    country: str = "NL"


class LetterItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    document_number: str
    invoice_date: date | None = None
    due_date: date | None = None
    open: Money
    days_overdue: int | None = None
    #: what the invoice is for, as the package describes it (Book XIX: the first reminder names it)
    description: str | None = None


class LetterContext(BaseModel):
    """Everything a template may use. Built from a planned action by :func:`context_for`."""

    model_config = ConfigDict(frozen=True)

    creditor: CreditorFacts
    debtor_name: str
    debtor_code: str | None = None
    step: str
    kind: str
    #: email, letter or registered_letter: the Book XIX term starts differently (day after / 3rd working day)
    channel: str | None = None
    letter_date: date
    pay_by: date | None = None
    assumed_receipt: date | None = None
    #: the statutory consumer letter: the first day costs (and BE interest) may be charged
    costs_from: date | None = None
    payment_reference: str | None = None
    items: list[LetterItem] = Field(default_factory=list)
    amount: Money
    costs: Money | None = None
    interest: Money | None = None
    costs_explanation: list[str] = Field(default_factory=list)  # for plan and journal, never printed
    interest_explanation: list[str] = Field(default_factory=list)  # for plan and journal, never printed
    consumer: bool = False
    #: the statutory consumer letter (NL 14-day letter, BE free first reminder): the law's country
    statutory: str | None = None
    costs_announced: Money | None = None
    interest_rate_announced: Decimal | None = None
    #: the label of the costs line: ``damages`` for a Belgian consumer (Book XIX speaks of damages,
    #: as the free first reminder announced them), else ``costs``
    costs_label: str = "costs"

    @property
    def netted(self) -> Money | None:
        """Credit notes and unapplied payments netted against the items (the amount is after
        netting, the items are the invoices); None when the items add up to the amount."""
        listed = [i.open for i in self.items if i.open.currency == self.amount.currency]
        if not listed:
            return None
        difference = self.amount - sum(listed[1:], listed[0])
        return None if difference.is_zero() else difference

    @property
    def total(self) -> Money:
        total = self.amount
        for extra in (self.costs, self.interest):
            if extra is not None and extra.currency == total.currency:
                total = total + extra
        return total


class RenderedLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    text: str
    html: str


class LetterError(ValueError):
    """A template that does not exist or does not render; the message is one line."""


# --------------------------------------------------------------------------- locale and filters


def babel_locale(language: str, country: str) -> str:
    language = (language or "nl").lower()[:2]
    country = (country or "NL").upper()
    if language == "nl":
        return "nl_BE" if country == "BE" else "nl_NL"
    if language == "fr":
        return "fr_BE" if country == "BE" else "fr_FR"
    if language == "de":
        return "de_BE" if country == "BE" else "de_DE"
    return "en"


def format_money(money: Money, locale: str) -> str:
    """``€ 1.234,56`` in nl_NL; Babel's CLDR patterns, with a plain space for the non-breaking one."""
    text = format_currency(money.amount, money.currency, locale=locale)
    return str(text).replace("\xa0", " ").replace("\u202f", " ")


def format_day(day: date, locale: str) -> str:
    return str(format_date(day, format="long", locale=locale))


#: Labels of the layout per language (the step's own words are in its template).
LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "netted": "Verrekend (creditnota's en ontvangen betalingen)",
        "invoice": "Factuur", "invoice_date": "Factuurdatum", "due_date": "Vervaldatum", "open": "Openstaand",
        "days": "Dagen te laat", "subtotal": "Openstaand bedrag", "costs": "Incassokosten", "damages": "Schadevergoeding", "interest": "Rente",
        "total": "Totaal te betalen", "pay_to": "Betaal aan", "reference": "Betalingskenmerk",
        "pay_by": "Uiterlijk te betalen op", "coc": "KvK", "kbo": "Ondernemingsnummer", "vat": "Btw-nummer",
        "dear": "Geachte", "regards": "Met vriendelijke groet", "date": "Datum", "customer": "Klantnummer",
    },
    "fr": {
        "netted": "Déduit (notes de crédit et paiements reçus)",
        "invoice": "Facture", "invoice_date": "Date de facture", "due_date": "Échéance", "open": "Solde",
        "days": "Jours de retard", "subtotal": "Solde dû", "costs": "Frais de recouvrement", "damages": "Indemnité", "interest": "Intérêts",
        "total": "Total à payer", "pay_to": "À payer sur", "reference": "Référence de paiement",
        "pay_by": "À payer au plus tard le", "coc": "KvK", "kbo": "Numéro d'entreprise", "vat": "Numéro de TVA",
        "dear": "Madame, Monsieur", "regards": "Salutations distinguées", "date": "Date", "customer": "Numéro client",
    },
    "en": {
        "netted": "Netted (credit notes and payments received)",
        "invoice": "Invoice", "invoice_date": "Invoice date", "due_date": "Due date", "open": "Open",
        "days": "Days overdue", "subtotal": "Amount open", "costs": "Collection costs", "damages": "Damages", "interest": "Interest",
        "total": "Total to pay", "pay_to": "Pay to", "reference": "Payment reference",
        "pay_by": "Pay no later than", "coc": "Chamber of Commerce", "kbo": "Enterprise number", "vat": "VAT number",
        "dear": "Dear", "regards": "Kind regards", "date": "Date", "customer": "Customer number",
    },
    "de": {
        "netted": "Verrechnet (Gutschriften und erhaltene Zahlungen)",
        "invoice": "Rechnung", "invoice_date": "Rechnungsdatum", "due_date": "Fällig am", "open": "Offen",
        "days": "Tage überfällig", "subtotal": "Offener Betrag", "costs": "Inkassokosten", "damages": "Schadenersatz", "interest": "Zinsen",
        "total": "Zu zahlender Gesamtbetrag", "pay_to": "Zahlung an", "reference": "Zahlungsreferenz",
        "pay_by": "Zahlbar bis spätestens", "coc": "Handelsregister (KvK)", "kbo": "Unternehmensnummer",
        "vat": "USt-IdNr.", "dear": "Sehr geehrte Damen und Herren", "regards": "Mit freundlichen Grüßen",
        "date": "Datum", "customer": "Kundennummer",
    },
}


#: What the statutory consumer letter must say, per language: NL art. 6:96(6) BW in the wording the
#: Hoge Raad accepted (HR 25 Nov 2016, ECLI:NL:HR:2016:2704: "binnen veertien dagen vanaf de dag
#: nadat deze brief bij u is bezorgd") with a conservatively computed date; BE Book XIX: a free first
#: reminder, at least 14 days from the third working day after posting (e-mail: the day after).
STATUTORY: dict[str, dict[str, str]] = {
    "nl": {
        "nl_term": "Betaal het totaalbedrag van {total} binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd. "
        "Wij gaan ervan uit dat deze brief uiterlijk op {receipt} bij u is bezorgd; betaal dan uiterlijk op {pay_by}.",
        "nl_costs": "Betaalt u niet binnen die termijn, dan bent u ook incassokosten verschuldigd van {costs}.",
        "be_term_letter": "U heeft veertien dagen om te betalen, te rekenen vanaf de "
        "derde werkdag na de verzending van deze brief. Betaal uiterlijk op {pay_by}.",
        "be_term_email": "U heeft veertien dagen om te betalen, te rekenen vanaf de "
        "dag na de verzending van deze e-mail. Betaal uiterlijk op {pay_by}.",
        "be_costs": "Betaalt u niet binnen die termijn, dan rekenen wij een schadevergoeding aan van {costs}.",
        "be_interest": "Betaalt u niet binnen die termijn, dan is vanaf {start} ook interest verschuldigd tegen {rate} % per jaar "
        "op het openstaande bedrag.",
        "be_creditor": "Schuldeiser: {name}, ondernemingsnummer {number}.",
        "be_creditor_coc": "Schuldeiser: {name}, KvK-nummer {number}.",
        "be_first": "Dit is een eerste, kosteloze herinnering.",
        "be_free": "Deze herinnering is kosteloos.",
        "be_debt": "Deze herinnering betreft: {items}.",
        "be_item_described": "{description} (factuur {number} van {invoice_date}, vervallen op {due_date}, {amount})",
        "be_item_invoice": "de goederen of diensten die wij u leverden volgens factuur {number} van {invoice_date} "
        "(vervallen op {due_date}, {amount})",
        "be_amount": "Het openstaande bedrag is {amount}.",
    },
    "fr": {
        "nl_term": "Veuillez payer le total de {total} dans les quatorze jours à compter du lendemain de la remise de cette "
        "lettre à votre adresse. Nous considérons qu'elle vous est remise au plus tard le {receipt} ; payez donc au plus tard le {pay_by}.",
        "nl_costs": "À défaut de paiement dans ce délai, des frais de recouvrement de {costs} seront dus en outre.",
        "be_term_letter": "Vous disposez de quatorze jours pour payer, à compter du troisième "
        "jour ouvrable suivant l'envoi de cette lettre. Payez au plus tard le {pay_by}.",
        "be_term_email": "Vous disposez de quatorze jours pour payer, à compter du lendemain "
        "de l'envoi de cet e-mail. Payez au plus tard le {pay_by}.",
        "be_costs": "À défaut de paiement dans ce délai, nous réclamerons une indemnité de {costs}.",
        "be_interest": "À défaut de paiement dans ce délai, des intérêts au taux de {rate} % par an seront également dus "
        "à partir du {start} sur le montant restant dû.",
        "be_creditor": "Créancier : {name}, numéro d'entreprise {number}.",
        "be_creditor_coc": "Créancier : {name}, numéro KvK {number}.",
        "be_first": "Ceci est un premier rappel gratuit.",
        "be_free": "Ce rappel est gratuit.",
        "be_debt": "Ce rappel concerne : {items}.",
        "be_item_described": "{description} (facture n° {number} du {invoice_date}, échue le {due_date}, {amount})",
        "be_item_invoice": "les biens ou services que nous vous avons fournis selon la facture n° {number} du {invoice_date} "
        "(échue le {due_date}, {amount})",
        "be_amount": "Le montant restant dû est de {amount}.",
    },
    "en": {
        "nl_term": "Please pay the total of {total} within fourteen days from the day after this letter is delivered to you. "
        "We assume it is delivered to you on {receipt} at the latest; please pay no later than {pay_by}.",
        "nl_costs": "If you do not pay within that term, you will also owe collection costs of {costs}.",
        "be_term_letter": "You have fourteen days to pay, counted from the third working "
        "day after this letter was sent. Please pay no later than {pay_by}.",
        "be_term_email": "You have fourteen days to pay, counted from the day after "
        "this e-mail was sent. Please pay no later than {pay_by}.",
        "be_costs": "If you do not pay within that term, we will claim damages of {costs}.",
        "be_interest": "If you do not pay within that term, interest at {rate} % a year will also be owed on the amount due "
        "from {start}.",
        "be_creditor": "Creditor: {name}, enterprise number {number}.",
        "be_creditor_coc": "Creditor: {name}, Chamber of Commerce (KvK) number {number}.",
        "be_first": "This is a first reminder, free of charge.",
        "be_free": "This reminder is free of charge.",
        "be_debt": "This reminder concerns: {items}.",
        "be_item_described": "{description} (invoice {number} of {invoice_date}, due on {due_date}, {amount})",
        "be_item_invoice": "the goods or services we supplied to you under invoice {number} of {invoice_date} "
        "(due on {due_date}, {amount})",
        "be_amount": "The amount due is {amount}.",
    },
    "de": {
        "nl_term": "Bitte zahlen Sie den Gesamtbetrag von {total} innerhalb von vierzehn Tagen ab dem Tag nach der Zustellung "
        "dieses Briefes. Wir gehen davon aus, dass er Ihnen spätestens am {receipt} zugestellt wird; zahlen Sie also spätestens am {pay_by}.",
        "nl_costs": "Zahlen Sie nicht innerhalb dieser Frist, schulden Sie zusätzlich Inkassokosten von {costs}.",
        "be_term_letter": "Sie haben vierzehn Tage Zeit zu zahlen, ab dem dritten Werktag "
        "nach dem Versand dieses Briefes. Zahlen Sie spätestens am {pay_by}.",
        "be_term_email": "Sie haben vierzehn Tage Zeit zu zahlen, ab dem Tag nach dem "
        "Versand dieser E-Mail. Zahlen Sie spätestens am {pay_by}.",
        "be_costs": "Zahlen Sie nicht innerhalb dieser Frist, fordern wir einen Schadenersatz von {costs}.",
        "be_interest": "Zahlen Sie nicht innerhalb dieser Frist, sind ab dem {start} außerdem Zinsen von {rate} % pro Jahr "
        "auf den offenen Betrag geschuldet.",
        "be_creditor": "Gläubiger: {name}, Unternehmensnummer {number}.",
        "be_creditor_coc": "Gläubiger: {name}, Handelsregisternummer (KvK) {number}.",
        "be_first": "Dies ist eine erste, kostenlose Mahnung.",
        "be_free": "Diese Mahnung ist kostenlos.",
        "be_debt": "Diese Mahnung betrifft: {items}.",
        "be_item_described": "{description} (Rechnung {number} vom {invoice_date}, fällig am {due_date}, {amount})",
        "be_item_invoice": "die Waren oder Dienstleistungen, die wir Ihnen mit Rechnung {number} vom {invoice_date} geliefert "
        "haben (fällig am {due_date}, {amount})",
        "be_amount": "Der offene Betrag beträgt {amount}.",
    },
}


def book_xix_lines(context: LetterContext, language: str) -> list[str]:
    """What Book XIX WER wants in the free first reminder to a Belgian consumer
    (docs/reference/legal-and-kpi.md §3.2), one sentence a line, in ``language``: the creditor's name and
    enterprise number, what the debt is for (the invoice's description, else the invoice by number and
    date), its due date and invoice, the amount owed, the term (14 days from the third working day
    after a letter is sent, from the day after an e-mail), and the damages and interest that will be
    claimed if it is not paid within the term. Empty when the letter is not that letter."""
    if context.statutory != "BE" or context.pay_by is None:
        return []
    words = STATUTORY[language]
    locale = babel_locale(language, context.creditor.country)
    creditor = context.creditor
    if creditor.kbo_number:
        registered = words["be_creditor"].format(name=creditor.name, number=creditor.kbo_number)
    elif creditor.coc_number:  # a Dutch creditor writing to a Belgian consumer (Rome I art. 6)
        registered = words["be_creditor_coc"].format(name=creditor.name, number=creditor.coc_number)
    else:
        raise jinja2.UndefinedError("the creditor's enterprise (KBO) number, which Book XIX requires on the first reminder")
    items = []
    for item in context.items:
        facts = {
            "number": item.document_number,
            "invoice_date": format_day(item.invoice_date, locale) if item.invoice_date else "?",
            "due_date": format_day(item.due_date, locale) if item.due_date else "?",
            "amount": format_money(item.open, locale),
        }
        if item.description:
            items.append(words["be_item_described"].format(description=item.description, **facts))
        else:
            items.append(words["be_item_invoice"].format(**facts))
    lines = [registered]
    if items:
        lines.append(words["be_debt"].format(items="; ".join(items)))
    lines.append(words["be_amount"].format(amount=format_money(context.amount, locale)))
    term = words["be_term_email"] if context.channel == "email" else words["be_term_letter"]
    # "first" only when it is the first reminder: a consumer of a Dutch creditor who lives in Belgium
    # may get this letter after an earlier (free) reminder of the Dutch ladder
    free = words["be_first"] if context.kind == "reminder" else words["be_free"]
    lines.append(f"{free} {term.format(pay_by=format_day(context.pay_by, locale))}")
    if context.costs_announced is not None and not context.costs_announced.is_zero():
        lines.append(words["be_costs"].format(costs=format_money(context.costs_announced, locale)))
    if context.interest_rate_announced is not None:
        start = context.costs_from or context.pay_by
        rate = format_decimal(context.interest_rate_announced, locale=locale)
        lines.append(words["be_interest"].format(rate=rate, start=format_day(start, locale)))
    return lines


# --------------------------------------------------------------------------- rendering


@lru_cache(maxsize=32)
def _environment(extra_dir: Path | None, *, html: bool) -> jinja2.Environment:
    """One environment per template dir and output kind: Jinja2 keeps compiled templates in it
    (and recompiles a template whose file changed)."""
    paths = [str(p) for p in (extra_dir, SHIPPED) if p is not None]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _variables(context: LetterContext, language: str, *, html: bool) -> dict[str, Any]:
    locale = babel_locale(language, context.creditor.country)

    def money(value: Money | None) -> str:
        if value is None:
            raise jinja2.UndefinedError("money() of a missing amount")
        return format_money(value, locale)

    def day(value: date | None) -> str:
        if value is None:
            raise jinja2.UndefinedError("day() of a missing date")
        return format_day(value, locale)

    charged = [m for m in (context.costs, context.interest) if m is not None and not m.is_zero()]
    return {
        "c": context,
        "creditor": context.creditor,
        "t": LABELS[language],
        "money": money,
        "day": day,
        "has_extras": bool(charged),
        "statutory": STATUTORY[language],
        "book_xix": lambda: book_xix_lines(context, language),
        "layout": "_letter.html.j2" if html else "_letter.txt.j2",
        "language": language,
    }


def _render_both(name: str, language: str, context: LetterContext, extra_dir: Path | None) -> RenderedLetter:
    if language not in LANGUAGES:
        raise LetterError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    file_name = f"{name}.{language}.j2"
    outputs: dict[bool, str] = {}
    subject = ""
    for html in (False, True):
        env = _environment(extra_dir, html=html)
        template = env.get_template(file_name)
        variables = _variables(context, language, html=html)
        outputs[html] = template.render(variables)
        if not html:
            block = template.blocks.get("subject")
            if block is None:
                raise LetterError(f"{file_name}: has no subject block")
            subject = " ".join("".join(block(template.new_context(variables))).split())
    return RenderedLetter(subject=subject, text=outputs[False], html=outputs[True])


def render(name: str, language: str, context: LetterContext, extra_dir: Path | None = None) -> RenderedLetter:
    """Render template ``name`` in ``language``; a problem is a :class:`LetterError` with one clear line."""
    try:
        return _render_both(name, language, context, extra_dir)
    except jinja2.TemplateNotFound:
        raise LetterError(f"template {name!r} has no {language} version ({name}.{language}.j2)") from None
    except jinja2.TemplateSyntaxError as exc:
        raise LetterError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise LetterError(f"{name}.{language}.j2: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise LetterError(f"{name}.{language}.j2: {exc}") from None


def sample_context() -> LetterContext:
    """A context with every field filled, to check that a template renders (``rules check``)."""
    eur = "EUR"
    return LetterContext(
        creditor=CreditorFacts(
            name="Voorbeeld B.V.", coc_number="12345678", vat_number="NL001234567B01", iban="NL91ABNA0417164300",
            bic="ABNANL2A", address_lines=["Keizersgracht 1", "1015 AA Amsterdam"], email="debiteuren@voorbeeld.nl",
            phone="+31 20 123 4567", website="https://voorbeeld.nl", country="NL",
        ),
        debtor_name="Jansen & Zn.",
        debtor_code="1001",
        step="sample",
        kind="reminder",
        letter_date=date(2026, 3, 2),
        pay_by=date(2026, 3, 18),
        assumed_receipt=date(2026, 3, 4),
        payment_reference="RF18539007547034",
        items=[
            LetterItem(document_number="2026001", invoice_date=date(2026, 1, 5), due_date=date(2026, 2, 4),
                       open=Money.of("1234.56", eur), days_overdue=26),
        ],
        amount=Money.of("1234.56", eur),
        costs=Money.of("185.18", eur),
        interest=Money.of("3.04", eur),
        costs_explanation=["15% of EUR 1,234.56 = EUR 185.18"],
        interest_explanation=["2026-02-05 to 2026-03-02: 26 days at 4.00%"],
        consumer=True,
    )


def template_problems(name: str, language: str, extra_dir: Path | None = None) -> list[str]:
    """Empty when template ``name`` renders for ``language`` with sample data, else one line per problem."""
    try:
        letter = render(name, language, sample_context(), extra_dir)
    except LetterError as exc:
        return [str(exc)]
    if not letter.subject.strip():
        return [f"{name}.{language}.j2: the subject is empty"]
    return []


# --------------------------------------------------------------------------- from a planned action


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _lines(value: str | None) -> list[str]:
    return [line for line in (value or "").splitlines() if line.strip()]


_NUMBER_WORDS = re.compile(r"\b(factuur|facture|invoice|rechnung|nr|no|n°|nummer|numéro)\b\.?", re.I)


def described(description: object, document_number: str) -> str | None:
    """The package's description of what an invoice is for, or None when it says nothing more than
    the invoice's number ("Factuur 20000044" is no description of goods or services)."""
    text = " ".join(str(description or "").split())
    if not text:
        return None
    rest = _NUMBER_WORDS.sub(" ", text.replace(document_number, " ") if document_number else text)
    return text if rest.strip(" .:#-/") else None


def items_from_details(details: Mapping[str, str], currency: str) -> list[LetterItem]:
    """The ``items`` detail of a planned action (a JSON list, see the RULES interface)."""
    raw = details.get("items")
    if not raw:
        return []
    try:
        rows = json.loads(raw)
    except ValueError:
        return []
    items: list[LetterItem] = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        days = row.get("days_overdue")
        items.append(
            LetterItem(
                document_number=str(row.get("document_number") or row.get("source_id") or "?"),
                invoice_date=_date(row.get("invoice_date")),
                due_date=_date(row.get("due_date")),
                open=Money.of(Decimal(str(row.get("open") or "0")), str(row.get("currency") or currency)),
                days_overdue=int(days) if isinstance(days, int | str) and str(days).lstrip("-").isdigit() else None,
                description=described(row.get("description"), str(row.get("document_number") or "")),
            )
        )
    return items


def context_for(
    action: PlannedAction,
    *,
    creditor: CreditorFacts,
    debtor_name: str,
    debtor_code: str | None = None,
    consumer: bool = False,
) -> LetterContext:
    """The letter's facts: the planned action (amount, costs, interest, details) and the creditor."""
    details = action.details
    amount = action.amount or Money.zero("EUR")
    return LetterContext(
        creditor=creditor,
        debtor_name=debtor_name,
        debtor_code=debtor_code,
        step=action.step or action.kind.value,
        kind=action.kind.value,
        channel=action.channel,
        letter_date=action.run_date,
        pay_by=_date(details.get("pay_by")),
        assumed_receipt=_date(details.get("assumed_receipt")),
        costs_from=_date(details.get("costs_from")),
        payment_reference=details.get("payment_reference") or None,
        items=items_from_details(details, amount.currency),
        amount=amount,
        costs=action.costs if action.costs is not None and not action.costs.is_zero() else None,
        interest=action.interest if action.interest is not None and not action.interest.is_zero() else None,
        costs_explanation=_lines(details.get("costs_explanation")),
        interest_explanation=_lines(details.get("interest_explanation")),
        consumer=consumer,
        statutory=details.get("consumer_letter") or None,
        costs_announced=Money.of(details["costs_announced"], amount.currency) if details.get("costs_announced") else None,
        interest_rate_announced=Decimal(details["interest_rate_announced"]) if details.get("interest_rate_announced") else None,
        costs_label="damages" if details.get("law_country") == "BE" and details.get("debtor_kind") == "consumer" else "costs",
    )
