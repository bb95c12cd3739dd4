"""Issue 11.6: open quarantines are listed by ``status`` as needing attention."""

from __future__ import annotations

from pathlib import Path

from connector import config as cfg
from connector.cli.serve import status_rows
from connector.model import Page, Quarantined
from connector.runtime import open_store


def test_status_lists_open_quarantines_as_needing_attention(arconnect_home: Path) -> None:
    cfg.save_config(cfg.Config(connections={"exact-101": cfg.ConnectionConfig(
        name="exact-101", credential="exact-nl", package="exact", administration="101")}))
    store = open_store()
    try:
        store.ensure_connection("exact-101", "exact", "Demo")
        assert status_rows()[1] == []
        store.save_page("exact-101", "open_items", Page(quarantined=[
            Quarantined(stream="open_items", source_id="inv-7", reason="AmountDC: not a number", raw={"ID": "t-7"}),
        ]))
    finally:
        store.close()
    [problem] = status_rows()[1]
    assert (problem["subject"], problem["topic"]) == ("connection:exact-101", "quarantine")
    assert "1 record(s) in quarantine" in problem["message"]
    assert "arconnect sync --full exact-101" in problem["message"]
