"""The store: SQLAlchemy Core tables, Alembic migrations and the repository (docs/architecture.md §6).

``Store(url)`` works on SQLite (``sqlite:///path``, WAL mode) and PostgreSQL
(``postgresql+psycopg://…``); ``Store.migrate()`` brings the schema up to date.
"""

from connector.store.rows import JournalEntry, QuarantineRow, RunRow, SaveResult
from connector.store.store import Store

__all__ = ["JournalEntry", "QuarantineRow", "RunRow", "SaveResult", "Store"]
