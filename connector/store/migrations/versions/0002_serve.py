"""serve: who ran each run, and once-a-day notices of failing connections and credentials

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Written out in full, like 0001, so it never changes when ``tables.py`` evolves.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("runner", sa.String(200), nullable=True))
    op.create_table(
        "notices",
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(50), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("times_seen", sa.Integer, nullable=False),
        sa.Column("reported_on", sa.Date, nullable=True),
        sa.PrimaryKeyConstraint("subject", "topic", name="pk_notices"),
    )


def downgrade() -> None:
    op.drop_table("notices")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("runner")
