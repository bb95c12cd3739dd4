"""A long sync outlives Exact's 10-minute access token (docs/reference/exact.md §1.4): the first 401
is answered by one refresh under the credential's lock, the sync goes on from where it was, and
the store ends equal to the package. Driven through the real link and `sync_one`, as `arconnect
sync` runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connector.auth import SecretStore, open_secret_store
from connector.store import Store
from tests.contract.exact_harness import ExactHarness

ACCESS_TOKEN_LIFETIME_S = 600  # §1.4: expires_in 600


class ExpiringMidSync(httpx.BaseTransport):
    """Passes requests to the sandbox; after the first page of payment terms, eleven minutes pass
    in the sandbox (the access token lapses there while the client still holds it)."""

    def __init__(self, harness: ExactHarness, inner: httpx.BaseTransport) -> None:
        self.harness = harness
        self.inner = inner
        self.terms_pages = 0
        self.armed = False
        self.unauthorized = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if response.status_code == 401:
            self.unauthorized += 1
        if self.armed and "sync/Cashflow/PaymentTerms" in request.url.path and response.status_code == 200:
            self.terms_pages += 1
            if self.terms_pages == 1:
                self.harness.sandbox.clock.advance(ACCESS_TOKEN_LIFETIME_S + 60)
        return response


class Harness(ExactHarness):
    def make_transport(self) -> httpx.BaseTransport:
        self.tap = ExpiringMidSync(self, super().make_transport())
        return self.tap


@pytest.fixture
def harness(tmp_path: Path, arconnect_home: Path) -> Iterator[Harness]:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}")
    store.migrate()
    secrets: SecretStore = open_secret_store()
    try:
        yield Harness(tmp_path, store, secrets)
    finally:
        store.close()


def test_an_access_token_that_lapses_mid_sync_is_refreshed_once_and_the_sync_completes(harness: Harness) -> None:
    connection = next(c for c in harness.link() if c.administration == "101")  # 1,500 terms: several pages
    token_calls_after_link = harness.sandbox.calls["oauth2/token"]
    harness.tap.armed = True
    result = harness.sync(connection)
    assert result.error is None
    assert harness.tap.terms_pages >= 2  # the sync went on after the token lapsed
    assert harness.tap.unauthorized == 1  # one 401, then the refreshed token was used
    assert harness.sandbox.calls["oauth2/token"] == token_calls_after_link + 1  # exactly one refresh
    assert harness.stored_truth(connection) == harness.truth(connection)
