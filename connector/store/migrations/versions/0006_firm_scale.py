"""runs: a partial index on the unfinished runs of a connection (issue 15 §5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Every sync job first closes the runs an earlier, killed runner left unfinished
(``Store.close_abandoned_runs``: ``connection_id = ? AND finished_at IS NULL``). With 2,000 connections
synced every 15 minutes the runs table grows by about 190,000 rows a day, and through
``ix_runs_connection`` that update visits every run the connection ever had; this index holds only the
unfinished ones (none, or one running), so it stays as small as the number of runs in flight.

Written out in full, like 0001-0003, so it never changes when ``tables.py`` evolves.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_runs_unfinished",
        "runs",
        ["connection_id"],
        sqlite_where=sa.text("finished_at IS NULL"),
        postgresql_where=sa.text("finished_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_runs_unfinished", table_name="runs")
