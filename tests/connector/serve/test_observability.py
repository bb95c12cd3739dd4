"""Structured logs without secrets, and problems reported once a day across processes."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.serve.observability import report_problem, report_recovered, scrub, setup_logging
from connector.store import Store
from tests.support.pg import temporary_postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        with Store(f"sqlite:///{tmp_path / 'arconnect.db'}") as s:
            s.migrate()
            yield s
        return
    with temporary_postgres_url("arconnect_serve_obs") as url, Store(url) as s:
        s.migrate()
        yield s


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= logging.ERROR]


@pytest.fixture
def lines() -> Iterator[Lines]:
    logger = logging.getLogger("arconnect.serve")
    handler = Lines()
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=UTC)


def clock(day: int, hour: int) -> Callable[[], datetime]:
    return lambda: at(day, hour)


def test_a_failing_connection_is_reported_once_a_day_not_every_run(store: Store, lines: Lines) -> None:
    message = "sync failed: credential exact-nl was refused; run 'arconnect link exact --name exact-nl'"
    logged = [report_problem(store, "connection:exact-101", "failing", message, now=clock(1, h)) for h in range(8, 20)]
    assert logged == [True] + [False] * 11
    assert lines.errors() == [f"connection:exact-101: {message}"]
    # 23:30 UTC on 1 December is already 2 December in Amsterdam: a new day, one new report
    assert report_problem(store, "connection:exact-101", "failing", message, now=lambda: datetime(2026, 12, 1, 23, 30, tzinfo=UTC))
    assert not report_problem(store, "connection:exact-101", "failing", message, now=lambda: at(2, 12))
    assert len(lines.errors()) == 2
    (subject, topic, shown, _first, _last, times), = store.notices()
    assert (subject, topic, shown, times) == ("connection:exact-101", "failing", message, 14)


def test_other_connections_and_topics_are_reported_on_their_own(store: Store, lines: Lines) -> None:
    assert report_problem(store, "connection:exact-101", "failing", "down", now=lambda: at(1, 9))
    assert report_problem(store, "connection:exact-202", "failing", "down", now=lambda: at(1, 9))
    assert report_problem(store, "connection:exact-101", "dunning", "not applied", now=lambda: at(1, 9))
    assert len(lines.errors()) == 3


def test_recovery_is_said_once_and_a_new_failure_is_reported_again_the_same_day(store: Store, lines: Lines) -> None:
    assert report_problem(store, "connection:exact-101", "failing", "down", now=lambda: at(1, 9))
    assert report_recovered(store, "connection:exact-101", "failing")
    assert not report_recovered(store, "connection:exact-101", "failing")
    assert report_problem(store, "connection:exact-101", "failing", "down again", now=lambda: at(1, 10))
    assert [r.getMessage() for r in lines.records if r.levelno == logging.WARNING] == ["connection:exact-101: failing resolved"]
    assert store.notices()[0][2] == "down again"


def test_of_many_runners_seeing_the_same_problem_exactly_one_reports_it(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def runner() -> None:
        with Store(url) as own:  # a store per runner, as in separate processes
            barrier.wait()
            results.append(own.notice("connection:exact-101", "failing", "down", at(1, 9).date()))

    threads = [threading.Thread(target=runner) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False] * 5 + [True]


def test_json_logs_are_one_object_per_line_and_carry_no_secrets() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging("json", stream=stream)
    try:
        logger = logging.getLogger("arconnect.jobs")
        logger.info("token response: refresh_token=r3fr3sh-S3CRET&expires_in=600 for %s", "exact-nl",
                    extra={"subject": "credential:exact-nl", "authorization": "Bearer aXs-T0KEN-123", "api_calls": 7})
        logger.warning('payload {"access_token": "aXs-T0KEN-456", "client_secret": "cl13nt-S3CRET"}')
        logger.error("header Authorization: Bearer aXs-T0KEN-789 refused")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    text = stream.getvalue()
    for secret in ("r3fr3sh-S3CRET", "aXs-T0KEN-123", "aXs-T0KEN-456", "cl13nt-S3CRET", "aXs-T0KEN-789"):
        assert secret not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert [e["level"] for e in entries] == ["info", "warning", "error"]
    first = entries[0]
    assert first["message"] == "token response: refresh_token=***&expires_in=600 for exact-nl"
    assert (first["subject"], first["authorization"], first["api_calls"]) == ("credential:exact-nl", "***", 7)
    assert first["logger"] == "arconnect.jobs" and ":" in first["runner"]
    datetime.fromisoformat(first["time"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code=abc123&state=xyz", "code=***&state=xyz"),
        ("Authorization: Bearer eyJhbGciOi.J9", "Authorization: Bearer ***"),
        ("refresh_token: 'zz99'", "refresh_token: '***'"),
        ("synced 40 records, 12 API calls", "synced 40 records, 12 API calls"),
    ],
)
def test_scrub_hides_values_of_sensitive_names_only(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_package_data_in_a_log_message_cannot_forge_a_line_or_reach_the_terminal(log_format: str) -> None:
    stream = io.StringIO()
    handler = setup_logging("json" if log_format == "json" else "text", stream=stream)
    try:
        logging.getLogger("arconnect.test").warning(
            "debtor %s quarantined", "Klant\r\n2026-12-05 10:00:00 ERROR forged line\x1b[2J\u202e B.V."
        )
    finally:
        logging.getLogger().removeHandler(handler)
    written = stream.getvalue()
    assert written.count("\n") == 1 and written.endswith("\n")
    assert "\x1b" not in written and "\u202e" not in written and "\r" not in written
    if log_format == "json":
        assert "forged line" in json.loads(written)["message"]
