"""An accountancy firm links one Exact login that reaches 2,000 client divisions (issue 15 §2).

``system/Divisions`` pages at 60 rows (docs/reference/exact.md §2.3), so linking N divisions costs the
token exchange, ``current/Me`` and ceil(N / 60) pages: 36 calls for 2,000, whatever is chosen. The
link runs the real OAuth redirect against a sandbox on 127.0.0.1; calls are counted by the sandbox.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.exact.sandbox import ExactSandbox
from adapters.exact.sandbox_data import DivisionSpec
from connector import config as cfg
from connector.cli.demo import free_port
from connector.errors import ConfigError
from connector.model import Administration
from connector.runtime import link_package
from connector.sandbox import RunningServer, serve

CLIENT_ID, CLIENT_SECRET = "firm-client", "firm-secret"
DIVISIONS = 2000
FIRST_CODE = 10_000


def firm_division(index: int) -> DivisionSpec:
    kind = "Holding" if index % 100 == 0 else "B.V."
    return DivisionSpec(code=FIRST_CODE + index, description=f"Klant {index:04d} {kind}", accounts=2, terms=2,
                        country="BE" if index % 10 == 0 else "NL")


@pytest.fixture
def firm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ExactSandbox, RunningServer, str]]:
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARCONNECT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "plain-file")
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    app = ExactSandbox(divisions=tuple(firm_division(i) for i in range(DIVISIONS)))  # Exact's own limits
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    app.register_client(CLIENT_ID, CLIENT_SECRET, redirect)
    server = serve(app)
    try:
        yield app, server, redirect
    finally:
        server.stop()


def link(firm: tuple[ExactSandbox, RunningServer, str], divisions: list[str],
         progress: list[int] | None = None,
         ask: Callable[[list[Administration]], list[str]] | None = None) -> list[cfg.ConnectionConfig]:
    app, server, redirect = firm

    def tick_every_division(url: str) -> None:
        state = parse_qs(urlsplit(url).query)["state"][0]
        landing = app.approve(CLIENT_ID, redirect, state, list(app.divisions))
        threading.Thread(target=lambda: httpx.get(landing, timeout=30), daemon=True).start()

    return link_package(
        "exact", region="nl", client_id=CLIENT_ID, redirect_uri=redirect, credential_name="firm",
        host=server.url, open_browser=True, divisions=divisions, say=lambda _line: None,
        opener=tick_every_division, client_secret_value=CLIENT_SECRET,
        progress=None if progress is None else progress.append, ask=ask,
    )


def api_calls(app: ExactSandbox) -> dict[str, int]:
    """Calls a client made (the consent page is the person's browser, not an API call)."""
    return {name: n for name, n in app.calls.items() if n and name != "oauth2/auth"}


def test_linking_2000_divisions_costs_the_token_call_me_and_one_call_per_60_divisions(firm) -> None:  # type: ignore[no-untyped-def]
    app = firm[0]
    seen: list[int] = []

    created = link(firm, [], seen)

    assert len(created) == DIVISIONS
    assert api_calls(app) == {"oauth2/token": 1, "current/Me": 1, "system/Divisions": math.ceil(DIVISIONS / 60)}
    assert sum(api_calls(app).values()) == math.ceil(DIVISIONS / 60) + 2
    assert app.status_counts[429] == 0
    # every division arrived exactly once, and the configuration holds them all
    assert sorted(int(c.administration) for c in created) == list(range(FIRST_CODE, FIRST_CODE + DIVISIONS))
    config = cfg.load_config()
    assert len(config.connections) == DIVISIONS
    assert config.connections["exact-10010"].country == "BE"
    assert config.connections["exact-10010"].timezone == "Europe/Brussels"
    # progress was told as each page arrived
    assert seen == list(range(1, DIVISIONS + 1))


def test_a_pattern_chooses_among_the_divisions_at_the_same_cost(firm) -> None:  # type: ignore[no-untyped-def]
    app = firm[0]
    created = link(firm, ["*holding*", "10001", "1100?"])
    holdings = {str(FIRST_CODE + i) for i in range(0, DIVISIONS, 100)}
    assert [c.administration for c in created] == sorted(holdings | {"10001"} | {str(11000 + i) for i in range(10)})
    assert sum(api_calls(app).values()) == math.ceil(DIVISIONS / 60) + 2
    assert len(cfg.load_config().connections) == len(created)


def test_a_division_not_granted_and_a_pattern_that_matches_nothing_are_named_and_nothing_is_written(firm) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as caught:
        link(firm, ["99999", "*nowhere*", "10002"])
    message = str(caught.value)
    assert "not granted by this link: 99999" in message
    assert "'*nowhere*'" in message
    assert "2000 administration(s) granted" in message
    assert cfg.load_config().connections == {}


def test_without_a_choice_the_person_is_asked_once_with_every_division_read(firm) -> None:  # type: ignore[no-untyped-def]
    asked: list[int] = []

    def person(administrations: list[Administration]) -> list[str]:
        asked.append(len(administrations))
        return ["*holding*"]

    created = link(firm, [], ask=person)
    assert asked == [DIVISIONS]
    assert len(created) == DIVISIONS // 100
    assert all(c.administration_name and c.administration_name.endswith("Holding") for c in created)
