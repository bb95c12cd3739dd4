"""Small file helpers shared by the file channels: atomic writes, safe names."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from connector.config import open_private, private_dir


def safe_name(text: str, limit: int = 48) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:limit] or "x"


def key_digest(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:16]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file. The file is
    personal data: 0600 in a 0700 folder, whatever the umask (connector.config.private_dir)."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
