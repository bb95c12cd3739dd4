"""``arconnect status`` at 80 columns (issue 11 §15): every line fits, the long parts (a failed
debtor with its reason) go under "Needs attention", package data is shown as typed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from connector import config as cfg
from connector.cli.main import app
from connector.runtime import open_store


def _configured(*names: str) -> None:
    cfg.save_config(cfg.Config(
        credentials={"c": cfg.CredentialConfig(name="c", package="exact", host="https://start.exactonline.nl", client_id="x")},
        connections={n: cfg.ConnectionConfig(name=n, credential="c", package="exact", administration=n[-3:]) for n in names},
    ))


def test_status_fits_in_80_columns_and_names_what_failed_below(arconnect_home: Path) -> None:
    _configured("exact-101", "moneybird-administration-2024", "exact-303")
    store = open_store()
    try:
        counts = {f"{s}.{k}": 1234 for s in ("debtors", "open_items", "payments") for k in ("stored", "quarantined", "pages", "deleted")}
        sync = store.run_started("exact-101", "sync")
        store.run_finished(sync, "ok", counts, api_calls=87, rate_limited=2)
        apply = store.run_started("exact-101", "apply")
        store.run_finished(apply, "partial", {"planned": 40, "done": 97, "failed": 1, "emails": 12}, api_calls=120,
                           error="1 effect(s) failed: 1039 Klant [/bold] B.V.: reminder email: the e-mail address "
                                 "'klant@example.nl\\r\\nBcc: x@example.org' is not valid (line break or control character): fix it in the package")
        other = store.run_started("moneybird-administration-2024", "sync")
        store.run_finished(other, "ok", counts)
    finally:
        store.close()
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n" + result.stdout
    assert not any("…" in line for line in lines), result.stdout  # nothing cut off
    table, _, attention = result.stdout.partition("Needs attention")
    assert "3702 stored, 3702 quarantined, 87 API calls (2x 429)" in " ".join(table.split())
    assert "40 planned, 97 done, 1 failed, 12 emails" in " ".join(table.split())
    assert "exact-303" in table and "never run" in table
    joined = " ".join(attention.split())
    assert "exact-101 apply (partial): 1 effect(s) failed: 1039 Klant [/bold] B.V.: reminder email:" in joined
    assert "fix it in the package" in joined
