"""Who is a consumer: every signal the package gives, then the connection's and the rules file's say.

Real package data rarely says it (issue 10 point 10: in a sample of real Exact accounts 54 of 60
came out ``unknown``, companies named "... B.V." among them). In order:

1. the rules file's override per debtor code (``debtors.kinds``);
2. the package's own kind when it is ``business`` or ``consumer`` (Moneybird: a company name makes
   a business, only person fields a consumer; see ``adapters/moneybird/mapping.py``);
3. a VAT number, or a KvK/KBO number: a business;
4. a legal form in the name (B.V., N.V., V.O.F., C.V., BVBA, BV, NV, SRL, SA, CommV, VZW, ASBL,
   Stichting, Vereniging, ...): a business;
5. otherwise ``unknown``, treated as the connection or rules file says (default: consumer, the
   reading that can only charge less).

Pure; the result carries the reason so ``plan`` can say why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["business", "consumer", "unknown"]

#: Legal forms written as abbreviations: compared with the name's words stripped of dots.
_ABBREVIATIONS = frozenset(
    {"BV", "NV", "VOF", "CV", "BVBA", "SRL", "SA", "SPRL", "COMMV", "COMMVA", "VZW", "ASBL", "GCV", "CVBA", "SCRL",
     "EBVBA", "GMBH", "AG", "LTD", "LLC", "INC", "PLC", "UA", "BA", "SE", "SCS", "SNC"}
)
#: Legal forms written as words (case-insensitive, whole words; also at the start of a compound).
_WORDS = re.compile(r"\b(stichting|vereniging|co[oö]peratie|maatschap|vennootschap|holding|fondation|association)", re.I)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z.]*")


@dataclass(frozen=True, slots=True)
class Classified:
    kind: Kind  # business | consumer | unknown (no signal: treated as ``treat_as``)
    treat_as: Literal["business", "consumer"]
    reason: str


def legal_form(name: str) -> str | None:
    """The legal form found in ``name`` ("B.V." in "Bakkerij Jansen B.V."), or None."""
    for token in _TOKEN.findall(name or ""):
        compact = token.replace(".", "").upper()
        if compact in _ABBREVIATIONS and (len(compact) > 2 or token.isupper() or "." in token):
            return str(token)
    found = _WORDS.search(name or "")
    return str(found.group(1)) if found else None


def classify(
    *,
    code: str | None,
    name: str,
    kind: str,
    vat_number: str | None,
    coc_number: str | None,
    overrides: dict[str, Literal["business", "consumer"]] | None = None,
    unknown_as: Literal["business", "consumer"] = "consumer",
) -> Classified:
    if overrides and code is not None and code in overrides:
        chosen = overrides[code]
        return Classified(chosen, chosen, f"{chosen}: set for debtor {code} in the rules file")
    if kind == "business":
        return Classified("business", "business", "business: the package says so")
    if kind == "consumer":
        return Classified("consumer", "consumer", "consumer: the package says so")
    if (vat_number or "").strip():
        return Classified("business", "business", "business: has a VAT number")
    if (coc_number or "").strip():
        return Classified("business", "business", "business: has a KvK/KBO number")
    form = legal_form(name)
    if form is not None:
        return Classified("business", "business", f"business: legal form {form!r} in the name")
    return Classified(
        "unknown", unknown_as, f"unknown: no VAT, KvK/KBO number or legal form in the name; treated as {unknown_as}"
    )
