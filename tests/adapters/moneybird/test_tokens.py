"""Token lifetime (docs/reference/moneybird.md §2): Moneybird sends no ``expires_in`` today, the docs say
one may come. Linked over the real redirect, the adapter keeps syncing in both cases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.moneybird.sandbox import AdministrationSpec, MoneybirdSandbox
from connector.auth import load_tokens, open_secret_store
from connector.sandbox import transport
from connector.store import Store
from tests.contract.moneybird_harness import MoneybirdHarness


class ExpiringTokens(MoneybirdHarness):
    """The sandbox answering with ``expires_in`` (its ``access_lifetime`` switch)."""

    lifetime: int | None = 60

    def make_transport(self) -> httpx.BaseTransport:
        self.sandbox = MoneybirdSandbox(
            seed=2, access_lifetime=self.lifetime,
            administrations=(AdministrationSpec(id="123456789012345678", name="Tokens B.V.", contacts=20, invoices=40),),
        )
        self.sandbox.register_client(self.client_id, self.client_secret, self.redirect_uri)
        return transport(self.sandbox, "http://sandbox.test")


class SilentTokens(ExpiringTokens):
    lifetime = None


@pytest.fixture
def env(tmp_path: Path, arconnect_home: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'tokens.db'}")
    store.migrate()
    try:
        yield store
    finally:
        store.close()


def test_a_token_with_expires_in_that_ran_out_is_refreshed_and_the_sync_goes_on(env: Store, tmp_path: Path) -> None:
    harness = ExpiringTokens(tmp_path, env, open_secret_store())
    (connection,) = harness.link()
    assert harness.sync(connection).error is None
    before = load_tokens(harness.secrets, "moneybird-contract")
    assert before is not None and before.access_expires_at is not None
    harness.sandbox.clock.advance(3600)  # Moneybird's side of the clock: the token is dead there
    assert harness.sync(connection).error is None
    after = load_tokens(harness.secrets, "moneybird-contract")
    assert after is not None and not after.same_access(before)
    assert harness.sandbox.count("oauth/token") == 2  # the code exchange and one refresh


def test_a_token_without_expires_in_is_used_until_moneybird_refuses_it(env: Store, tmp_path: Path) -> None:
    harness = SilentTokens(tmp_path, env, open_secret_store())
    (connection,) = harness.link()
    assert harness.sync(connection).error is None
    before = load_tokens(harness.secrets, "moneybird-contract")
    assert before is not None and before.access_expires_at is None
    harness.sandbox.clock.advance(30 * 24 * 3600)
    assert harness.sync(connection).error is None
    assert harness.sandbox.count("oauth/token") == 1  # never refreshed on a guess
    after = load_tokens(harness.secrets, "moneybird-contract")
    assert after is not None and after.same_access(before)
