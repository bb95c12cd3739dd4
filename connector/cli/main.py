"""The ``arconnect`` command line (typer + rich): the app and the console-script entry.

Every command ends in one clear line on failure and a non-zero exit, never a traceback:
:func:`main` turns :class:`~connector.errors.ArconnectError` into ``error: …`` with the error's
exit code. ``ARCONNECT_DEBUG=1`` shows tracebacks of unexpected errors for developers.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated, Any

import typer
import typer.core

from connector.cli import apply, connections, costs, demo, desk, journal, kpi, reports, rules, runs, sandbox, serve
from connector.cli.console import err, plain
from connector.errors import ArconnectError


def _value_label(param: typer.core.TyperOption | typer.core.TyperArgument, ctx: Any) -> str | None:
    """What ``--help`` shows after a parameter: nothing for a flag or an argument (its name says
    it), ``DATE``-style for an option's value; never typer's Python type tags (``<bool>``, ``<str>``)."""
    if param.metavar is not None:
        return param.metavar
    if isinstance(param, typer.core.TyperArgument) or getattr(param, "is_flag", False):
        return None
    long = [opt for opt in param.opts if opt.startswith("--")]
    return (long[0][2:] if long else param.name or "value").upper()


# typer has no setting for this: its help asks each parameter for the label.
typer.core.TyperOption.display_type_rich = _value_label  # type: ignore[method-assign,assignment]
typer.core.TyperArgument.display_type_rich = _value_label  # type: ignore[method-assign,assignment]

app = typer.Typer(
    name="arconnect",
    help="Credit management for Exact Online, Moneybird, Twinfield and Adsolut.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _setup_logging(verbose: bool) -> None:
    from connector.serve.observability import ScrubbingFormatter

    level = logging.DEBUG if verbose else logging.WARNING
    handler = logging.StreamHandler()
    handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("arconnect")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        typer.echo(f"arconnect {number}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging (secrets stay redacted).")] = False,
    _version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_show_version, help="Print the version and exit.")] = False,
) -> None:
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
        err.print(f"error: {plain(exc)}", markup=False, highlight=False)
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
        err.print(f"internal error: {type(exc).__name__}: {plain(exc)} (set ARCONNECT_DEBUG=1 for details)", markup=False)
        sys.exit(70)
