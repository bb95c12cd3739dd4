"""Letters to print and post: ``<dir>/<date>-<debtor>-<key digest>.pdf``, with ``.txt`` and ``.html``.

Write-once by idempotency key: a file already there means the letter was written before.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connector.actions.channels.files import key_digest, safe_name, write_atomic
from connector.pdf import letter_pdf
from rules.letters import RenderedLetter


def letter_paths(directory: Path, idempotency_key: str, debtor: str, on: date) -> tuple[Path, Path, Path]:
    stem = f"{on.isoformat()}-{safe_name(debtor)}-{key_digest(idempotency_key)}"
    return directory / f"{stem}.txt", directory / f"{stem}.html", directory / f"{stem}.pdf"


def written_before(directory: Path, idempotency_key: str) -> Path | None:
    """The text file of this key's letter when one was written on any day: a letter retried on a
    later day is re-dated (issue 10 point 7(c)), but the debtor still gets it only once."""
    if not directory.is_dir():
        return None
    for found in sorted(directory.glob(f"*-{key_digest(idempotency_key)}.txt")):
        if found.with_suffix(".pdf").exists() and found.with_suffix(".html").exists():
            return found
    return None


def write_letter(directory: Path, idempotency_key: str, debtor: str, on: date, letter: RenderedLetter) -> tuple[Path, bool]:
    """Write the letter; returns its text path and whether it was new."""
    earlier = written_before(directory, idempotency_key)
    if earlier is not None:
        return earlier, False
    text_path, html_path, pdf_path = letter_paths(directory, idempotency_key, debtor, on)
    write_atomic(pdf_path, letter_pdf(letter.subject, letter.text))
    write_atomic(html_path, letter.html)
    write_atomic(text_path, letter.text)  # the text file last: its presence means all three are there
    return text_path, True
