"""Benchmark: the same full sync of the same Exact sandbox data by arconnect and by each peer client that can do it.

Issue 16 point 7. One :class:`ExactSandbox` division (``--terms`` payment terms, one account per 25 terms) is
served over TLS on 127.0.0.1 (the peer client only speaks HTTPS; see tests/adapters/exact/peer/conftest.py)
with limits high enough that nobody waits for the rate limiter: what is compared is calls, time and memory,
not Exact's 60-a-minute pacing. Each client runs in a process of its own (so its peak RSS is its own), links
through the consent page and its own code exchange, then reads the division:

* **arconnect**: ``connector.sync.sync_connection`` over :class:`ExactAdapter` into a SQLite store: accounts
  and payment terms from the sync feeds (1000 a page, history and payables included, §2.3/§4) and
  ``sync/Deleted``, plus the fixed ``system/Divisions`` call;
* **exactonline** (PyPI 0.4.0, ossobv; unmodified, configured only through its documented ini file):
  ``relations.all()`` and ``receivables.all()`` (``read/financial/ReceivablesList``, 60 a page), once with
  its default ``iteration_limit`` (50 pages) and once with the limit raised so it can finish.

Peers that cannot run here (said in the table's notes): ``tap-exactonline`` (every release on PyPI requires
Python < 3.11; this machine and arconnect run 3.11) and ``moneysnake`` (every release requires Python ≥ 3.12).

Calls are the sandbox's own count (token calls included); time is the client's wall time from consent to the
last row (its libraries already imported); RSS the client process's peak.
Ratios are the peer's value divided by arconnect's.

    .venv/bin/python bench/peers.py [--terms 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIVISION = 301
NOT_HERE = {
    "tap-exactonline": "not installable here: every release on PyPI (up to 0.2.24) requires Python >=3.7.1,<3.11; "
                       "this machine has Python 3.11.7 only (no 3.10 in Debian's packages here) and arconnect requires >=3.11",
    "moneysnake": "not installable here: every release on PyPI (up to 0.5.4) requires Python >=3.12; this machine has "
                  "Python 3.11.7 only and Debian's packages here offer no 3.12",
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- children (one client each)


def run_arconnect(url: str, cert: str, workdir: Path) -> dict[str, Any]:
    import httpx

    from adapters.exact.adapter import ExactAdapter
    from adapters.exact.client import EXACT_HTTP
    from connector.http import ApiClient
    from connector.ratelimit import RateLimiter
    from connector.runtime import StoreStateReader
    from connector.store import Store
    from connector.sync import sync_connection
    from tests.adapters.exact.peer.conftest import CLIENT_ID, REDIRECT, SECRET, code_from, consent

    verify = ssl.create_default_context(cafile=cert)
    with httpx.Client(verify=verify, timeout=30) as browser:
        location = consent(browser, f"{url}/api/oauth2/auth?client_id={CLIENT_ID}&redirect_uri={REDIRECT}"
                                    "&response_type=code&state=bench")
        token = browser.post(f"{url}/api/oauth2/token", data={
            "grant_type": "authorization_code", "code": code_from(location), "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID, "client_secret": SECRET}).json()["access_token"]
    store = Store(f"sqlite:///{workdir / 'arconnect.db'}")
    store.migrate()
    store.ensure_connection("exact-bench", "exact", "Bench")
    http = httpx.Client(base_url=url, verify=verify, timeout=60, headers={"Authorization": f"Bearer {token}"})
    api = ApiClient(http, EXACT_HTTP, limiter_key="bench", limiter=RateLimiter())
    adapter = ExactAdapter(api, connection_id="exact-bench", division=str(DIVISION),
                           state=StoreStateReader(store, "exact-bench"))
    sync_connection(adapter, store, "exact-bench")
    rows = {"debtors": sum(1 for _ in store.debtors("exact-bench")),
            "open items": sum(1 for _ in store.open_items("exact-bench"))}
    store.close()
    return {"rows": rows}


def run_exactonline(url: str, cert: str, workdir: Path, iteration_limit: int | None) -> dict[str, Any]:
    os.environ["SSL_CERT_FILE"] = cert  # the client trusts certificates the ordinary way
    import httpx
    from exactonline.api import ExactApi  # type: ignore[import-untyped]
    from exactonline.storage.ini import IniStorage  # type: ignore[import-untyped]

    from tests.adapters.exact.peer.conftest import code_from, consent, write_ini

    ini = write_ini(workdir / "exactonline.ini", url)
    if iteration_limit is not None:  # its documented [application] iteration_limit setting
        ini.write_text(ini.read_text().replace("iteration_limit = 50", f"iteration_limit = {iteration_limit}"))
    else:
        ini.write_text(ini.read_text().replace("iteration_limit = 50\n", ""))  # its default (50)
    client = ExactApi(storage=IniStorage(str(ini)))
    with httpx.Client(verify=ssl.create_default_context(cafile=cert), timeout=30) as browser:
        location = consent(browser, client.create_auth_request_url())
    client.request_token(code_from(location))
    client.set_division(DIVISION)
    rows: dict[str, int] = {}
    try:
        rows["debtors"] = len(client.relations.all())
        rows["open items"] = len(client.receivables.all())
    except ValueError as exc:  # Unwrap: "Iteration 50 limit reached!"
        return {"rows": rows, "error": str(exc).split(" Last resource")[0]}
    return {"rows": rows}


def child(name: str, url: str, cert: str) -> None:
    # Imports first: the time measured is the link and the sync, not the interpreter loading libraries.
    import httpx  # noqa: F401

    import tests.adapters.exact.peer.conftest  # noqa: F401
    if name == "arconnect":
        import connector.store
        import connector.sync  # noqa: F401
        from adapters.exact import adapter  # noqa: F401
    else:
        import exactonline.api  # type: ignore[import-untyped]  # noqa: F401
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        if name == "arconnect":
            result = run_arconnect(url, cert, Path(tmp))
        elif name == "exactonline":
            result = run_exactonline(url, cert, Path(tmp), None)
        else:
            result = run_exactonline(url, cert, Path(tmp), 100_000)
        result["wall"] = time.perf_counter() - started
        result["rss"] = peak_rss_mb()
    print(json.dumps(result))


# --------------------------------------------------------------------------- parent: sandbox and table


CLIENTS = (
    ("arconnect", "arconnect"),
    ("exactonline", "exactonline 0.4.0, default settings"),
    ("exactonline-unlimited", "exactonline 0.4.0, iteration_limit raised"),
)


def ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:.1f}" if value and base else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--cert", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.cert)
        return

    from datetime import UTC, datetime

    from adapters.exact.sandbox import DivisionSpec, ExactSandbox
    from connector.sandbox import SandboxClock
    from tests.adapters.exact.peer.conftest import CLIENT_ID, REDIRECT, SECRET, _self_signed, serve_tls

    spec = DivisionSpec(code=DIVISION, description="Peers B.V.", accounts=max(10, args.terms // 25), terms=args.terms)
    app = ExactSandbox(divisions=(spec,), clock=SandboxClock(datetime(2025, 3, 12, 10, 15, 5, tzinfo=UTC)),
                       minutely_limit=10_000_000, daily_limit=100_000_000, token_daily_limit=10_000)
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    open_terms = len(app.open_terms(DIVISION))
    with tempfile.TemporaryDirectory() as tmp:
        certificate = _self_signed(Path(tmp))
        server, url = serve_tls(app, certificate)
        results: list[tuple[str, dict[str, Any], int]] = []
        try:
            for name, label in CLIENTS:
                app.reset_counts()
                out = subprocess.run([sys.executable, __file__, "--child", name, "--url", url,
                                      "--cert", str(certificate.cert)], capture_output=True, text=True, check=False)
                if out.returncode != 0:
                    results.append((label, {"error": out.stderr.strip().splitlines()[-1], "rows": {}}, sum(app.calls.values())))
                    continue
                results.append((label, json.loads(out.stdout.strip().splitlines()[-1]), sum(app.calls.values())))
        finally:
            server.shutdown()
            server.server_close()

    print(f"Full sync of one Exact division: {args.terms:,} payment terms ({open_terms:,} open), "
          f"{spec.accounts:,} accounts; sandbox over TLS on 127.0.0.1, no rate-limit waits.\n")
    base = results[0]
    header = f"{'client':44} {'calls':>7} {'wall s':>8} {'peak RSS MB':>12}   {'calls ×':>8} {'time ×':>7} {'RSS ×':>6}  rows"
    print(header)
    print("-" * len(header))
    for label, result, calls in results:
        wall, rss = result.get("wall"), result.get("rss")
        rows = ", ".join(f"{k} {v:,}" for k, v in result.get("rows", {}).items())
        error = f"  STOPPED: {result['error']}" if result.get("error") else ""
        print(f"{label:44} {calls:>7,} {wall or 0:>8.1f} {rss or 0:>12.0f}   {ratio(calls, base[2]):>8} "
              f"{ratio(wall, base[1].get('wall')):>7} {ratio(rss, base[1].get('rss')):>6}  {rows}{error}")
    print()
    for peer, why in NOT_HERE.items():
        print(f"{peer}: {why}")


if __name__ == "__main__":
    main()
