"""``arconnect demo`` runs headless to the end: link, sync, aging, apply, and apply again."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from connector.cli.demo import run_demo


def test_the_demo_applies_once_and_the_second_apply_does_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # run_demo points these at its own dir; monkeypatch puts them back afterwards.
    for name in ("ARCONNECT_CONFIG_DIR", "ARCONNECT_DATA_DIR", "ARCONNECT_SECRET_STORE"):
        monkeypatch.setenv(name, str(tmp_path) if name != "ARCONNECT_SECRET_STORE" else "plain-file")
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    buffer = io.StringIO()
    run_demo(console=Console(file=buffer, width=200, force_terminal=False))
    text = buffer.getvalue()
    first_run, second_run = text.split("\n6. ", 1)
    sent = [int(n) for n in re.findall(r"effects: \d+ done, .*; (\d+) e-mail\(s\) sent", first_run)]
    done = [int(n) for n in re.findall(r"effects: (\d+) done", first_run)]
    assert len(sent) == len(done) >= 2, text  # the demo user ticks both divisions, NL and BE
    assert all(n > 0 for n in done) and sum(sent) > 0
    assert f"the SMTP server received {sum(sent)} e-mail(s)" in first_run
    again = re.findall(r"effects: (\d+) done, .* (\d+) failed, .*; (\d+) e-mail\(s\) sent", second_run)
    assert len(again) == len(done)
    assert all(line == ("0", "0", "0") for line in again), again
    assert "the SMTP server received 0 more e-mail(s)" in second_run
    written = re.search(r"7\. KPI report .* written to (\S+\.html)", second_run)
    assert written, second_run
    page = Path(written.group(1)).read_text(encoding="utf-8")
    assert "chart-dso-EUR" in page and "Chart.js" in page
