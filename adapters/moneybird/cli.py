"""``arconnect sandbox moneybird``: the Moneybird simulator on 127.0.0.1 (registered into connector.cli.main)."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
from rich.console import Console

from connector.errors import ConfigError


def _sandbox_group(app: typer.Typer) -> typer.Typer:
    for group in app.registered_groups:
        if group.name == "sandbox" and group.typer_instance is not None:
            return group.typer_instance
    sandbox = typer.Typer(help="Run a package simulator on 127.0.0.1.", no_args_is_help=True)
    app.add_typer(sandbox, name="sandbox")
    return sandbox


def register(app: typer.Typer) -> None:
    sandbox = _sandbox_group(app)

    @sandbox.command("moneybird")
    def sandbox_moneybird(
        port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one)")] = 8767,
        seed: Annotated[int, typer.Option(help="Seed of the generated data")] = 42,
        size: Annotated[str, typer.Option(help="small, medium, large, or a number of sales invoices")] = "small",
        client_id: Annotated[str, typer.Option(help="Client id of the registered app")] = "arconnect-demo",
        client_secret: Annotated[str, typer.Option(help="Client secret of the registered app")] = "demo-secret",
        redirect_uri: Annotated[str, typer.Option(help="Redirect URI of the registered app")] = "http://127.0.0.1:8765/callback",
    ) -> None:
        """Serve the Moneybird simulator (API v2 and OAuth2) on 127.0.0.1 until Ctrl-C."""
        from adapters.moneybird.sandbox import serve_moneybird

        if not 0 <= port <= 65535:
            raise ConfigError(f"--port: not a port number: {port}")
        if size not in ("small", "medium", "large") and not (size.isdigit() and int(size) > 0):
            raise ConfigError(f"--size: use small, medium, large or a positive number, not {size!r}")
        try:
            server = serve_moneybird(port, seed, size, client_id, client_secret, redirect_uri)
        except OSError as exc:
            raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
        Console().print(
            f"Moneybird sandbox on {server.url} (client id {client_id}, redirect {redirect_uri}); Ctrl-C stops it",
            markup=False, highlight=False,
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            server.stop()
