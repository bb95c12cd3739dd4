"""The runs table at firm scale (issue 15 §5): 2,000 connections synced every 15 minutes add about
190,000 runs a day, and every sync first closes the runs a killed runner left unfinished. That query
must find them through an index of the unfinished runs only, not by visiting the connection's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from connector.store import Store
from connector.store import tables as t

HISTORY = 5_000  # a connection's finished runs: about seven weeks at one every 15 minutes


def test_closing_abandoned_runs_reads_only_the_unfinished_ones(store: Store) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    rows = [
        {"connection_id": f"exact-{n % 50}", "kind": "sync", "started_at": start + timedelta(minutes=n),
         "finished_at": start + timedelta(minutes=n, seconds=2), "outcome": "ok", "counts": {},
         "api_calls": 3, "rate_limited": 0}
        for n in range(HISTORY * 10)
    ]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(t.runs), rows)
        conn.exec_driver_sql("ANALYZE")
    running = store.run_started("exact-7", "sync")

    r = t.runs.c
    statement = sa.update(t.runs).where((r.connection_id == "exact-7") & r.finished_at.is_(None)).values(outcome="x")
    sql = str(statement.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(explain + sql))
    assert "ix_runs_unfinished" in plan, plan

    assert store.close_abandoned_runs("exact-7") == 1
    (closed,) = [run for run in store.runs("exact-7", limit=1) if run.id == running]
    assert closed.outcome == "interrupted"
