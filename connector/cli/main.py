"""The ``arconnect`` command line (typer + rich): the app and the console-script entry.

Every command ends in one clear line on failure and a non-zero exit, never a traceback:
:func:`main` turns :class:`~connector.errors.ArconnectError` into ``error: …`` with the error's
exit code. ``ARCONNECT_DEBUG=1`` shows tracebacks of unexpected errors for developers.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from connector.cli import apply, connections, costs, demo, desk, journal, kpi, reports, rules, runs, sandbox, serve
from connector.cli.console import err
from connector.errors import ArconnectError

app = typer.Typer(
    name="arconnect",
    help="Credit management for Exact Online, Moneybird, Twinfield and Adsolut.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging (secrets stay redacted).")] = False) -> None:
    _setup_logging(verbose)


# Each command group lives in a module of its own and adds its commands to ``app``; the order
# here is the order of ``arconnect --help``.
for _module in (connections, reports, kpi, rules, apply, desk, journal, runs, costs, serve, sandbox, demo):
    _module.register(app)


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: one clear line and an exit code for every expected failure."""
    try:
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except ArconnectError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("ARCONNECT_DEBUG"):
            raise
        if isinstance(exc, typer.TyperException):  # usage errors: typer's own one-line message
            show = getattr(exc, "show", None)
            if callable(show):
                show()
            else:
                err.print(f"error: {exc.format_message()}", markup=False, highlight=False)
            sys.exit(exc.exit_code)
        err.print(f"internal error: {type(exc).__name__}: {exc} (set ARCONNECT_DEBUG=1 for details)", markup=False)
        sys.exit(70)
