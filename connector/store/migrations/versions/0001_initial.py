"""initial schema: connections, synced records, bookmarks, quarantine, journal, disputes, plans, blocks, runs

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out in full (not derived from ``tables.py``) so that this revision never changes when the
tables evolve; ``tests/store`` checks that head and ``tables.metadata`` agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
AMOUNT = sa.Numeric(18, 4)


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _cid() -> sa.Column[str]:
    return sa.Column("connection_id", sa.String(100), nullable=False)


def _sync_times() -> list[sa.Column[object]]:
    return [_time("first_seen_at"), _time("updated_at"), _time("deleted_at", nullable=True)]


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("package", sa.String(30), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        _time("created"),
    )
    op.create_table(
        "debtors",
        _cid(),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("code", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("country", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("blocked", sa.Boolean, nullable=False),
        sa.Column("credit_limit_currency", sa.String(3)),
        sa.Column("credit_limit_amount", AMOUNT),
        _time("source_modified", nullable=True),
        sa.Column("data", JSON, nullable=False),
        *_sync_times(),
        sa.PrimaryKeyConstraint("connection_id", "source_id", name="pk_debtors"),
    )
    op.create_table(
        "open_items",
        _cid(),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("debtor_source_id", sa.Text, nullable=False),
        sa.Column("document_number", sa.Text),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("invoice_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("original_amount", AMOUNT, nullable=False),
        sa.Column("open_amount", AMOUNT, nullable=False),
        sa.Column("base_currency", sa.String(3), nullable=False),
        sa.Column("original_base_amount", AMOUNT, nullable=False),
        sa.Column("open_base_amount", AMOUNT, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.Column("in_direct_debit", sa.Boolean, nullable=False),
        sa.Column("payment_reference", sa.Text),
        sa.Column("data", JSON, nullable=False),
        *_sync_times(),
        sa.PrimaryKeyConstraint("connection_id", "source_id", name="pk_open_items"),
    )
    op.create_index("ix_open_items_debtor", "open_items", ["connection_id", "debtor_source_id"])
    op.create_index("ix_open_items_status", "open_items", ["connection_id", "status"])
    op.create_table(
        "payments",
        _cid(),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("debtor_source_id", sa.Text),
        sa.Column("item_source_ids", JSON, nullable=False),
        sa.Column("paid_on", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("data", JSON, nullable=False),
        *_sync_times(),
        sa.PrimaryKeyConstraint("connection_id", "source_id", name="pk_payments"),
    )
    op.create_index("ix_payments_debtor", "payments", ["connection_id", "debtor_source_id"])
    op.create_table(
        "bookmarks",
        _cid(),
        sa.Column("stream", sa.String(50), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("connection_id", "stream", name="pk_bookmarks"),
    )
    op.create_table(
        "adapter_state",
        _cid(),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("value", JSON, nullable=False),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("connection_id", "key", name="pk_adapter_state"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _cid(),
        sa.Column("stream", sa.String(50), nullable=False),
        sa.Column("source_id", sa.Text),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", JSON, nullable=False),
        _time("first_seen_at"),
        _time("last_seen_at"),
        sa.Column("times_seen", sa.Integer, nullable=False),
        sa.UniqueConstraint("connection_id", "stream", "fingerprint", name="uq_quarantine_record"),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        _cid(),
        sa.Column("debtor_source_id", sa.Text, nullable=False),
        sa.Column("item_source_ids", JSON, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("step", sa.Text),
        sa.Column("channel", sa.Text),
        sa.Column("run_date", sa.Date, nullable=False),
        _time("planned_at"),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("remote_reference", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("action", JSON, nullable=False),
        _time("updated_at"),
        sa.UniqueConstraint("idempotency_key", name="uq_actions_idempotency_key"),
    )
    op.create_index("ix_actions_state", "actions", ["connection_id", "state"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _cid(),
        sa.Column("item_source_id", sa.Text, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("resolved_on", sa.Date),
    )
    op.create_index(
        "uq_disputes_open",
        "disputes",
        ["connection_id", "item_source_id"],
        unique=True,
        sqlite_where=sa.text("resolved_on IS NULL"),
        postgresql_where=sa.text("resolved_on IS NULL"),
    )
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _cid(),
        sa.Column("debtor_source_id", sa.Text, nullable=False),
        sa.Column("item_source_ids", JSON, nullable=False),
        sa.Column("agreed_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.CheckConstraint("kind IN ('plan', 'promise')", name="ck_payment_plans_kind"),
    )
    op.create_index("ix_payment_plans_connection", "payment_plans", ["connection_id", "ends_on"])
    op.create_table(
        "debtor_blocks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _cid(),
        sa.Column("debtor_source_id", sa.Text, nullable=False),
        sa.Column("blocked_by", sa.String(50), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("lifted_on", sa.Date),
    )
    op.create_index(
        "uq_debtor_blocks_active",
        "debtor_blocks",
        ["connection_id", "debtor_source_id"],
        unique=True,
        sqlite_where=sa.text("lifted_on IS NULL"),
        postgresql_where=sa.text("lifted_on IS NULL"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _cid(),
        sa.Column("kind", sa.String(20), nullable=False),
        _time("started_at"),
        _time("finished_at", nullable=True),
        sa.Column("outcome", sa.String(50)),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("api_calls", sa.Integer, nullable=False),
        sa.Column("rate_limited", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_runs_connection", "runs", ["connection_id", "started_at"])


def downgrade() -> None:
    for table in (
        "runs",
        "debtor_blocks",
        "payment_plans",
        "disputes",
        "actions",
        "quarantine",
        "adapter_state",
        "bookmarks",
        "payments",
        "open_items",
        "debtors",
        "connections",
    ):
        op.drop_table(table)
