"""End to end: the Exact sandbox on 127.0.0.1, linked over real OAuth, and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.exact.sandbox import ExactSandbox, serve_exact
from connector import config as cfg
from connector.actions.channels.local_smtp import LocalSmtpServer
from connector.cli.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoBrowser, free_port
from connector.config import MailConfig
from connector.runtime import link_package
from tests.support.paths import REPO

NL_RULES = REPO / "rules" / "examples" / "nl-practice.yaml"


@dataclass
class World:
    sandbox: ExactSandbox
    smtp: LocalSmtpServer
    connection: str
    division: int


@pytest.fixture
def world(arconnect_home: Path) -> Iterator[World]:
    with exact_world() as made:
        yield made


@contextmanager
def exact_world() -> Iterator[World]:
    """The Exact sandbox linked over real OAuth in the arconnect home the environment names."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    server = serve_exact(0, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, redirect_uri=redirect_uri,
                         minutely_limit=10_000, daily_limit=100_000)
    smtp = LocalSmtpServer(free_port()).start()
    try:
        connections = link_package(
            "exact", region="nl", client_id=DEMO_CLIENT_ID, redirect_uri=redirect_uri, credential_name="exact-e2e",
            host=server.url, open_browser=True, divisions=[], say=lambda _: None, opener=DemoBrowser(),
            client_secret_value=DEMO_CLIENT_SECRET,
        )
        # The demo user ticks both divisions; the first is the Dutch one (101), which gets the NL
        # example rules: their profiles reach every kind of step (calls, letters, hand-overs,
        # blocks, credit lines).
        connection = connections[0]
        assert connection.country == "NL"
        config = cfg.load_config()
        # The runs lie after the dated rate tables' last verified day, and apply refuses an
        # unverified rate on a letter unless the rules file accepts it (issue 10 point 12); these
        # tests are about the ladder, so their copy of the example accepts it explicitly.
        rules_file = cfg.config_dir() / "nl-practice.yaml"
        rules_file.write_text(
            NL_RULES.read_text(encoding="utf-8").replace(
                "  interest: true              #", "  accept_unverified_rates: true\n  interest: true              #", 1
            ),
            encoding="utf-8",
        )
        config.connections[connection.name] = connection.model_copy(update={
            "rules_file": str(rules_file),
            "reminders_sent_by": "arconnect",
            "mail": MailConfig(host="127.0.0.1", port=smtp.port, sender="debiteuren@vandijk-installatie.nl"),
        })
        cfg.save_config(config)
        sandbox = server.app
        assert isinstance(sandbox, ExactSandbox)
        yield World(sandbox=sandbox, smtp=smtp, connection=connection.name, division=int(connection.administration))
    finally:
        smtp.stop()
        server.stop()
