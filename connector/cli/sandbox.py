"""``arconnect sandbox <package>``: one command per package whose PackageSpec declares a simulator."""

# No ``from __future__ import annotations``: the options' help texts and defaults come from each
# package's SandboxSpec, so the annotations must be evaluated where the command is built.


import threading
from typing import Annotated

import typer

from connector.cli.console import out
from connector.errors import ConfigError
from connector.packages import PackageSpec, known_packages, package_spec

sandbox_app = typer.Typer(help="Run a package simulator on 127.0.0.1.", no_args_is_help=True)


def _valid_size(size: str) -> str:
    if size not in ("small", "medium", "large") and not (size.isdigit() and int(size) > 0):
        raise ConfigError(f"--size: use small, medium, large or a positive number, not {size!r}")
    return size


def _command(spec: PackageSpec) -> None:
    assert spec.sandbox is not None
    sandbox = spec.sandbox

    def run(
        port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one)")] = sandbox.default_port,
        seed: Annotated[int, typer.Option(help="Seed of the generated data")] = 42,
        size: Annotated[str, typer.Option(help=sandbox.size_help)] = "small",
        client_id: Annotated[str, typer.Option(help="Client id of the registered app")] = "arconnect-demo",
        client_secret: Annotated[str, typer.Option(help="Client secret of the registered app")] = "demo-secret",
        redirect_uri: Annotated[str, typer.Option(help="Redirect URI of the registered app")] = "http://127.0.0.1:8765/callback",
    ) -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(f"--port: not a port number: {port}")
        try:
            server = sandbox.serve(port, seed, _valid_size(size), client_id, client_secret, redirect_uri)
        except OSError as exc:
            raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; "
                              "stop what uses it or pick another port with --port (0 picks a free one)") from None
        out.print(f"{spec.title} sandbox on {server.url} (client id {client_id}, redirect {redirect_uri}); Ctrl-C stops it",
                  markup=False, highlight=False)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            server.stop()

    run.__doc__ = f"Serve the {spec.title} simulator on 127.0.0.1 until Ctrl-C."
    sandbox_app.command(spec.name)(run)


def register(app: typer.Typer) -> None:
    for name in known_packages():
        try:
            spec = package_spec(name)
        except ConfigError:
            continue  # a folder without a working PackageSpec offers no simulator
        if spec.sandbox is not None:
            _command(spec)
    app.add_typer(sandbox_app, name="sandbox")
