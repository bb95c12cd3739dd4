"""desk: disputes with category and review date, promises and payment plans with their terms and
outcome, and daily snapshots of the receivables position for KPIs

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-05

Written out in full, like 0001-0003, so it never changes when ``tables.py`` evolves.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(18, 4)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite), so the partial unique index of open disputes stays.
    op.add_column("disputes", sa.Column("debtor_source_id", sa.Text))
    op.add_column("disputes", sa.Column("category", sa.String(30), nullable=False, server_default="other"))
    op.add_column("disputes", sa.Column("note", sa.Text))
    op.add_column("disputes", sa.Column("review_on", sa.Date))
    op.add_column("disputes", sa.Column("source", sa.String(20), nullable=False, server_default="arconnect"))
    op.add_column("payment_plans", sa.Column("state", sa.String(20), nullable=False, server_default="active"))
    op.add_column("payment_plans", sa.Column("currency", sa.String(3)))
    op.add_column("payment_plans", sa.Column("amount", AMOUNT))
    op.add_column("payment_plans", sa.Column("costs", AMOUNT))
    op.add_column("payment_plans", sa.Column("schedule", JSON))
    op.add_column("payment_plans", sa.Column("grace_days", sa.Integer))
    op.add_column("payment_plans", sa.Column("closed_on", sa.Date))
    op.add_column("payment_plans", sa.Column("note", sa.Text))
    op.create_table(
        "receivable_snapshots",
        sa.Column("connection_id", sa.String(100), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", AMOUNT, nullable=False),
        sa.Column("current", AMOUNT, nullable=False),
        sa.Column("days_1_30", AMOUNT, nullable=False),
        sa.Column("days_31_60", AMOUNT, nullable=False),
        sa.Column("days_61_90", AMOUNT, nullable=False),
        sa.Column("days_over_90", AMOUNT, nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "day", "currency", name="pk_receivable_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("receivable_snapshots")
    for name in ("note", "closed_on", "grace_days", "schedule", "costs", "amount", "currency", "state"):
        op.drop_column("payment_plans", name)
    for name in ("source", "review_on", "note", "category", "debtor_source_id"):
        op.drop_column("disputes", name)
