"""``report aging`` as other tools read it (issue 11 §11, §14): one JSON document and one CSV header
over every connection, amounts with exactly the currency's decimals, formula cells neutralised."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector import config as cfg
from connector.cli.main import app, main
from connector.model import Debtor, ItemKind, Money, OpenItem, Page
from connector.runtime import open_store

ON = "2026-11-24"


def _connection(name: str) -> cfg.ConnectionConfig:
    return cfg.ConnectionConfig(name=name, credential="c", package="exact", administration=name[-3:])


def _fill(name: str, debtor_name: str, amounts: list[tuple[str, str]]) -> None:
    store = open_store()
    try:
        store.ensure_connection(name, "exact", name)
        store.save_page(name, "debtors", Page[Debtor](records=[Debtor(connection_id=name, source_id="d1", name=debtor_name)], bookmark="1"))
        items = [
            OpenItem(connection_id=name, source_id=f"i{n}", debtor_source_id="d1", kind=ItemKind.INVOICE,
                     invoice_date=date(2026, 9, 1), due_date=date(2026, 10, 1), original=Money.of(amount, currency),
                     open=Money.of(amount, currency), original_base=Money.of(amount, "EUR"), open_base=Money.of(amount, "EUR"))
            for n, (amount, currency) in enumerate(amounts)
        ]
        store.save_page(name, "open_items", Page[OpenItem](records=items, bookmark="1"))
    finally:
        store.close()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _two_connections() -> None:
    cfg.save_config(cfg.Config(
        credentials={"c": cfg.CredentialConfig(name="c", package="exact", host="https://start.exactonline.nl", client_id="x")},
        connections={"exact-101": _connection("exact-101"), "exact-202": _connection("exact-202")},
    ))
    _fill("exact-101", "=HYPERLINK(\"https://evil.example\",\"klik\")", [("100", "EUR"), ("0.5", "EUR")])
    _fill("exact-202", "Yamada K.K.", [("1500", "JPY"), ("12.3", "EUR")])


def test_json_over_several_connections_is_one_document_with_exact_amounts(arconnect_home: Path) -> None:
    _two_connections()
    code, out, _ = run("report", "aging", "--format", "json", "--on", ON)
    assert code == 0
    document = json.loads(out)  # one document, not several glued together
    assert document["on"] == ON
    assert [c["connection"] for c in document["connections"]] == ["exact-101", "exact-202"]
    first = document["connections"][0]["rows"][0]
    assert (first["31-60"], first["current"], first["total"]) == ("100.50", "0.00", "100.50")
    jpy = next(r for r in document["connections"][1]["rows"] if r["currency"] == "JPY")
    assert jpy["total"] == "1500"


def test_csv_over_several_connections_has_one_header_and_safe_cells(arconnect_home: Path) -> None:
    _two_connections()
    code, out, _ = run("report", "aging", "--format", "csv", "--on", ON)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert sum(1 for r in rows if r[0] == "connection") == 1
    assert rows[1][:3] == ["exact-101", "d1", "'=HYPERLINK(\"https://evil.example\",\"klik\")"]
    assert rows[1][5:] == ["0.00", "0.00", "100.50", "0.00", "0.00", "100.50"]
    eur_202 = next(r for r in rows if r[0] == "exact-202" and r[1] == "d1" and r[3] == "EUR")
    assert eur_202[-1] == "12.30"


def test_no_connections_says_so_and_fails(arconnect_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["report", "aging", "--format", "json"])
    assert stopped.value.code != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: no connections in ") and "arconnect link" in captured.err
