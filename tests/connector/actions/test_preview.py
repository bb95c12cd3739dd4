"""``arconnect plan NAME --letters DIR``: the letters and e-mails apply would send, written to a
private folder, with nothing sent and nothing journaled."""

from __future__ import annotations

import email
import stat
from datetime import date
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector import config as cfg
from connector.cli.main import app
from connector.config import MailConfig
from connector.model import DebtorKind, Page
from connector.store import Store
from tests.rules.builders import CID, debtor, item
from tests.support.pdftext import pdf_text

RULES = """version: 1
creditor: {name: Test BV, coc_number: "12345678", iban: NL91ABNA0417164300, email: debiteuren@test.nl}
letters: {languages: [nl, en]}
segments:
  - {name: consumers, when: {kind: [consumer, unknown]}, profile: c}
  - {name: businesses, default: true, profile: b}
profiles:
  c:
    steps:
      - {name: wik, after_days: 1, action: formal_notice, channel: letter, template: formal_notice, consumer_letter: true, costs: statutory}
  b:
    steps:
      - {name: reminder, after_days: 1, action: reminder, channel: email, template: reminder, term_days: 7}
"""
RUN = date(2026, 1, 6)  # a Tuesday


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCONNECT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES, encoding="utf-8")
    connection = cfg.ConnectionConfig(
        name=CID, credential="exact-nl", package="exact", administration="1", country="NL", rules_file=str(rules_file),
        reminders_sent_by="arconnect", mail=MailConfig(host="127.0.0.1", port=1, sender="debiteuren@test.nl"),
    )
    cfg.save_config(cfg.Config(connections={CID: connection}))
    with Store(cfg.database_url()) as store:
        store.migrate()
        store.ensure_connection(CID, "exact", "Test")
        store.save_page(CID, "debtors", Page(records=[
            debtor("D1", DebtorKind.CONSUMER, name="Marie de Vries", code="1001"),
            debtor("D2", DebtorKind.BUSINESS, name="Bakkerij Jansen B.V.", code="1002", emails=("boekhouding@jansen.nl",)),
        ]))
        store.save_page(CID, "open_items", Page(records=[
            item("I1", "250.00", date(2026, 1, 2), debtor_id="D1"),
            item("I2", "1200.00", date(2026, 1, 2), debtor_id="D2"),
        ]))
    return tmp_path


def test_plan_writes_each_letter_as_the_pdf_and_each_e_mail_as_the_eml_apply_would_send(home: Path) -> None:
    folder = home / "preview"
    shown = CliRunner().invoke(app, ["plan", CID, "--date", RUN.isoformat(), "--letters", str(folder)], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert f"{CID}: wrote 3 file(s) to {folder}" in shown.stdout and "nothing was sent or journaled" in shown.stdout

    # a private folder, private files
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".pdf", ".eml", ".pdf"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)

    wik = next(f for f in files if "-1001-wik-" in f.name)
    text = pdf_text(wik.read_bytes())
    assert "Aanmaning van Test BV" in text
    # the 14-day letter states the exact costs (15 % of 250 = 37.50, at least EUR 40)
    assert "incassokosten verschuldigd van € 40,00" in " ".join(text.split())

    eml = next(f for f in files if f.suffix == ".eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"] == "boekhouding@jansen.nl"
    assert message["Subject"] == "Betalingsherinnering van Test BV"
    body = message.get_body(("plain",))
    assert body is not None and "Openstaand bedrag: € 1.200,00" in body.get_content()
    assert (folder / eml.name.replace(".eml", ".pdf")).exists()

    # nothing was sent or journaled: apply plans the same letters afterwards
    with Store(cfg.database_url()) as store:
        assert store.journal(CID) == []


def test_a_folder_others_can_read_is_refused_in_one_line(home: Path) -> None:
    folder = home / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    shown = CliRunner().invoke(app, ["plan", CID, "--date", RUN.isoformat(), "--letters", str(folder)])
    assert shown.exit_code != 0
    assert "can be read by others (mode 755)" in str(shown.exception)
    assert list(folder.iterdir()) == []
