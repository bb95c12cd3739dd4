"""Alembic environment of the store.

``Store.migrate()`` passes its open connection in ``config.attributes["connection"]``; without
one (the ``alembic`` command line with ``-x url=…`` or ``sqlalchemy.url``), an engine is made
from the URL. Online mode only: the store always migrates a live database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from connector.store.tables import metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass -x url=... or use Store.migrate()")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("the store migrates online only (use Store.migrate())")
run_migrations_online()
