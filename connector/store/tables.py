"""The store's tables (SQLAlchemy Core), one ``MetaData`` for SQLite and PostgreSQL alike.

Conventions:

- every row carries its ``connection_id`` and every key starts with it, so every query is scoped
  by connection and two connections may hold the same source ids;
- money is ``NUMERIC(18, 4)`` plus a currency column, never a float (PostgreSQL keeps it exact;
  SQLite has no decimal type, so there the column is for filtering and sorting only);
- the ``data`` column of debtors, open items and payments holds the full model dump (JSON), which
  is what reads return, so every field round-trips exactly;
- dates are ``DATE``; times are timezone-aware and always read back in UTC.

The first Alembic revision (``migrations/versions/0001_initial.py``) creates exactly this schema;
``tests/store`` checks that the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

FOUR_PLACES = Decimal("0.0001")


class Amount(sa.types.TypeDecorator[Decimal]):
    """``NUMERIC(18, 4)`` read back as a ``Decimal`` on every dialect.

    SQLite stores a number of up to 15 significant digits exactly enough for its repr to give the
    decimal back; PostgreSQL stores it exactly.
    """

    impl = sa.Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            # Read SQLite's REAL as a float and convert it here, without SQLAlchemy's float warning.
            return dialect.type_descriptor(sa.Numeric(18, 4, asdecimal=False))
        return dialect.type_descriptor(sa.Numeric(18, 4))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("amounts are Decimal, never float")
        exact = Decimal(value).quantize(FOUR_PLACES)
        return str(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value.quantize(FOUR_PLACES)
        return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(FOUR_PLACES)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware time, stored in UTC (SQLite keeps no offset, so UTC is the convention)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("store times with their time zone (naive datetime given)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: JSON on SQLite, JSONB on PostgreSQL.
Json = sa.JSON().with_variant(JSONB(), "postgresql")

metadata = sa.MetaData()


def _id() -> sa.Column[str]:
    return sa.Column("connection_id", sa.String(100), nullable=False)


def _sync_times() -> list[sa.Column[Any]]:
    return [
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
    ]


connections = sa.Table(
    "connections",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("package", sa.String(30), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created", UtcDateTime(), nullable=False),
)

debtors = sa.Table(
    "debtors",
    metadata,
    _id(),
    sa.Column("source_id", sa.Text, nullable=False),
    sa.Column("code", sa.Text),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("country", sa.Text),
    sa.Column("language", sa.Text),
    sa.Column("blocked", sa.Boolean, nullable=False),
    sa.Column("credit_limit_currency", sa.String(3)),
    sa.Column("credit_limit_amount", Amount()),
    sa.Column("source_modified", UtcDateTime()),
    sa.Column("data", Json, nullable=False),
    *_sync_times(),
    sa.PrimaryKeyConstraint("connection_id", "source_id", name="pk_debtors"),
)

open_items = sa.Table(
    "open_items",
    metadata,
    _id(),
    sa.Column("source_id", sa.Text, nullable=False),
    sa.Column("debtor_source_id", sa.Text, nullable=False),
    sa.Column("document_number", sa.Text),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("invoice_date", sa.Date, nullable=False),
    sa.Column("due_date", sa.Date),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("original_amount", Amount(), nullable=False),
    sa.Column("open_amount", Amount(), nullable=False),
    sa.Column("base_currency", sa.String(3), nullable=False),
    sa.Column("original_base_amount", Amount(), nullable=False),
    sa.Column("open_base_amount", Amount(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("closed_on", sa.Date),
    sa.Column("in_direct_debit", sa.Boolean, nullable=False),
    sa.Column("payment_reference", sa.Text),
    sa.Column("data", Json, nullable=False),
    *_sync_times(),
    sa.PrimaryKeyConstraint("connection_id", "source_id", name="pk_open_items"),
    sa.Index("ix_open_items_debtor", "connection_id", "debtor_source_id"),
    sa.Index("ix_open_items_status", "connection_id", "status"),
)

payments = sa.Table(
    "payments",
    metadata,
    _id(),
    sa.Column("source_id", sa.Text, nullable=False),
    sa.Column("debtor_source_id", sa.Text),
    sa.Column("item_source_ids", Json, nullable=False),
    sa.Column("paid_on", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", Amount(), nullable=False),
    sa.Column("data", Json, nullable=False),
    *_sync_times(),
    sa.PrimaryKeyConstraint("connection_id", "source_id", name="pk_payments"),
    sa.Index("ix_payments_debtor", "connection_id", "debtor_source_id"),
)

bookmarks = sa.Table(
    "bookmarks",
    metadata,
    _id(),
    sa.Column("stream", sa.String(50), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "stream", name="pk_bookmarks"),
)

#: The adapter's own working state (``Page.state``), written with the page it belongs to.
adapter_state = sa.Table(
    "adapter_state",
    metadata,
    _id(),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "key", name="pk_adapter_state"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _id(),
    sa.Column("stream", sa.String(50), nullable=False),
    sa.Column("source_id", sa.Text),
    #: The source id, or a hash of the raw record when it has none: one row per failing record.
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", Json, nullable=False),
    sa.Column("first_seen_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("times_seen", sa.Integer, nullable=False),
    sa.UniqueConstraint("connection_id", "stream", "fingerprint", name="uq_quarantine_record"),
)

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    _id(),
    sa.Column("debtor_source_id", sa.Text, nullable=False),
    sa.Column("item_source_ids", Json, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("step", sa.Text),
    sa.Column("channel", sa.Text),
    sa.Column("run_date", sa.Date, nullable=False),
    sa.Column("planned_at", UtcDateTime(), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("remote_reference", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("action", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("idempotency_key", name="uq_actions_idempotency_key"),
    sa.Index("ix_actions_state", "connection_id", "state"),
)

disputes = sa.Table(
    "disputes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _id(),
    sa.Column("item_source_id", sa.Text, nullable=False),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("resolved_on", sa.Date),
    # The credit controller's desk (migration 0005): whose debtor, which kind of dispute, when to
    # look at it again, and who set it (``arconnect`` or ``package``). A dispute about a whole
    # debtor has ``item_source_id`` = ``debtor:<debtor id>`` (connector/store/desk.py).
    sa.Column("debtor_source_id", sa.Text),
    sa.Column("category", sa.String(30), nullable=False, server_default="other"),
    sa.Column("note", sa.Text),
    sa.Column("review_on", sa.Date),
    sa.Column("source", sa.String(20), nullable=False, server_default="arconnect"),
    # At most one unresolved dispute per item.
    sa.Index(
        "uq_disputes_open",
        "connection_id",
        "item_source_id",
        unique=True,
        sqlite_where=sa.text("resolved_on IS NULL"),
        postgresql_where=sa.text("resolved_on IS NULL"),
    ),
)

payment_plans = sa.Table(
    "payment_plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _id(),
    sa.Column("debtor_source_id", sa.Text, nullable=False),
    sa.Column("item_source_ids", Json, nullable=False),
    sa.Column("agreed_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    # The desk (migration 0005): what was promised or agreed, the schedule of a plan
    # (``[{"due": "YYYY-MM-DD", "amount": "12.50"}, ...]``), its grace, and how it ended.
    sa.Column("state", sa.String(20), nullable=False, server_default="active"),
    sa.Column("currency", sa.String(3)),
    sa.Column("amount", Amount()),
    sa.Column("costs", Amount()),
    sa.Column("schedule", Json),
    sa.Column("grace_days", sa.Integer),
    sa.Column("closed_on", sa.Date),
    sa.Column("note", sa.Text),
    sa.CheckConstraint("kind IN ('plan', 'promise')", name="ck_payment_plans_kind"),
    sa.Index("ix_payment_plans_connection", "connection_id", "ends_on"),
)

debtor_blocks = sa.Table(
    "debtor_blocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _id(),
    sa.Column("debtor_source_id", sa.Text, nullable=False),
    sa.Column("blocked_by", sa.String(50), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("lifted_on", sa.Date),
    # At most one block in force per debtor.
    sa.Index(
        "uq_debtor_blocks_active",
        "connection_id",
        "debtor_source_id",
        unique=True,
        sqlite_where=sa.text("lifted_on IS NULL"),
        postgresql_where=sa.text("lifted_on IS NULL"),
    ),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _id(),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime()),
    sa.Column("outcome", sa.String(50)),
    sa.Column("counts", Json, nullable=False),
    sa.Column("api_calls", sa.Integer, nullable=False),
    sa.Column("rate_limited", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    #: ``host:pid`` of the process that ran it (migration 0002).
    sa.Column("runner", sa.String(200)),
    sa.Index("ix_runs_connection", "connection_id", "started_at"),
    #: Only the runs in flight (migration 0006): what ``close_abandoned_runs`` looks for before every sync.
    sa.Index(
        "ix_runs_unfinished",
        "connection_id",
        sqlite_where=sa.text("finished_at IS NULL"),
        postgresql_where=sa.text("finished_at IS NULL"),
    ),
)

#: Problems reported at most once a day (migration 0002): ``subject`` is ``connection:<id>`` or
#: ``credential:<name>``, ``topic`` what is wrong (``failing``, ``relink-soon``, ...).
notices = sa.Table(
    "notices",
    metadata,
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("topic", sa.String(50), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("first_seen_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("times_seen", sa.Integer, nullable=False),
    sa.Column("reported_on", sa.Date),
    sa.PrimaryKeyConstraint("subject", "topic", name="pk_notices"),
)

#: The secret store ``ARCONNECT_SECRET_STORE=database`` (migration 0003): ``key`` as the secret store names it
#: (``tokens:<credential>``, ``client-secret:<credential>``), ``value`` sealed with the passphrase (JSON header and
#: Fernet token, see connector/auth/secret_store.py). Not a connection's rows: shared by every machine.
secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("key", name="pk_secrets"),
)

#: The receivables position of a connection as the store knew it at the end of a day, per
#: currency (migration 0005): what a KPI over a past period uses, taken by ``serve`` after each
#: sync (connector/store/desk.py). Buckets count days past the due date.
receivable_snapshots = sa.Table(
    "receivable_snapshots",
    metadata,
    _id(),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("total", Amount(), nullable=False),
    sa.Column("current", Amount(), nullable=False),
    sa.Column("days_1_30", Amount(), nullable=False),
    sa.Column("days_31_60", Amount(), nullable=False),
    sa.Column("days_61_90", Amount(), nullable=False),
    sa.Column("days_over_90", Amount(), nullable=False),
    sa.Column("items", sa.Integer, nullable=False),
    sa.Column("taken_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "day", "currency", name="pk_receivable_snapshots"),
)

#: Every table that holds rows of a connection (all of them), for ``remove_connection``.
CONNECTION_TABLES: tuple[sa.Table, ...] = (
    debtors,
    open_items,
    payments,
    bookmarks,
    adapter_state,
    quarantine,
    actions,
    disputes,
    payment_plans,
    debtor_blocks,
    runs,
    receivable_snapshots,
)

#: What arconnect did for a connection: kept (archived) when the connection is removed, so that linking
#: it again never repeats a step (issue 11.2); ``arconnect connections purge`` deletes it for good.
JOURNAL_TABLES: tuple[sa.Table, ...] = (actions, debtor_blocks, runs)
