"""What a headless arconnect says about itself (issue 6 §5).

* :func:`setup_logging`: plain text or one JSON object per line (``--log-format json``). Every line
  passes :func:`scrub`, so a token, code, secret or Authorization header that slipped into a
  message or an ``extra`` field is shown as ``***``.
* :func:`report_problem` / :func:`report_recovered`: a failing connection or credential is logged
  at ERROR **once per day** (Europe/Amsterdam), however often it fails; the ``notices`` table
  (migration 0002) makes that hold across every process and machine on one database.
* Runs themselves are recorded by the store (``runs``: start, end, outcome, counts, API calls,
  429s, runner); ``arconnect status`` shows them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from connector.escaping import plain
from connector.store import Store
from connector.store.lease import runner_id

log = logging.getLogger("arconnect.serve")

REPORT_TZ: Final = ZoneInfo("Europe/Amsterdam")
LogFormat = Literal["text", "json"]

_SECRET_WORDS = r"access_token|refresh_token|id_token|client_secret|code_verifier|password|passphrase|secret|code|token"
#: ``name=value``, ``"name": "value"`` and ``name: value`` forms of a sensitive name.
_PAIR: Final = re.compile(rf"""(?i)\b({_SECRET_WORDS})(["']?\s*[:=]\s*["']?)([^\s&"',;}}]+)""")
_BEARER: Final = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_SENSITIVE_KEY: Final = re.compile(rf"(?i)^({_SECRET_WORDS}|authorization|cookie)$")
#: LogRecord attributes that are not ``extra`` fields.
_RESERVED: Final = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "taskName"}


def scrub(text: str) -> str:
    """``text`` with values of sensitive names and bearer/basic credentials replaced by ``***``."""
    text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} ***", text)


def _field(key: str, value: Any) -> Any:
    if _SENSITIVE_KEY.match(key):
        return "***"
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return scrub(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, runner, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "runner": runner_id(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = _field(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__  # the type only: a traceback may hold secrets
        return json.dumps(entry, default=str)  # ASCII: no control or bidi character from package data


class ScrubbingFormatter(logging.Formatter):
    """The text format, scrubbed the same way; the message is one line without control or bidi
    characters (package data in a message cannot forge a log line or reach the terminal)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        safe = logging.makeLogRecord(vars(record))
        safe.message = plain(record.message)
        return super().formatMessage(safe)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def setup_logging(log_format: LogFormat = "text", level: int = logging.INFO, stream: Any = None) -> logging.Handler:
    """Route every log line through one scrubbing handler on stderr (or ``stream``)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "celery", "kombu", "amqp"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return handler


def report_day(now: datetime | None = None) -> date:
    """The day a report belongs to (Amsterdam), for once-a-day reporting."""
    return (now or datetime.now(UTC)).astimezone(REPORT_TZ).date()


def report_problem(
    store: Store,
    subject: str,
    topic: str,
    message: str,
    *,
    now: Callable[[], datetime] | None = None,
    logger: logging.Logger = log,
) -> bool:
    """Log ``message`` at ERROR unless this problem was already reported today; True when logged.

    ``subject`` is ``connection:<id>`` or ``credential:<name>``; ``topic`` names the problem.
    """
    day = report_day(now() if now else None)
    if not store.notice(subject, topic, message, day):
        logger.debug("%s: %s (already reported today)", subject, message, extra={"subject": subject, "topic": topic})
        return False
    logger.error("%s: %s", subject, message, extra={"subject": subject, "topic": topic, "event": "problem"})
    return True


def report_recovered(store: Store, subject: str, topic: str, *, logger: logging.Logger = log) -> bool:
    """Say once that a reported problem went away; True when there was one."""
    if not store.clear_notice(subject, topic):
        return False
    logger.warning("%s: %s resolved", subject, topic, extra={"subject": subject, "topic": topic, "event": "resolved"})
    return True
