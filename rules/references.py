"""Payment references a debtor's bank can carry back to us: RF (ISO 11649) and the BE structured communication.

* **RF creditor reference** (ISO 11649, used in NL, docs/domain.md "Words"): ``RF`` + 2 check digits +
  a reference of 1 to 21 letters and digits. Check digits as for an IBAN (ISO 7064 MOD 97-10):
  append ``RF00`` to the reference, replace each letter by two digits (A = 10 … Z = 35), take the
  number modulo 97; the check digits are 98 minus that remainder. A reference is valid when the
  same conversion of reference + ``RF`` + check digits leaves remainder 1.
* **BE structured communication** (*gestructureerde mededeling*, docs/domain.md): 10 digits followed by
  2 check digits = the 10-digit number modulo 97, or 97 when the remainder is 0, written
  ``+++123/4567/89012+++`` (banks also accept ``***`` for ``+++``).

Pure functions; bad input raises :class:`~connector.errors.DataError` with one clear line.
"""

from __future__ import annotations

import re

from connector.errors import DataError

RF_MAX_REFERENCE = 21
BE_MAX_NUMBER = 9_999_999_999

_RF = re.compile(r"^RF(\d{2})([0-9A-Z]{1,21})$")
_BE = re.compile(r"^(?:\+\+\+|\*\*\*)?(\d{3})/?(\d{4})/?(\d{5})(?:\+\+\+|\*\*\*)?$")


def _digits(text: str) -> str:
    """Letters to two digits each (A = 10 … Z = 35), digits kept (ISO 7064 MOD 97-10 as in ISO 11649)."""
    return "".join(str(int(ch, 36)) for ch in text)


def rf_reference(base: str) -> str:
    """The ISO 11649 creditor reference ``RFxx<base>`` for ``base`` (spaces ignored, letters upper-cased)."""
    clean = re.sub(r"\s+", "", base).upper()
    if not clean or len(clean) > RF_MAX_REFERENCE or not clean.isascii() or not clean.isalnum():
        raise DataError(f"an RF reference needs 1 to {RF_MAX_REFERENCE} letters or digits, not {base!r}")
    check = 98 - int(_digits(clean + "RF00")) % 97
    return f"RF{check:02d}{clean}"


def be_check_digits(number: int) -> int:
    """The two check digits of a 10-digit BE structured communication: number mod 97, 97 for 0."""
    remainder = number % 97
    return remainder or 97


def be_structured_reference(number: int) -> str:
    """``+++ddd/dddd/ddddd+++`` for a number of at most 10 digits (left-padded with zeros)."""
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= BE_MAX_NUMBER:
        raise DataError(f"a structured communication holds a number from 0 to {BE_MAX_NUMBER}, not {number!r}")
    text = f"{number:010d}{be_check_digits(number):02d}"
    return f"+++{text[:3]}/{text[3:7]}/{text[7:]}+++"


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())


def payment_reference(country: str, debtor_code: str, document_number: str) -> str:
    """The payment reference for an invoice (or, with an empty ``document_number``, for a debtor's letter).

    NL: an RF reference. Its base is the invoice's document number (letters and digits only), which
    is unique in an administration; for a letter over several invoices (``document_number`` empty)
    it is ``D`` + the debtor code, so it cannot equal an invoice's.
    BE: a structured communication. The number is the last 10 digits of the document number; for a
    letter over several invoices ``9`` + the last 9 digits of the debtor code (it could only collide
    with a 10-digit invoice number that starts with 9).
    """
    code = country.strip().upper()
    if code == "NL":
        doc = _alnum(document_number)
        if doc:
            if len(doc) > RF_MAX_REFERENCE:
                raise DataError(f"document number {document_number!r} is too long for an RF reference (21 characters)")
            return rf_reference(doc)
        debtor = _alnum(debtor_code)
        if not debtor:
            raise DataError("a payment reference needs a document number or a debtor code")
        return rf_reference("D" + debtor[-(RF_MAX_REFERENCE - 1) :])
    if code == "BE":
        doc_digits = "".join(ch for ch in document_number if ch.isascii() and ch.isdigit())
        if doc_digits:
            return be_structured_reference(int(doc_digits[-10:]))
        if document_number.strip():
            raise DataError(f"document number {document_number!r} has no digits for a structured communication")
        debtor_digits = "".join(ch for ch in debtor_code if ch.isascii() and ch.isdigit())
        if not debtor_digits:
            raise DataError(f"debtor code {debtor_code!r} has no digits for a structured communication")
        return be_structured_reference(int("9" + debtor_digits[-9:].rjust(9, "0")))
    raise DataError(f"unknown country {country!r}: use NL or BE")


def is_valid_reference(text: str) -> bool:
    """True for a well-formed RF reference or BE structured communication with correct check digits.

    Spaces are ignored (RF references are printed in groups of four); the BE form is accepted with
    ``+++`` or ``***``, with or without slashes.
    """
    clean = re.sub(r"\s+", "", text).upper()
    rf = _RF.match(clean)
    if rf:
        check, reference = rf.groups()
        return int(_digits(reference + "RF" + check)) % 97 == 1
    be = _BE.match(clean)
    if be:
        digits = "".join(be.groups())
        return be_check_digits(int(digits[:10])) == int(digits[10:])
    return False
