"""A throwaway PostgreSQL database for tests (any suite may use it).

The server is the one on 127.0.0.1:5432 (trust auth, user ``postgres``, maintenance database
``test``); ``ARCONNECT_TEST_POSTGRES`` overrides the URL of that maintenance database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    return os.environ.get("ARCONNECT_TEST_POSTGRES", ADMIN_URL)


def _conninfo(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@contextmanager
def temporary_postgres_url(prefix: str = "arconnect_test") -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, and drop it afterwards.

    Fails (``psycopg.OperationalError``) when the server cannot be reached: a test that needs
    PostgreSQL must not pass silently without it.
    """
    base = make_url(admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(admin_url()), autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield base.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_conninfo(admin_url()), autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
