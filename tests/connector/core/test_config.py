"""config.yaml is hand-edited: saving it edits only what the code set (issue 11.1)."""

from __future__ import annotations

from pathlib import Path

from connector import config as cfg

HAND_EDITED = """\
# Kantoor Van Dijk: arconnect for our clients. Ask Els before changing anything!
credentials:
  exact-nl:
    name: exact-nl
    package: exact
    host: https://start.exactonline.nl
    client_id: 0f6b2c1e-aaaa-bbbb-cccc-000000000001   # app "Debiteuren" in the app centre
    redirect_uri: http://127.0.0.1:8765/callback
    scopes: []
connections:
  # the bakery: reminders by e-mail, dunning at 07:30
  exact-bakkerij:
    name: exact-bakkerij
    credential: exact-nl
    package: exact
    administration: '101'
    administration_name: Bakkerij De Korenschoof
    country: NL
    currency: EUR
    rules_file: /srv/rules/bakkerij.yaml
    sync_every_minutes: 5     # they invoice all day
    apply_at: "07:30"
    reminders_sent_by: arconnect
    block_field: Geblokkeerd
    mail:
      host: smtp.vandijk.nl   # our relay
      port: 587
      sender: debiteuren@korenschoof.nl
      starttls: true
      username: korenschoof
"""


def test_saving_what_was_loaded_changes_no_byte(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(HAND_EDITED, encoding="utf-8")
    cfg.save_config(cfg.load_config(path), path)
    assert path.read_text(encoding="utf-8") == HAND_EDITED


def test_a_relink_rewrites_only_the_credential_fields_it_owns(tmp_path: Path) -> None:
    """What link_package does: a new CredentialConfig and a new ConnectionConfig with only the fields
    linking knows; everything else in the file stays, comments included."""
    path = tmp_path / "config.yaml"
    path.write_text(HAND_EDITED, encoding="utf-8")
    config = cfg.load_config(path)
    config.credentials["exact-nl"] = cfg.CredentialConfig(
        name="exact-nl", package="exact", host="https://start.exactonline.nl",
        client_id="0f6b2c1e-aaaa-bbbb-cccc-000000000002", redirect_uri="http://127.0.0.1:8765/callback", scopes=[],
    )
    existing = config.connections["exact-bakkerij"]
    config.connections["exact-bakkerij"] = cfg.ConnectionConfig(
        name="exact-bakkerij", credential="exact-nl", package="exact", administration="101",
        administration_name="Bakkerij De Korenschoof", country="NL", timezone="Europe/Amsterdam", currency="EUR",
        rules_file=existing.rules_file, reminders_sent_by=existing.reminders_sent_by,
    )
    cfg.save_config(config, path)
    # byte for byte the same file, apart from the credential field that changed
    assert path.read_text(encoding="utf-8") == HAND_EDITED.replace("000000000001   #", "000000000002   #")
    reloaded = cfg.load_config(path)
    bakery = reloaded.connections["exact-bakkerij"]
    assert bakery.mail is not None and bakery.mail.host == "smtp.vandijk.nl"
    assert (bakery.apply_at, bakery.block_field, bakery.sync_every_minutes) == ("07:30", "Geblokkeerd", 5)
    text = path.read_text(encoding="utf-8")
    assert "# our relay" in text and "# the bakery" in text and text.startswith("# Kantoor Van Dijk")


def test_a_removed_connection_leaves_the_file_and_a_new_one_is_added(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(HAND_EDITED, encoding="utf-8")
    config = cfg.load_config(path)
    del config.connections["exact-bakkerij"]
    config.connections["exact-slager"] = cfg.ConnectionConfig(
        name="exact-slager", credential="exact-nl", package="exact", administration="102",
    )
    cfg.save_config(config, path)
    reloaded = cfg.load_config(path)
    assert list(reloaded.connections) == ["exact-slager"]
    assert path.read_text(encoding="utf-8").startswith("# Kantoor Van Dijk")


def test_a_new_file_gets_the_header(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    cfg.save_config(cfg.Config(), path)
    assert path.read_text(encoding="utf-8").startswith("# arconnect configuration.")


def test_a_string_a_yaml_reader_would_take_for_a_boolean_or_number_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(HAND_EDITED, encoding="utf-8")
    config = cfg.load_config(path)
    bakery = config.connections["exact-bakkerij"]
    config.connections["exact-bakkerij"] = bakery.model_copy(update={"block_field": "off", "administration": "0101"})
    cfg.save_config(config, path)
    reloaded = cfg.load_config(path).connections["exact-bakkerij"]
    assert (reloaded.block_field, reloaded.administration) == ("off", "0101")
