"""``arconnect demo`` runs headless to the end: link, sync, aging, apply, apply again, and a run two
weeks later that sends the consumers' 14-day letters (issue 10: one per consumer debtor, stating the
exact costs, and no letter carrying an internal note)."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from connector.actions import dispatch
from connector.actions.channels.files import key_digest
from connector.cli.demo import UNVERIFIED_NOTE, run_demo
from connector.model import ActionKind, ApplyOutcome, Money
from connector.store import Store
from rules.letters import RenderedLetter, babel_locale, format_money


@dataclass
class Demo:
    text: str
    folder: Path
    letters: list[RenderedLetter]  # every letter and e-mail rendered for a debtor


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp_path = tmp_path_factory.mktemp("demo")
    rendered: list[RenderedLetter] = []
    real = dispatch.letter_for

    def keep(*args: object, **kwargs: object) -> RenderedLetter:
        letter = real(*args, **kwargs)  # type: ignore[arg-type]
        rendered.append(letter)
        return letter

    with pytest.MonkeyPatch.context() as monkeypatch:
        # run_demo points these at its own dir; the context puts them back afterwards.
        for name in ("ARCONNECT_CONFIG_DIR", "ARCONNECT_DATA_DIR", "ARCONNECT_SECRET_STORE"):
            monkeypatch.setenv(name, str(tmp_path) if name != "ARCONNECT_SECRET_STORE" else "plain-file")
        monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
        monkeypatch.setattr(dispatch, "letter_for", keep)
        buffer = io.StringIO()
        run_demo(console=Console(file=buffer, width=200, force_terminal=False))
        yield Demo(buffer.getvalue(), tmp_path / "demo", rendered)


def test_the_demo_applies_once_and_the_second_apply_does_nothing(demo: Demo) -> None:
    text = demo.text
    first_run, rest = text.split("\n6. ", 1)
    second_run, later_run = rest.split("\n7. ", 1)
    sent = [int(n) for n in re.findall(r"effects: \d+ done, .*; (\d+) e-mail\(s\) sent", first_run)]
    done = [int(n) for n in re.findall(r"effects: (\d+) done", first_run)]
    assert len(sent) == len(done) >= 2, text  # the demo user ticks both divisions, NL and BE
    assert all(n > 0 for n in done) and sum(sent) > 0
    assert f"the SMTP server received {sum(sent)} e-mail(s)" in first_run
    again = re.findall(r"effects: (\d+) done, .* (\d+) failed, .*; (\d+) e-mail\(s\) sent", second_run)
    assert len(again) == len(done)
    assert all(line == ("0", "0", "0") for line in again), again
    assert "the SMTP server received 0 more e-mail(s)" in second_run
    # the demo's copy of the rules accepts unverified rates, and says so; nothing is refused or fails
    assert " ".join(UNVERIFIED_NOTE.split()) in " ".join(text.split())
    assert "not applied:" not in text
    assert all(int(n) == 0 for n in re.findall(r"(\d+) failed", later_run))
    # the demo ends with the KPI report (issue 14) and says where it is
    written = re.search(r"8\. KPI report .* written to (\S+\.html)", later_run)
    assert written, later_run
    page = Path(written.group(1)).read_text(encoding="utf-8")
    assert "chart-dso-EUR" in page and "Chart.js" in page


#: Words that belong in plan, costs and the journal, never in a letter (issue 10 point 3).
INTERNAL = re.compile(r"basis:|\(ref[ ]§|§\d|no costs:|Rome I|art\. 6:96|regime|unverified|treated as|\bstep\b|profile")


def test_each_consumer_gets_one_14_day_letter_stating_the_exact_costs_and_no_letter_has_an_internal_note(demo: Demo) -> None:
    with Store(f"sqlite:///{demo.folder / 'arconnect.db'}") as store:
        journal = [e for e in store.journal("exact-101") if "#" not in e.idempotency_key]
    done = (ApplyOutcome.DONE, ApplyOutcome.ALREADY_TRUE)
    reminded = {e.debtor_source_id for e in journal
                if e.step == "reminder" and e.action.details.get("profile") == "consumers" and e.state in done}
    letters = [e for e in journal if e.step == "fourteen-day-letter" and e.state in done]
    assert letters, demo.text
    # one 14-day letter per consumer debtor, for every consumer reminded two weeks before
    per_debtor = Counter(e.debtor_source_id for e in letters)
    assert set(per_debtor.values()) == {1}
    assert set(per_debtor) == reminded
    outbox = demo.folder / "outbox" / "exact-101"
    for entry in letters:
        details = entry.action.details
        assert entry.kind == ActionKind.FORMAL_NOTICE and entry.channel == "letter"
        costs = Money.of(details["costs_announced"], "EUR")
        amount = format_money(costs, babel_locale(entry.action.language or "nl", "NL"))
        # the letter as printed from the outbox (written under the letter effect's key)
        [text_file] = outbox.glob(f"*-{key_digest(dispatch.sub_key(entry.idempotency_key, dispatch.Effect.LETTER))}.txt")
        letter = " ".join(text_file.read_text(encoding="utf-8").split())
        if details["law_country"] == "NL":
            assert f"dan bent u ook incassokosten verschuldigd van {amount}." in letter
            assert "binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd" in letter
        else:  # a consumer living in Belgium: Book XIX's damages (Rome I art. 6)
            assert f"dan rekenen wij een schadevergoeding aan van {amount}." in letter
    # no letter or e-mail of the whole demo carries an internal note
    assert len(demo.letters) > len(letters)
    for rendered in demo.letters:
        for text in (rendered.text, rendered.html):
            found = INTERNAL.search(text)
            assert found is None, (found.group(0), text[:400])

