"""Alembic migrations of the store; run with ``Store.migrate()`` (no alembic.ini needed)."""
