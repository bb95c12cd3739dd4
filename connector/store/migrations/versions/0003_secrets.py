"""secrets: the encrypted secret store shared by every machine (ARCONNECT_SECRET_STORE=database)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Written out in full, like 0001 and 0002, so it never changes when ``tables.py`` evolves.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "secrets",
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_secrets"),
    )


def downgrade() -> None:
    op.drop_table("secrets")
