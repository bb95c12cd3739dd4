"""One "machine" of the several-machines refresh race (run by test_database_store.py, not collected by pytest).

Usage: python -m tests.connector.auth.machine_child HOST REDIRECT_URI GO_FILE CLOCK_OFFSET_SECONDS default|file
Environment: its own ARCONNECT_DATA_DIR (so its own lock files), and the shared ARCONNECT_DATABASE_URL,
ARCONNECT_SECRET_STORE=database and ARCONNECT_SECRETS_PASSPHRASE, as the test sets them.

Like race_child.py: it opens the secret store, says which credential lock it got and "ready", waits for
GO_FILE, calls Exact's ``current/Me`` once and prints the status. ``default`` leaves the lock to
CredentialAuth (what ``arconnect serve`` does); ``file`` forces this machine's file lock (the control:
what a credential shared by two machines had before). The clock is the wall clock plus the test's
offset (the sandbox's clock).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from adapters.exact.client import OAUTH
from connector.auth import CredentialAuth, FileCredentialLocks, open_secret_store
from connector.config import CredentialConfig
from connector.errors import ArconnectError

CREDENTIAL_NAME = "exact-machines"
CLIENT_ID = "arconnect-machines-test"


def main(host: str, redirect_uri: str, go_file: str, offset: float, locks: str) -> int:
    credential = CredentialConfig(name=CREDENTIAL_NAME, package="exact", host=host, client_id=CLIENT_ID,
                                  redirect_uri=redirect_uri)

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=offset)

    store = open_secret_store()
    with httpx.Client(timeout=20) as token_http, httpx.Client(base_url=host, timeout=20) as api:
        auth = CredentialAuth(credential, OAUTH, store, token_http, clock,
                              locks=FileCredentialLocks() if locks == "file" else None)
        print(f"locks {type(auth.locks).__name__}", flush=True)
        print("ready", flush=True)
        go = Path(go_file)
        while not go.exists():
            time.sleep(0.005)
        try:
            status = api.get("/api/v1/current/Me", auth=auth, headers={"Accept": "application/json"}).status_code
        except ArconnectError as exc:
            print(f"error {type(exc).__name__}: {exc}", flush=True)
            return 1
    print(f"status {status}", flush=True)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]))
