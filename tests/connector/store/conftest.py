"""Fixtures of the store suite: every test runs on SQLite and on PostgreSQL.

The PostgreSQL parameter fails when the server is down, unless ``ARCONNECT_SKIP_POSTGRES=1``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool

from connector.store import Store
from tests.support.pg import temporary_postgres_url

SKIP_POSTGRES = os.environ.get("ARCONNECT_SKIP_POSTGRES") == "1"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(SKIP_POSTGRES, reason="ARCONNECT_SKIP_POSTGRES=1"),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of each kind, thrown away after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}"
    else:
        with temporary_postgres_url() as url:
            yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store, closed after the test."""
    with Store(db_url) as s:
        s.migrate()
        yield s


def checked_out(store: Store) -> int:
    """Connections of the store's pool in use right now."""
    pool = store.engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()
