"""One "process" of the cross-process refresh race (run by test_processes.py, not collected by pytest).

Usage: python -m tests.connector.auth.race_child HOST REDIRECT_URI GO_FILE CLOCK_OFFSET_SECONDS
Environment: ARCONNECT_DATA_DIR, ARCONNECT_SECRET_STORE and its passphrase, as the test sets them.

It loads the shared credential, says "ready", waits for GO_FILE, calls the API once and prints
the status. The clock is the wall clock plus the test's offset (the provider's clock).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from connector.auth import CredentialAuth, open_secret_store
from connector.config import CredentialConfig
from connector.errors import ArconnectError
from tests.connector.auth.oauth_app import CLIENT_ID, EXACT_PROFILE


def main(host: str, redirect_uri: str, go_file: str, offset: float) -> int:
    credential = CredentialConfig(name="exact-race", package="exact", host=host, client_id=CLIENT_ID,
                                  redirect_uri=redirect_uri)

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=offset)

    store = open_secret_store()
    with httpx.Client(timeout=20) as token_http, httpx.Client(base_url=host, timeout=20) as api:
        auth = CredentialAuth(credential, EXACT_PROFILE, store, token_http, clock)
        print("ready", flush=True)
        go = Path(go_file)
        while not go.exists():
            time.sleep(0.005)
        try:
            status = api.get("/api/me", auth=auth).status_code
        except ArconnectError as exc:
            print(f"error {type(exc).__name__}: {exc}", flush=True)
            return 1
    print(f"status {status}", flush=True)
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
