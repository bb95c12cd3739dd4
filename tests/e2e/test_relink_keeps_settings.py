"""Issue 11.1: re-linking (what every auth error asks for) keeps a hand-edited config.yaml byte for byte."""

from __future__ import annotations

from connector import config as cfg
from connector.cli.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoBrowser
from connector.runtime import link_package
from tests.e2e.conftest import World


def hand_edit(text: str, connection: str) -> str:
    """What a bookkeeper does to the file: comments, a schedule, a block field, a faster sync."""
    lines = ["# Our practice: edited by hand, keep these notes!"]
    for line in text.splitlines():
        if line.startswith("# arconnect configuration"):
            continue
        if line == f"  {connection}:":
            lines.append("  # the Dutch division; dunning at half past seven")
            lines.append(line)
            lines.append("    apply_at: '07:30'")
            lines.append("    block_field: Geblokkeerd   # the bookkeeper's own field")
            continue
        if line.strip().startswith("sync_every_minutes:"):
            line = "    sync_every_minutes: 5   # they invoice all day"
        if line.strip().startswith("sender:"):
            line += "   # the practice's relay"
        lines.append(line)
    return "\n".join(lines) + "\n"


def relink(world: World, client_id: str = DEMO_CLIENT_ID) -> None:
    credential = cfg.load_config().credentials["exact-e2e"]
    link_package(
        "exact", region="nl", client_id=client_id, redirect_uri=credential.redirect_uri, credential_name="exact-e2e",
        host=credential.host, open_browser=True, divisions=[], say=lambda _: None, opener=DemoBrowser(),
        client_secret_value=DEMO_CLIENT_SECRET,
    )


def test_relinking_keeps_a_hand_edited_config_byte_for_byte(world: World) -> None:
    path = cfg.config_path()
    edited = hand_edit(path.read_text(encoding="utf-8"), world.connection)
    path.write_text(edited, encoding="utf-8")
    before = cfg.load_config().connection(world.connection)
    assert (before.apply_at, before.block_field, before.sync_every_minutes) == ("07:30", "Geblokkeerd", 5)
    assert before.mail is not None

    relink(world)

    assert path.read_text(encoding="utf-8") == edited
    after = cfg.load_config().connection(world.connection)
    assert after == before
