"""Payment references: RF (ISO 11649) and the Belgian structured communication.

RF check digits by hand: append "RF00" to the reference, letters to numbers (A = 10 … Z = 35,
so R = 27, F = 15, "RF00" -> "271500"), take the number mod 97, check = 98 - remainder.
BE: the 10-digit number mod 97 (97 when 0) gives the last two digits.
"""

from __future__ import annotations

import pytest

from connector.errors import DataError
from rules.references import be_structured_reference, is_valid_reference, payment_reference, rf_reference


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        # the ISO 11649 example: 539007547034 271500 mod 97 = 80 -> 98 - 80 = 18
        ("539007547034", "RF18539007547034"),
        ("5390 0754 7034", "RF18539007547034"),  # spaces are ignored
        # 2348231 271500 mod 97 = 27 -> 71
        ("2348231", "RF712348231"),
        # INV42: I = 18, N = 23, V = 31 -> 18 23 31 42 271500 mod 97 = 43 -> 55
        ("inv42", "RF55INV42"),
    ],
)
def test_rf_reference(base: str, expected: str) -> None:
    assert rf_reference(base) == expected
    assert is_valid_reference(expected)


@pytest.mark.parametrize("base", ["", "ABCDEFGHIJKLMNOPQRSTUV", "12-34", "é1"])
def test_rf_reference_refuses_bad_bases(base: str) -> None:
    with pytest.raises(DataError, match="RF reference needs 1 to 21"):
        rf_reference(base)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        # 0909337554 mod 97: 97 x 9,374,613 = 909,337,461; 909,337,554 - 909,337,461 = 93
        (909337554, "+++090/9337/55493+++"),
        # 1234567890 mod 97 = 2 (97 x 12,727,504 = 1,234,567,888; remainder 2)
        (1234567890, "+++123/4567/89002+++"),
        # 97 mod 97 = 0 -> check digits 97
        (97, "+++000/0000/09797+++"),
        # 0 mod 97 = 0 -> 97
        (0, "+++000/0000/00097+++"),
        # 20250042 mod 97 = 31 (97 x 208,763 = 20,250,011; 20,250,042 - 20,250,011 = 31)
        (20250042, "+++002/0250/04231+++"),
    ],
)
def test_be_structured_reference(number: int, expected: str) -> None:
    assert be_structured_reference(number) == expected
    assert is_valid_reference(expected)


@pytest.mark.parametrize("number", [-1, 10_000_000_000])
def test_be_structured_reference_refuses_out_of_range(number: int) -> None:
    with pytest.raises(DataError, match="from 0 to 9999999999"):
        be_structured_reference(number)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("RF18 5390 0754 7034", True),
        ("rf18539007547034", True),
        ("RF19 5390 0754 7034", False),  # wrong check digits
        ("RF18 5390 0754 7043", False),  # two digits swapped
        ("+++090/9337/55493+++", True),
        ("***090/9337/55493***", True),
        ("090933755493", True),
        ("+++090/9337/55494+++", False),  # wrong check digits
        ("+++090/9337/5549+++", False),  # one digit short
        ("hello", False),
        ("", False),
    ],
)
def test_is_valid_reference(text: str, valid: bool) -> None:
    assert is_valid_reference(text) is valid


def test_payment_reference_per_country() -> None:
    # NL: RF over the document number's letters and digits 20250042: 20250042 271500 mod 97 = 58 -> 40
    assert payment_reference("NL", "1001", "2025-0042") == "RF4020250042"
    # NL letter over several invoices: "D" + debtor code; D = 13: 13 1001 271500 mod 97 = 16 -> 82
    assert payment_reference("NL", "1001", "") == "RF82D1001"
    # BE: the document number's digits 20250042 (see above): check 31
    assert payment_reference("be", "1001", "2025-0042") == "+++002/0250/04231+++"
    # BE letter: 9 + debtor digits padded to 9 = 9000001001;
    # 97 x 92,783,515 = 9,278,351,500 - 278,350,545 = 9,000,000,955; remainder 46
    assert payment_reference("BE", "1001", "") == "+++900/0001/00146+++"


def test_payment_reference_refuses_what_cannot_be_encoded() -> None:
    with pytest.raises(DataError, match="no digits"):
        payment_reference("BE", "1001", "INV-A")
    with pytest.raises(DataError, match="unknown country"):
        payment_reference("DE", "1001", "1")
    with pytest.raises(DataError, match="too long"):
        payment_reference("NL", "1001", "X" * 22)
