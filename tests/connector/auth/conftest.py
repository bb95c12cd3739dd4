"""Fixtures of the auth tests: isolated dirs, a file secret store, and a linked test provider."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connector.auth import CredentialAuth, OAuthProfile, PlainFileStore, SecretStore, TokenSet, set_client_secret
from connector.auth.linking import link
from connector.cli.demo import free_port, press_allow
from connector.config import CredentialConfig, data_dir
from connector.sandbox import RunningServer, SandboxClock, serve, transport
from tests.connector.auth.oauth_app import CLIENT_ID, CLIENT_SECRET, EXACT_PROFILE, MONEYBIRD_PROFILE, OAuthApp, Style

START = datetime(2025, 3, 12, 10, 0, 0, tzinfo=UTC)
IN_PROCESS_HOST = "http://sandbox.test"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCONNECT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARCONNECT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "plain-file")
    for name in list(os.environ):
        if name.startswith("ARCONNECT_CLIENT_SECRET_") or name == "ARCONNECT_SECRETS_PASSPHRASE":
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(start=START)


@dataclass
class World:
    """One provider, one credential linked to it, and the clients to talk to both."""

    provider: OAuthApp
    credential: CredentialConfig
    profile: OAuthProfile
    store: SecretStore
    clock: SandboxClock
    transport: httpx.BaseTransport | None
    server: RunningServer | None = None
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self, auth: httpx.Auth | None = None) -> httpx.Client:
        http = httpx.Client(base_url=self.credential.host, transport=self.transport, auth=auth)
        self._clients.append(http)
        return http

    def auth(self, store: SecretStore | None = None) -> CredentialAuth:
        """A fresh CredentialAuth, as a new process would build it."""
        return CredentialAuth(self.credential, self.profile, store or self.store, self.client(), self.clock.now)

    def api(self, auth: CredentialAuth) -> httpx.Client:
        return self.client(auth)

    def browser_answer(self, authorize_url: str) -> str:
        """The person at the consent page presses Allow; the redirect URL their browser would open."""
        with httpx.Client(transport=self.transport) as browser:
            return press_allow(browser, authorize_url)

    def link_by_paste(self) -> TokenSet:
        return link(self.credential, self.profile, self.store, self.client(), open_browser=False,
                    prompt=lambda text: self.browser_answer(_url_in(text)), clock=self.clock.now)

    def stored(self) -> TokenSet:
        from connector.auth import load_tokens

        tokens = load_tokens(self.store, self.credential.name)
        assert tokens is not None
        return tokens

    def close(self) -> None:
        for http in self._clients:
            http.close()
        if self.server is not None:
            self.server.stop()


def _url_in(prompt_text: str) -> str:
    return next(line for line in prompt_text.splitlines() if line.startswith("http"))


WorldFactory = Callable[..., World]


@pytest.fixture
def make_world(clock: SandboxClock) -> Iterator[WorldFactory]:
    worlds: list[World] = []

    def make(style: Style = "exact", *, profile: OAuthProfile | None = None, served: bool = False,
             name: str = "exact-test", store: SecretStore | None = None) -> World:
        redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
        provider = OAuthApp(style, clock, redirect_uri)
        server = serve(provider.app) if served else None
        host = server.url if server is not None else IN_PROCESS_HOST
        credential = CredentialConfig(name=name, package="exact" if style == "exact" else "moneybird", host=host,
                                      client_id=CLIENT_ID, redirect_uri=redirect_uri)
        store = store or PlainFileStore(data_dir() / "secrets.json")
        set_client_secret(store, credential.name, CLIENT_SECRET)
        chosen = profile or (EXACT_PROFILE if style == "exact" else MONEYBIRD_PROFILE)
        world = World(provider, credential, chosen, store, clock,
                      None if served else transport(provider.app), server)
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.close()


@pytest.fixture
def exact(make_world: WorldFactory) -> World:
    """An Exact-shaped provider with the credential already linked at START."""
    world = make_world("exact")
    world.link_by_paste()
    return world


@pytest.fixture
def moneybird(make_world: WorldFactory) -> World:
    world = make_world("moneybird", name="moneybird-test")
    world.link_by_paste()
    return world
