"""Fixtures of the contract suite: one harness per package, each with its own dirs and store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.auth import open_secret_store
from connector.store import Store
from tests.contract.adsolut_harness import AdsolutHarness, AdsolutWithoutOpenItemsHarness
from tests.contract.exact_harness import ExactHarness, RealisticExactHarness
from tests.contract.harness import Harness, HarnessFactory
from tests.contract.moneybird_harness import MoneybirdHarness, RealisticMoneybirdHarness
from tests.contract.twinfield_harness import TwinfieldHarness

#: Packages plug in here: one line each.
HARNESSES: dict[str, HarnessFactory] = {
    "adsolut": AdsolutHarness,
    "adsolut-without-open-items": AdsolutWithoutOpenItemsHarness,
    "exact": ExactHarness,
    "exact-realistic": RealisticExactHarness,
    "moneybird": MoneybirdHarness,
    "moneybird-realistic": RealisticMoneybirdHarness,
    "twinfield": TwinfieldHarness,
}


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest, tmp_path: Path, arconnect_home: Path) -> Iterator[Harness]:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}")
    store.migrate()
    try:
        yield HARNESSES[request.param](tmp_path, store, open_secret_store())
    finally:
        store.close()
