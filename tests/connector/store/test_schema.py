"""The schema: migrations, connection settings, closing."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from connector.store import Store
from connector.store.store import MIGRATIONS
from connector.store.tables import metadata
from tests.connector.store.builders import item, page
from tests.connector.store.conftest import checked_out


def test_migrate_twice_is_harmless_and_keeps_the_data(db_url: str) -> None:
    with Store(db_url) as store:
        store.migrate()
        store.save_page("c1", "open_items", page([item("c1", "I1")], bookmark="b1"))
        store.migrate()
        assert [i.source_id for i in store.open_items("c1")] == ["I1"]
        assert store.bookmark("c1", "open_items") == "b1"
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [newest_revision()]


def newest_revision() -> str:
    """The single head of the migration scripts shipped in connector/store/migrations."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"migrations must form one line, found heads {heads}"
    return heads[0]


def test_the_migrated_schema_is_exactly_the_declared_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_the_database_is_set_up_for_several_processes(store: Store) -> None:
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        else:
            assert store.engine.dialect.driver == "psycopg"
            assert conn.execute(sa.text("SHOW transaction_isolation")).scalar() == "read committed"


def test_a_plain_postgresql_url_uses_psycopg_and_no_password_is_shown(db_url: str) -> None:
    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with Store(url.replace("@", ":s3cret@", 1) if "@" in url else url) as store:
        assert "s3cret" not in repr(store)
        if db_url.startswith("postgresql"):
            assert store.engine.dialect.driver == "psycopg"


def test_close_releases_every_connection(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    assert store.counts("c1")["open_items"] == 0
    store.close()
    assert checked_out(store) == 0
