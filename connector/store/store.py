"""The store (docs/architecture.md §6): synced records, bookmarks, quarantine, the write-back journal, the
facts arconnect keeps itself (disputes, payment plans, blocks it set) and runs.

Pure data in and out (``connector.model`` types and the small rows of :mod:`.rows`); every query
and every write is scoped by connection id. SQLite (the default, WAL mode) and PostgreSQL
(``postgresql+psycopg://``) run the same code.

Transactions: a write is one transaction (``BEGIN IMMEDIATE`` on SQLite, so two writers queue on
the busy timeout instead of failing on a lock upgrade); a page, its payments, deletions,
quarantine, adapter state and bookmark are committed together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url

from connector.config import PRIVATE_FILE_MODE, open_private, private_dir
from connector.errors import ConfigError
from connector.model import (
    ApplyOutcome,
    ApplyResult,
    ConnectionStream,
    Debtor,
    OpenItem,
    Page,
    Payment,
    PlannedAction,
    Quarantined,
    StepRecord,
)
from connector.store import tables as t
from connector.store.rows import DunningRun, JournalEntry, PlanKind, QuarantineRow, RunKind, RunRow, SaveResult

MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
#: Rows per executemany batch and per fetch while streaming.
CHUNK: Final = 500
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
#: Serialises concurrent ``migrate()`` calls on one PostgreSQL database.
_PG_MIGRATE_LOCK: Final = 0x6172636F6E6E  # "arconn"

OPEN_STATUSES: Final = ("open", "disputed")
RETRYABLE_STATES: Final = (ApplyOutcome.PENDING.value, ApplyOutcome.FAILED.value)

_STREAM_TABLES: Final[dict[str, sa.Table]] = {
    "debtors": t.debtors,
    "open_items": t.open_items,
    "payments": t.payments,
}

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Record = Debtor | OpenItem | Payment


def utc_now() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _normalise_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        # psycopg 3 is the driver we ship; plain postgresql:// would mean psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _private_sqlite_file(path: Path) -> None:
    """The database holds personal data: 0600 (SQLite gives its -wal and -shm files the mode of the
    database file), in a 0700 folder when it creates one; an existing file's mode is fixed."""
    if not path.parent.exists():
        private_dir(path.parent)
    try:
        os.close(open_private(path, os.O_RDWR))
        for suffix in ("-wal", "-shm", "-journal"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                os.chmod(extra, PRIVATE_FILE_MODE)
    except PermissionError:
        pass  # a file of another user (a service account's): not ours to change; SQLite says if it cannot open it


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's begin event (below) issue BEGIN, instead of the sqlite3 module guessing.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = bool(conn.get_execution_options().get("arconnect_write"))
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


#: NUMERIC(18, 4) holds less than 10**14; a larger amount is a broken record, not money.
_AMOUNT_LIMIT: Final = Decimal(10) ** 14


def _bad_text(text: str) -> bool:
    """True for text no database stores alike: a NUL character (PostgreSQL refuses it) or a lone
    surrogate (not encodable as UTF-8)."""
    return "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)


def _has_bad_text(value: Any) -> bool:
    if isinstance(value, str):
        return _bad_text(value)
    if isinstance(value, dict):
        return any(_has_bad_text(k) or _has_bad_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_bad_text(v) for v in value)
    return False


def _clean(value: Any) -> Any:
    """The value with NUL characters and lone surrogates shown as U+FFFD (for quarantine)."""
    if isinstance(value, str):
        if not _bad_text(value):
            return value
        return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _unstorable(record: Record, data: dict[str, Any]) -> str | None:
    """Why a record that passed the model still cannot be stored the same way on every database."""
    if _has_bad_text(data):
        return "contains a NUL character or invalid Unicode, which the database cannot store"
    if isinstance(record, Debtor):
        amounts = [record.credit_limit.amount] if record.credit_limit else []
    elif isinstance(record, OpenItem):
        amounts = [m.amount for m in (record.original, record.open, record.original_base, record.open_base)]
    else:
        amounts = [record.amount.amount]
    if any(abs(amount) >= _AMOUNT_LIMIT for amount in amounts):
        return "amount out of range (10^14 or more)"
    return None


def _fingerprint(item: Quarantined, raw: Any) -> str:
    if item.source_id is not None:
        return item.source_id
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
    return f"sha256:{digest}"


def _record_row(record: Record, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "connection_id": record.connection_id,
        "source_id": record.source_id,
        "data": record.model_dump(mode="json"),
        "first_seen_at": now,
        "updated_at": now,
        "deleted_at": None,
    }
    if isinstance(record, Debtor):
        row.update(
            code=record.code,
            name=record.name,
            kind=record.kind.value,
            country=record.country,
            language=record.language,
            blocked=record.blocked,
            credit_limit_currency=record.credit_limit.currency if record.credit_limit else None,
            credit_limit_amount=record.credit_limit.amount if record.credit_limit else None,
            source_modified=record.source_modified,
        )
    elif isinstance(record, OpenItem):
        row.update(
            debtor_source_id=record.debtor_source_id,
            document_number=record.document_number,
            kind=record.kind.value,
            invoice_date=record.invoice_date,
            due_date=record.due_date,
            currency=record.original.currency,
            original_amount=record.original.amount,
            open_amount=record.open.amount,
            base_currency=record.original_base.currency,
            original_base_amount=record.original_base.amount,
            open_base_amount=record.open_base.amount,
            status=record.status.value,
            closed_on=record.closed_on,
            in_direct_debit=record.in_direct_debit,
            payment_reference=record.payment_reference,
        )
    else:
        row.update(
            debtor_source_id=record.debtor_source_id,
            item_source_ids=list(record.item_source_ids),
            paid_on=record.paid_on,
            currency=record.amount.currency,
            amount=record.amount.amount,
        )
    return row


def _run_row(row: sa.Row[Any]) -> RunRow:
    return RunRow(
        id=row.id,
        connection_id=row.connection_id,
        kind=row.kind,
        started_at=row.started_at,
        finished_at=row.finished_at,
        outcome=row.outcome,
        counts=dict(row.counts),
        api_calls=row.api_calls,
        rate_limited=row.rate_limited,
        error=row.error,
        runner=row.runner,
    )


def _entry(row: sa.Row[Any]) -> JournalEntry:
    m = row._mapping
    return JournalEntry(
        idempotency_key=m["idempotency_key"],
        connection_id=m["connection_id"],
        debtor_source_id=m["debtor_source_id"],
        item_source_ids=tuple(m["item_source_ids"]),
        kind=PlannedAction.model_validate(m["action"]).kind,
        step=m["step"],
        channel=m["channel"],
        run_date=m["run_date"],
        planned_at=m["planned_at"],
        state=ApplyOutcome(m["state"]),
        attempts=m["attempts"],
        remote_reference=m["remote_reference"],
        reason=m["reason"],
        action=PlannedAction.model_validate(m["action"]),
        updated_at=m["updated_at"],
    )


class Store:
    """The one place arconnect keeps its data. ``Store(url)``; call ``migrate()`` once at start."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        parsed = _normalise_url(url)
        backend = parsed.get_backend_name()
        self._clock = clock
        self._safe_url = parsed.render_as_string(hide_password=True)
        if backend == "sqlite":
            database = parsed.database
            if database and database != ":memory:" and not database.startswith("file:"):
                _private_sqlite_file(Path(database).expanduser())
            engine = sa.create_engine(parsed)
            sa.event.listen(engine, "connect", _sqlite_connect)
            sa.event.listen(engine, "begin", _sqlite_begin)
        elif backend == "postgresql":
            engine = sa.create_engine(parsed)
        else:
            raise ConfigError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")
        self._engine: Engine = engine
        self._writer: Engine = engine.execution_options(arconnect_write=True)
        self._pg = backend == "postgresql"

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({self._safe_url!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def migrate(self) -> None:
        """Bring the schema to the newest revision; harmless when it already is."""
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        config.set_main_option("path_separator", "os")
        with self._writer.begin() as conn:
            if self._pg:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATE_LOCK)))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # -- helpers -----------------------------------------------------------------------------

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        return postgresql.insert(table) if self._pg else sqlite.insert(table)

    def _upsert(
        self,
        conn: Connection,
        table: sa.Table,
        rows: Sequence[dict[str, Any]],
        keys: Sequence[str],
        keep: Iterable[str] = (),
    ) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE every column except the keys and ``keep``."""
        if not rows:
            return
        insert = self._insert(table)
        fixed = set(keys) | set(keep)
        update = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in fixed and c.name in rows[0]}
        statement = insert.on_conflict_do_update(index_elements=list(keys), set_=update)
        for chunk in _chunks(rows):
            conn.execute(statement, list(chunk))

    # -- connections -------------------------------------------------------------------------

    def ensure_connection(self, connection_id: str, package: str, name: str) -> None:
        row = {"id": connection_id, "package": package, "name": name, "created": self._clock()}
        with self._writer.begin() as conn:
            self._upsert(conn, t.connections, [row], ["id"], keep=["created"])

    def connections(self) -> list[tuple[str, str, str]]:
        """(id, package, name) of every connection the store knows, by id."""
        c = t.connections.c
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(c.id, c.package, c.name).order_by(c.id)).all()
        return [(r.id, r.package, r.name) for r in rows]

    def remove_connection(self, connection_id: str, *, keep_journal: bool = True) -> None:
        """Delete the connection's rows in one transaction. Its journal (what arconnect did: actions,
        the blocks it set, its runs) is kept, archived under the connection's id, unless
        ``keep_journal`` is False: the journal is what stops a re-linked connection dunning twice."""
        kept = t.JOURNAL_TABLES if keep_journal else ()
        with self._writer.begin() as conn:
            for table in t.CONNECTION_TABLES:
                if table not in kept:
                    conn.execute(sa.delete(table).where(table.c.connection_id == connection_id))
            conn.execute(sa.delete(t.connections).where(t.connections.c.id == connection_id))

    def purge_journal(self, connection_id: str) -> int:
        """Delete the archived journal of a removed connection for good; the journal entries removed."""
        if connection_id in {c for c, _, _ in self.connections()}:
            raise ValueError(f"connection {connection_id!r} is still in the store: remove it first")
        with self._writer.begin() as conn:
            removed = int(conn.execute(sa.delete(t.actions).where(t.actions.c.connection_id == connection_id)).rowcount)
            for table in t.JOURNAL_TABLES:
                if table is not t.actions:
                    conn.execute(sa.delete(table).where(table.c.connection_id == connection_id))
        return removed

    def archived_journals(self) -> dict[str, int]:
        """Connection id → journal entries kept for connections that were removed."""
        a = t.actions.c
        live = {c for c, _, _ in self.connections()}
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(a.connection_id, sa.func.count()).group_by(a.connection_id)).all()
        return {r[0]: int(r[1]) for r in rows if r[0] not in live}

    def has_journal(self, connection_id: str) -> bool:
        a = t.actions.c
        with self._engine.connect() as conn:
            return conn.execute(sa.select(a.id).where(a.connection_id == connection_id).limit(1)).first() is not None

    def set_state(self, connection_id: str, state: dict[str, Any]) -> None:
        """Store state outside a page (None removes a key): arconnect's own markers, e.g. that the
        journal was checked against the package."""
        with self._writer.begin() as conn:
            self._save_state(conn, connection_id, state, self._clock())

    def journal_restore(self, connection_id: str, records: Iterable[StepRecord], reason: str) -> int:
        """Put steps the package records back into the journal as ``done`` (known keys are left as
        they are); the number of entries added."""
        now = self._clock()
        added = 0
        with self._writer.begin() as conn:
            for record in records:
                action = PlannedAction(
                    idempotency_key=record.key, connection_id=connection_id, debtor_source_id=record.debtor_source_id,
                    item_source_ids=record.item_source_ids, kind=record.kind, step=record.step, channel=record.channel,
                    run_date=record.run_date, reason=reason,
                    details={"profile": record.profile} if record.profile else {},
                )
                row = {
                    "idempotency_key": record.key, "connection_id": connection_id,
                    "debtor_source_id": record.debtor_source_id, "item_source_ids": list(record.item_source_ids),
                    "kind": record.kind.value, "step": record.step, "channel": record.channel,
                    "run_date": record.run_date, "planned_at": now, "state": ApplyOutcome.DONE.value, "attempts": 0,
                    "remote_reference": None, "reason": reason, "action": action.model_dump(mode="json"), "updated_at": now,
                }
                insert = self._insert(t.actions).values(row).on_conflict_do_nothing(index_elements=["idempotency_key"])
                if conn.execute(insert.returning(t.actions.c.id)).first() is not None:
                    added += 1
        return added

    # -- sync --------------------------------------------------------------------------------

    def save_page(self, connection_id: str, stream: ConnectionStream, page: Page[Any]) -> SaveResult:
        """Store one page with its bookmark, in one transaction.

        Records are upserted (an earlier deletion is undone), ``page.deleted`` ids are marked
        deleted (they drop out of every read), quarantined records are counted in (and records
        that now map leave quarantine), ``page.payments`` and ``page.state`` are stored, and the
        bookmark is set when the page has one. Items that got paid arrive as records with their
        closing status; nothing is ever removed here.
        """
        if stream not in _STREAM_TABLES:
            raise ValueError(f"unknown stream {stream!r}")
        if page.bookmark is not None and _bad_text(page.bookmark):
            raise ValueError("a bookmark cannot contain NUL characters or invalid Unicode")
        now = self._clock()
        with self._writer.begin() as conn:
            refused: list[Quarantined] = []
            stored = self._upsert_records(conn, connection_id, stream, page.records, now, refused)
            payments = self._upsert_records(conn, connection_id, "payments", page.payments, now, refused)
            deleted = self._mark_deleted(conn, connection_id, stream, page.deleted, now)
            if stream == "debtors":
                self._close_blocks_lifted_in_the_package(conn, connection_id, page.records, now)
            self._clear_quarantine(conn, connection_id, stream, [*stored, *page.deleted])
            if payments:
                self._clear_quarantine(conn, connection_id, "payments", payments)
            quarantined = self._save_quarantine(conn, connection_id, [*page.quarantined, *refused], now)
            self._save_state(conn, connection_id, page.state, now)
            if page.bookmark is not None:
                self._set_bookmark(conn, connection_id, stream, page.bookmark, now)
        return SaveResult(stored=len(stored), quarantined=quarantined, deleted=deleted, payments=len(payments))

    def _upsert_records(
        self,
        conn: Connection,
        connection_id: str,
        stream: str,
        records: Iterable[Record],
        now: datetime,
        refused: list[Quarantined],
    ) -> list[str]:
        """Upsert the records (the last of each source id wins); returns the ids stored and adds
        records no database could store alike to ``refused``."""
        latest: dict[str, dict[str, Any]] = {}
        for record in records:
            if record.connection_id != connection_id:
                raise ValueError(f"a record of connection {record.connection_id!r} in a page of {connection_id!r}")
            row = _record_row(record, now)
            reason = _unstorable(record, row["data"])
            if reason is None:
                latest[record.source_id] = row
            else:
                latest.pop(record.source_id, None)
                refused.append(Quarantined(stream=stream, source_id=record.source_id, reason=reason, raw=row["data"]))
        self._upsert(conn, _STREAM_TABLES[stream], list(latest.values()), ["connection_id", "source_id"], keep=["first_seen_at"])
        return list(latest)

    def _close_blocks_lifted_in_the_package(
        self, conn: Connection, connection_id: str, debtors: Iterable[Debtor], now: datetime
    ) -> None:
        """A debtor arconnect blocked that the package now shows unblocked was released by a person:
        the block is no longer ours, so a later block (the bookkeeper's) is never lifted by us."""
        released = sorted({d.source_id for d in debtors if not d.blocked})
        b = t.debtor_blocks.c
        for chunk in _chunks(released):
            conn.execute(
                sa.update(t.debtor_blocks)
                .where(b.connection_id == connection_id, b.debtor_source_id.in_(chunk), b.lifted_on.is_(None))
                .values(lifted_on=now.date())
            )

    def _mark_deleted(
        self, conn: Connection, connection_id: str, stream: str, source_ids: Iterable[str], now: datetime
    ) -> int:
        table = _STREAM_TABLES[stream]
        count = 0
        for chunk in _chunks(sorted(set(source_ids))):
            result = conn.execute(
                sa.update(table)
                .where(table.c.connection_id == connection_id, table.c.source_id.in_(chunk), table.c.deleted_at.is_(None))
                .values(deleted_at=now, updated_at=now)
            )
            count += result.rowcount
        return count

    def _clear_quarantine(self, conn: Connection, connection_id: str, stream: str, source_ids: Sequence[str]) -> None:
        q = t.quarantine.c
        for chunk in _chunks(sorted(set(source_ids))):
            conn.execute(
                sa.delete(t.quarantine).where(
                    q.connection_id == connection_id, q.stream == stream, q.source_id.is_not(None), q.fingerprint.in_(chunk)
                )
            )

    def _save_quarantine(self, conn: Connection, connection_id: str, items: Iterable[Quarantined], now: datetime) -> int:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        count = 0
        for item in items:
            count += 1
            raw = _clean(_json_safe(item.raw))
            key = (item.stream, _clean(_fingerprint(item, raw)))
            seen = rows[key]["times_seen"] + 1 if key in rows else 1
            rows[key] = {
                "connection_id": connection_id,
                "stream": item.stream,
                "source_id": _clean(item.source_id),
                "fingerprint": key[1],
                "reason": _clean(item.reason),
                "raw": raw,
                "first_seen_at": now,
                "last_seen_at": now,
                "times_seen": seen,
            }
        if rows:
            insert = self._insert(t.quarantine)
            statement = insert.on_conflict_do_update(
                index_elements=["connection_id", "stream", "fingerprint"],
                set_={
                    "source_id": insert.excluded.source_id,
                    "reason": insert.excluded.reason,
                    "raw": insert.excluded.raw,
                    "last_seen_at": insert.excluded.last_seen_at,
                    "times_seen": t.quarantine.c.times_seen + insert.excluded.times_seen,
                },
            )
            for chunk in _chunks(list(rows.values())):
                conn.execute(statement, list(chunk))
        return count

    def _save_state(self, conn: Connection, connection_id: str, state: dict[str, Any], now: datetime) -> None:
        s = t.adapter_state.c
        gone = sorted(key for key, value in state.items() if value is None)
        for chunk in _chunks(gone):
            conn.execute(sa.delete(t.adapter_state).where(s.connection_id == connection_id, s.key.in_(chunk)))
        rows = [
            {"connection_id": connection_id, "key": key, "value": _json_safe(value), "updated_at": now}
            for key, value in state.items()
            if value is not None
        ]
        self._upsert(conn, t.adapter_state, rows, ["connection_id", "key"])

    def _set_bookmark(self, conn: Connection, connection_id: str, stream: str, value: str, now: datetime) -> None:
        row = {"connection_id": connection_id, "stream": stream, "value": value, "updated_at": now}
        self._upsert(conn, t.bookmarks, [row], ["connection_id", "stream"])

    def bookmark(self, connection_id: str, stream: str) -> str | None:
        b = t.bookmarks.c
        with self._engine.connect() as conn:
            value: str | None = conn.execute(
                sa.select(b.value).where(b.connection_id == connection_id, b.stream == stream)
            ).scalar_one_or_none()
        return value

    def reset_bookmarks(self, connection_id: str) -> None:
        """Forget where each stream was, so the next sync reads everything again."""
        with self._writer.begin() as conn:
            conn.execute(sa.delete(t.bookmarks).where(t.bookmarks.c.connection_id == connection_id))

    def get_state(self, connection_id: str, keys: Iterable[str]) -> dict[str, Any]:
        """The stored adapter state of those keys that exist (see ``Page.state``)."""
        s = t.adapter_state.c
        found: dict[str, Any] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(sorted(set(keys))):
                rows = conn.execute(sa.select(s.key, s.value).where(s.connection_id == connection_id, s.key.in_(chunk)))
                found.update({row.key: row.value for row in rows})
        return found

    # -- reads -------------------------------------------------------------------------------

    def _live(self, table: sa.Table, connection_id: str) -> sa.Select[Any]:
        return (
            sa.select(table.c.data)
            .where(table.c.connection_id == connection_id, table.c.deleted_at.is_(None))
            .order_by(table.c.source_id)
        )

    def _load(self, statement: sa.Select[Any], model: type[M]) -> list[M]:
        with self._engine.connect() as conn:
            return [model.model_validate(data) for data in conn.execute(statement).scalars()]

    def debtors(self, connection_id: str) -> list[Debtor]:
        return self._load(self._live(t.debtors, connection_id), Debtor)

    def debtor(self, connection_id: str, source_id: str) -> Debtor | None:
        found = self._load(self._live(t.debtors, connection_id).where(t.debtors.c.source_id == source_id), Debtor)
        return found[0] if found else None

    def open_items(self, connection_id: str, *, include_closed: bool = False) -> Generator[OpenItem, None, None]:
        """The connection's items by source id, fetched in chunks from one consistent read.

        Without ``include_closed`` only items still to collect (status open or disputed).
        Deleted items are never returned. Close the iterator (or exhaust it) to free its
        connection.
        """
        statement = self._live(t.open_items, connection_id)
        if not include_closed:
            statement = statement.where(t.open_items.c.status.in_(OPEN_STATUSES))
        with self._engine.connect() as conn, conn.execution_options(yield_per=CHUNK).execute(statement) as result:
            for partition in result.partitions():
                for (data,) in partition:
                    yield OpenItem.model_validate(data)

    def payments(self, connection_id: str) -> list[Payment]:
        return self._load(self._live(t.payments, connection_id), Payment)

    def quarantine(self, connection_id: str) -> list[QuarantineRow]:
        q = t.quarantine.c
        statement = sa.select(t.quarantine).where(q.connection_id == connection_id).order_by(q.stream, q.id)
        with self._engine.connect() as conn:
            return [
                QuarantineRow(
                    id=r.id,
                    connection_id=r.connection_id,
                    stream=r.stream,
                    source_id=r.source_id,
                    reason=r.reason,
                    raw=r.raw,
                    first_seen_at=r.first_seen_at,
                    last_seen_at=r.last_seen_at,
                    times_seen=r.times_seen,
                )
                for r in conn.execute(statement)
            ]

    def quarantined_since(self, connection_id: str, stream: str, after: datetime | None) -> int:
        """Records of ``stream`` in quarantine that were first quarantined after ``after`` (all when None)."""
        q = t.quarantine.c
        statement = sa.select(sa.func.count()).select_from(t.quarantine).where(
            q.connection_id == connection_id, q.stream == stream
        )
        if after is not None:
            statement = statement.where(q.first_seen_at > after)
        with self._engine.connect() as conn:
            return int(conn.execute(statement).scalar_one())

    def counts(self, connection_id: str) -> dict[str, int]:
        """Rows per kind: ``debtors``, ``open_items`` (every status), ``open`` (still to
        collect), ``payments``, ``deleted`` (records marked deleted), ``quarantine``,
        ``journal`` (actions journaled)."""

        def live(table: sa.Table) -> sa.Select[int]:
            return (
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.connection_id == connection_id, table.c.deleted_at.is_(None))
            )

        def all_of(table: sa.Table) -> sa.Select[int]:
            return sa.select(sa.func.count()).select_from(table).where(table.c.connection_id == connection_id)

        deleted = [
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.connection_id == connection_id, table.c.deleted_at.is_not(None))
            for table in _STREAM_TABLES.values()
        ]
        queries: dict[str, sa.Select[int]] = {
            "debtors": live(t.debtors),
            "open_items": live(t.open_items),
            "open": live(t.open_items).where(t.open_items.c.status.in_(OPEN_STATUSES)),
            "payments": live(t.payments),
            "quarantine": all_of(t.quarantine),
            "journal": all_of(t.actions),
        }
        with self._engine.connect() as conn:
            out = {name: int(conn.execute(query).scalar_one()) for name, query in queries.items()}
            out["deleted"] = sum(int(conn.execute(query).scalar_one()) for query in deleted)
        return out

    # -- journal -----------------------------------------------------------------------------

    def journal_begin(self, action: PlannedAction) -> tuple[JournalEntry, bool]:
        """Journal an action before its effect.

        A new key is inserted as ``pending`` with one attempt and ``(entry, True)`` comes back.
        A known key returns ``(entry, False)`` with the entry as stored; when it is still pending
        or failed, its attempts go up by one and it takes this try's run date and action: a letter
        retried on a later day is re-dated and re-computed by the planner, and the journal then says
        when it actually went out (issue 10 point 7(c): the consumer's term runs from that day, never
        from an earlier try). Two processes racing on one key get one row: the unique key decides,
        the loser reads the winner's row.
        """
        now = self._clock()
        a = t.actions.c
        row = {
            "idempotency_key": action.idempotency_key,
            "connection_id": action.connection_id,
            "debtor_source_id": action.debtor_source_id,
            "item_source_ids": list(action.item_source_ids),
            "kind": action.kind.value,
            "step": action.step,
            "channel": action.channel,
            "run_date": action.run_date,
            "planned_at": now,
            "state": ApplyOutcome.PENDING.value,
            "attempts": 1,
            "remote_reference": None,
            "reason": None,
            "action": action.model_dump(mode="json"),
            "updated_at": now,
        }
        with self._writer.begin() as conn:
            insert = self._insert(t.actions).values(row).on_conflict_do_nothing(index_elements=["idempotency_key"])
            is_new = conn.execute(insert.returning(a.id)).first() is not None
            if not is_new:
                conn.execute(
                    sa.update(t.actions)
                    .where(a.idempotency_key == action.idempotency_key, a.state.in_(RETRYABLE_STATES))
                    .values(
                        attempts=a.attempts + 1, updated_at=now, run_date=action.run_date, action=row["action"]
                    )
                )
            entry = _entry(conn.execute(sa.select(t.actions).where(a.idempotency_key == action.idempotency_key)).one())
            if entry.connection_id != action.connection_id:
                raise ValueError("idempotency key already used by another connection")
        return entry, is_new

    def journal_finish(self, key: str, result: ApplyResult) -> JournalEntry:
        """Record the outcome of a journaled action (a missing remote reference keeps the old one)."""
        if result.outcome == ApplyOutcome.PENDING:
            raise ValueError("pending is not an outcome")
        a = t.actions.c
        values: dict[str, Any] = {"state": result.outcome.value, "reason": result.reason, "updated_at": self._clock()}
        if result.remote_reference is not None:
            values["remote_reference"] = result.remote_reference
        with self._writer.begin() as conn:
            updated = conn.execute(sa.update(t.actions).where(a.idempotency_key == key).values(**values))
            if updated.rowcount != 1:
                raise LookupError(f"no journal entry {key!r}")
            return _entry(conn.execute(sa.select(t.actions).where(a.idempotency_key == key)).one())

    def journal_entry(self, key: str) -> JournalEntry | None:
        a = t.actions.c
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(t.actions).where(a.idempotency_key == key)).first()
        return None if row is None else _entry(row)

    def journal(self, connection_id: str, *, states: Iterable[ApplyOutcome | str] | None = None) -> list[JournalEntry]:
        """The connection's journal, oldest first, optionally only entries in ``states``."""
        a = t.actions.c
        statement = sa.select(t.actions).where(a.connection_id == connection_id).order_by(a.planned_at, a.id)
        if states is not None:
            statement = statement.where(a.state.in_([ApplyOutcome(s).value for s in states]))
        with self._engine.connect() as conn:
            return [_entry(row) for row in conn.execute(statement)]

    def dunning_runs(self, connection_id: str) -> list[DunningRun]:
        """The journal grouped by run date (newest first): what each apply run recorded."""
        a = t.actions.c
        statement = (
            sa.select(a.run_date, a.state, sa.func.count())
            .where(a.connection_id == connection_id)
            .group_by(a.run_date, a.state)
        )
        by_date: dict[date, dict[str, int]] = {}
        with self._engine.connect() as conn:
            for run_date, state, count in conn.execute(statement):
                by_date.setdefault(run_date, {})[state] = int(count)
        return [DunningRun(run_date=day, states=states) for day, states in sorted(by_date.items(), reverse=True)]

    def undo_dunning_run(self, connection_id: str, run_date: date) -> int:
        """Forget the journal of one run whose effects never left arconnect (``DunningRun.undoable``).

        Returns the number of entries removed; raises ValueError when the run is not undoable.
        """
        a = t.actions.c
        where = sa.and_(a.connection_id == connection_id, a.run_date == run_date)
        with self._writer.begin() as conn:
            states = {str(state): int(n) for state, n in conn.execute(
                sa.select(a.state, sa.func.count()).where(where).group_by(a.state))}
            run = DunningRun(run_date=run_date, states=states)
            if not states:
                raise ValueError(f"no run on {run_date.isoformat()}")
            if not run.undoable:
                raise ValueError(run.why_not_undoable())
            return int(conn.execute(sa.delete(t.actions).where(where)).rowcount)

    # -- what arconnect keeps itself ---------------------------------------------------------

    def record_block(self, connection_id: str, debtor_source_id: str, reason: str, since: date) -> None:
        """Remember that arconnect blocked this debtor (a block in force is kept as it is)."""
        row = {
            "connection_id": connection_id,
            "debtor_source_id": debtor_source_id,
            "blocked_by": "arconnect",
            "reason": reason,
            "since": since,
            "lifted_on": None,
        }
        with self._writer.begin() as conn:
            conn.execute(self._insert(t.debtor_blocks).values(row).on_conflict_do_nothing())

    def lift_block(self, connection_id: str, debtor_source_id: str, on: date) -> None:
        b = t.debtor_blocks.c
        with self._writer.begin() as conn:
            conn.execute(
                sa.update(t.debtor_blocks)
                .where(b.connection_id == connection_id, b.debtor_source_id == debtor_source_id, b.lifted_on.is_(None))
                .values(lifted_on=on)
            )

    def blocks_by_us(self, connection_id: str) -> set[str]:
        """Debtors blocked by arconnect and not lifted: the only blocks arconnect may lift."""
        b = t.debtor_blocks.c
        statement = sa.select(b.debtor_source_id).where(
            b.connection_id == connection_id, b.blocked_by == "arconnect", b.lifted_on.is_(None)
        )
        with self._engine.connect() as conn:
            return set(conn.execute(statement).scalars())

    def add_dispute(self, connection_id: str, item_source_id: str, opened_on: date, reason: str) -> None:
        """Open a dispute on an item (an item already under dispute keeps its open dispute)."""
        row = {
            "connection_id": connection_id,
            "item_source_id": item_source_id,
            "opened_on": opened_on,
            "reason": reason,
            "resolved_on": None,
        }
        with self._writer.begin() as conn:
            conn.execute(self._insert(t.disputes).values(row).on_conflict_do_nothing())

    def resolve_dispute(self, connection_id: str, item_source_id: str, on: date) -> None:
        d = t.disputes.c
        with self._writer.begin() as conn:
            conn.execute(
                sa.update(t.disputes)
                .where(d.connection_id == connection_id, d.item_source_id == item_source_id, d.resolved_on.is_(None))
                .values(resolved_on=on)
            )

    def disputed_items(self, connection_id: str) -> set[str]:
        """Items with a dispute recorded here and not resolved."""
        d = t.disputes.c
        statement = sa.select(d.item_source_id).where(d.connection_id == connection_id, d.resolved_on.is_(None))
        with self._engine.connect() as conn:
            return set(conn.execute(statement).scalars())

    def add_payment_plan(
        self,
        connection_id: str,
        debtor_source_id: str,
        item_source_ids: Iterable[str],
        agreed_on: date,
        ends_on: date,
        kind: PlanKind = "plan",
    ) -> int:
        """Record a payment plan (instalments) or a promise to pay; returns its id."""
        items = sorted(set(item_source_ids))
        if not items:
            raise ValueError("a payment plan covers at least one item")
        if ends_on < agreed_on:
            raise ValueError("a payment plan cannot end before it was agreed")
        if kind not in ("plan", "promise"):
            raise ValueError(f"unknown payment plan kind {kind!r}")
        row = {
            "connection_id": connection_id,
            "debtor_source_id": debtor_source_id,
            "item_source_ids": items,
            "agreed_on": agreed_on,
            "ends_on": ends_on,
            "kind": kind,
        }
        with self._writer.begin() as conn:
            return int(conn.execute(sa.insert(t.payment_plans).values(row).returning(t.payment_plans.c.id)).scalar_one())

    def items_under_plan(self, connection_id: str, on: date) -> set[str]:
        """Items covered by a plan or promise running on that day (agreed_on ≤ on ≤ ends_on)."""
        p = t.payment_plans.c
        statement = sa.select(p.item_source_ids).where(p.connection_id == connection_id, p.agreed_on <= on, p.ends_on >= on)
        with self._engine.connect() as conn:
            return {item for items in conn.execute(statement).scalars() for item in items}

    # -- runs --------------------------------------------------------------------------------

    def run_started(self, connection_id: str, kind: RunKind | str) -> int:
        if kind not in ("sync", "plan", "apply"):
            raise ValueError(f"unknown run kind {kind!r}")
        row = {
            "connection_id": connection_id,
            "kind": kind,
            "started_at": self._clock(),
            "counts": {},
            "api_calls": 0,
            "rate_limited": 0,
            "runner": f"{socket.gethostname()}:{os.getpid()}",
        }
        with self._writer.begin() as conn:
            return int(conn.execute(sa.insert(t.runs).values(row).returning(t.runs.c.id)).scalar_one())

    def run_finished(
        self,
        run_id: int,
        outcome: str,
        counts: dict[str, int],
        api_calls: int = 0,
        rate_limited: int = 0,
        error: str | None = None,
    ) -> None:
        values = {
            "finished_at": self._clock(),
            "outcome": outcome,
            "counts": {str(k): int(v) for k, v in counts.items()},
            "api_calls": api_calls,
            "rate_limited": rate_limited,
            "error": error,
        }
        with self._writer.begin() as conn:
            if conn.execute(sa.update(t.runs).where(t.runs.c.id == run_id).values(**values)).rowcount != 1:
                raise LookupError(f"no run {run_id}")

    def runs(self, connection_id: str | None = None, limit: int = 50) -> list[RunRow]:
        """The newest runs first, of one connection or of all."""
        r = t.runs.c
        statement = sa.select(t.runs).order_by(r.started_at.desc(), r.id.desc()).limit(limit)
        if connection_id is not None:
            statement = statement.where(r.connection_id == connection_id)
        with self._engine.connect() as conn:
            return [_run_row(row) for row in conn.execute(statement)]

    def close_abandoned_runs(self, connection_id: str) -> int:
        """Mark the connection's unfinished runs ``interrupted``; call it only under the connection's
        lease (connector.store.lease), when no live runner can own them. Returns how many there were."""
        r = t.runs.c
        with self._writer.begin() as conn:
            return int(
                conn.execute(
                    sa.update(t.runs)
                    .where((r.connection_id == connection_id) & r.finished_at.is_(None))
                    .values(finished_at=self._clock(), outcome="interrupted", error="the runner stopped mid-run")
                ).rowcount
            )

    def latest_runs(self) -> list[RunRow]:
        """The newest run of each (connection, kind), by connection and kind (for ``arconnect status``)."""
        r = t.runs.c
        newest = sa.select(sa.func.max(r.id)).group_by(r.connection_id, r.kind).scalar_subquery()
        statement = sa.select(t.runs).where(r.id.in_(newest)).order_by(r.connection_id, r.kind)
        with self._engine.connect() as conn:
            return [_run_row(row) for row in conn.execute(statement)]

    # -- notices (reported at most once a day) -------------------------------------------------

    def notice(self, subject: str, topic: str, message: str, day: date) -> bool:
        """Record that ``subject`` has problem ``topic``; True when it is not yet reported on ``day``.

        Atomic across processes: of several runners seeing the same problem on the same day,
        exactly one gets True (the conditional UPDATE decides).
        """
        now = self._clock()
        n = t.notices.c
        row = {"subject": subject, "topic": topic, "message": message, "first_seen_at": now,
               "last_seen_at": now, "times_seen": 0, "reported_on": None}
        with self._writer.begin() as conn:
            conn.execute(self._insert(t.notices).values(row).on_conflict_do_nothing(index_elements=["subject", "topic"]))
            where = (n.subject == subject) & (n.topic == topic)
            conn.execute(
                sa.update(t.notices).where(where).values(message=message, last_seen_at=now, times_seen=n.times_seen + 1)
            )
            claimed = conn.execute(
                sa.update(t.notices)
                .where(where & ((n.reported_on.is_(None)) | (n.reported_on != day)))
                .values(reported_on=day)
            ).rowcount
        return bool(claimed == 1)

    def clear_notice(self, subject: str, topic: str) -> bool:
        """Forget a problem that went away; True when there was one (so recovery is said once)."""
        n = t.notices.c
        with self._writer.begin() as conn:
            deleted = conn.execute(sa.delete(t.notices).where((n.subject == subject) & (n.topic == topic))).rowcount
        return bool(deleted)

    def notices(self) -> list[tuple[str, str, str, datetime, datetime, int]]:
        """(subject, topic, message, first seen, last seen, times seen) of every open problem."""
        n = t.notices.c
        statement = sa.select(n.subject, n.topic, n.message, n.first_seen_at, n.last_seen_at, n.times_seen)
        with self._engine.connect() as conn:
            rows = conn.execute(statement.order_by(n.subject, n.topic)).all()
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


__all__ = ["CHUNK", "MIGRATIONS", "Store"]
