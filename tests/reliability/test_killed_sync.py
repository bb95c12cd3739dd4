"""A sync killed at random moments and run again loses nothing and stores nothing twice (docs/architecture.md §9).

For real: the Exact sandbox runs in its own process on 127.0.0.1, every sync is ``arconnect sync`` in a
process of its own, and the test SIGKILLs that process at seeded random moments (after a random number
of API calls the sandbox served to it, plus a random fraction of a page). Between rounds the books
change (payments in full and in part, renamed accounts, new invoices, deleted terms) and once the
division moves (§4: Timestamps restart). After a final clean run the store must equal the sandbox's
truth exactly: the same debtors, every invoice with its open amount (open or paid), and every payment.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.cli.demo import DemoBrowser, free_port
from connector.runtime import link_package
from connector.sandbox import wait_for_port
from connector.store import Store
from tests.support.paths import REPO

ROOT = REPO
SEED = 20261130
TERMS = 3000  # 3 pages of payment terms (1000 a page, §2.3) and 120 accounts
ROUNDS = 8
CONNECTION = "exact-101"
SYNC = f"from connector.cli.main import main; main(['sync', '{CONNECTION}'])"
API_ENDPOINTS = ("system/Divisions", "sync/CRM/Accounts", "sync/Cashflow/PaymentTerms", "sync/Deleted")


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def api_calls(self) -> int:
        calls: dict[str, int] = self.http.get("/_sandbox/stats").json()["calls"]
        return sum(calls.get(e, 0) for e in API_ENDPOINTS)

    def change(self, rng: random.Random) -> dict[str, int]:
        body = {"division": 101, "percent": 1.0, "seed": rng.randrange(10**6), "new_invoices": 5, "deleted_terms": 3}
        answer: dict[str, int] = self.http.post("/_sandbox/change", json=body).json()
        return answer

    def move(self) -> None:
        self.http.post("/_sandbox/move", json={"division": 101}).raise_for_status()

    def truth(self) -> dict[str, Any]:
        truth: dict[str, Any] = self.http.get("/_sandbox/truth", params={"division": 101}).json()
        return truth


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    for name, value in (("ARCONNECT_CONFIG_DIR", tmp_path / "config"), ("ARCONNECT_DATA_DIR", tmp_path / "data")):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("ARCONNECT_SECRET_STORE", "plain-file")
    monkeypatch.delenv("ARCONNECT_DATABASE_URL", raising=False)
    port, redirect = free_port(), f"http://127.0.0.1:{free_port()}/callback"
    # The limits are raised so that the rounds do not wait for the minute to turn; what is tested is the
    # kill and the resume, not the pacing (bench/sync_exact.py runs at the real limits).
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.exact.sandbox", "--port", str(port), "--size", str(TERMS), "--seed", "5",
         "--redirect-uri", redirect, "--minutely", "100000", "--daily", "100000"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        url = f"http://127.0.0.1:{port}"
        link_package(
            "exact", region="nl", client_id="arconnect-demo", redirect_uri=redirect, credential_name="reliability",
            host=url, open_browser=True, divisions=["101"], say=lambda s: None, opener=DemoBrowser(),
            client_secret_value="demo-secret",
        )
        yield Sandbox(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_sync(sandbox: Sandbox, kill_after_calls: int | None, extra: float) -> tuple[bool, int]:
    """Run ``arconnect sync`` in its own process; SIGKILL it once the sandbox served it
    ``kill_after_calls`` API calls, ``extra`` seconds later. Returns (killed while running, exit code)."""
    start = sandbox.api_calls()
    child = subprocess.Popen([sys.executable, "-c", SYNC], cwd=ROOT, env=os.environ.copy(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after_calls is None:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
        return False, 0
    deadline = time.monotonic() + 30
    while child.poll() is None and sandbox.api_calls() - start < kill_after_calls and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(extra)
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    return child.returncode == -signal.SIGKILL, child.returncode


def stored(data_dir: Path) -> dict[str, Any]:
    store = Store(f"sqlite:///{data_dir / 'arconnect.db'}")
    try:
        items = {i.source_id: i for i in store.open_items(CONNECTION, include_closed=True)}
        return {
            "debtors": sorted(d.source_id for d in store.debtors(CONNECTION)),
            "items": {k: v.open.amount for k, v in items.items()},
            "open_items": {k: v.open.amount for k, v in items.items() if v.status.value == "open"},
            "payments": sorted(p.source_id for p in store.payments(CONNECTION)),
        }
    finally:
        store.close()


def test_a_sync_killed_at_random_moments_then_run_again_equals_the_sandbox_truth(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    killed_mid_sync = 0
    # How many calls a sync of this division serves: 6 for the first full one (1 Divisions, 1 accounts,
    # 3 term pages, 1 Deleted); fewer once earlier rounds stored pages. The kill lands before the last.
    calls_per_sync = 6
    for round_no in range(ROUNDS):
        if round_no in (3, 6):
            sandbox.change(rng)
        if round_no == 5:
            sandbox.move()  # §4: the next runs must resync from Timestamp gt 1, and are killed while at it
        before = sandbox.api_calls()
        killed, code = run_sync(sandbox, kill_after_calls=rng.randint(1, max(1, calls_per_sync - 1)),
                                extra=rng.uniform(0.0, 0.1))
        if not killed:
            calls_per_sync = sandbox.api_calls() - before
        killed_mid_sync += killed
        assert code in (0, -signal.SIGKILL)
    assert killed_mid_sync >= ROUNDS // 2, "the kills must land while syncs run, or this test proves nothing"

    sandbox.change(rng)
    run_sync(sandbox, kill_after_calls=None, extra=0)  # the clean run

    truth, mine = sandbox.truth(), stored(tmp_path / "data")
    assert mine["debtors"] == truth["debtors"]  # nothing lost, nothing extra
    assert mine["items"] == {k: Decimal(v) for k, v in truth["items"].items()}  # each invoice once, right amount
    assert mine["open_items"] == {k: Decimal(v) for k, v in truth["open_items"].items()}
    assert mine["payments"] == truth["payments"]
    assert len(truth["open_items"]) > 500
