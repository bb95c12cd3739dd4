"""The print outbox writes a letter once per idempotency key, whatever day it is retried on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connector.actions.channels.outbox import write_letter
from rules.letters import render, sample_context


def test_a_letter_retried_on_a_later_day_is_not_written_a_second_time(tmp_path: Path) -> None:
    letter = render("reminder", "nl", sample_context())
    first, new = write_letter(tmp_path, "key-1", "1001", date(2026, 3, 2), letter)
    assert new and first.name.startswith("2026-03-02-1001-")
    # a crash after writing, before the journal said done; the next run is three days later
    again, new_again = write_letter(tmp_path, "key-1", "1001", date(2026, 3, 5), letter)
    assert (again, new_again) == (first, False)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".html", ".pdf", ".txt"]
    # another key is another letter
    _, other = write_letter(tmp_path, "key-2", "1001", date(2026, 3, 5), letter)
    assert other and len(list(tmp_path.glob("*.pdf"))) == 2
