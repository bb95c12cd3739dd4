"""End to end over real sockets: the Twinfield sandbox on 127.0.0.1 (login) and localhost (cluster)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from adapters.twinfield.sandbox import serve_twinfield
from connector import config as cfg
from connector.auth import open_secret_store
from connector.cli.demo import free_port, press_allow
from connector.runtime import link_package, sync_one
from connector.store import Store


def test_link_and_sync_two_offices_over_loopback(tmp_path: Path, arconnect_home: Path) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    server = serve_twinfield(0, seed=3, client_id="loop-client", client_secret="loop-secret", redirect_uri=redirect)
    store = Store(f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}")
    store.migrate()
    try:
        def browser(url: str) -> None:
            def run() -> None:
                with httpx.Client(timeout=10) as real:
                    real.get(press_allow(real, url))

            threading.Thread(target=run, daemon=True).start()

        connections = link_package(
            "twinfield", region="nl", client_id="loop-client", redirect_uri=redirect, credential_name="twf-loop",
            host=server.url, open_browser=True, divisions=[], say=lambda text: None, opener=browser,
            client_secret_value="loop-secret",
        )
        assert len(connections) == 2
        for connection in connections:
            result = sync_one(cfg.load_config(), connection, store, open_secret_store())
            assert result.error is None and result.rate_limited == 0
            truth = {f"{ln.code}/{ln.number}/{ln.line}": ln.open for ln in server.app.book(connection.administration).open_lines()}  # type: ignore[attr-defined]
            assert {i.source_id: i.open.amount for i in store.open_items(connection.name)} == truth
        # discovery really happened: SOAP went to the cluster host, not to the login host
        assert server.app.calls["processxml"] > 0 and server.app.calls["accesstokenvalidation"] > 0
    finally:
        store.close()
        server.stop()
