"""What every command shares: the two consoles and small parsers for option values.

Text from a package (names, addresses, references, reasons that quote them) is hostile: it reaches
the terminal only through :func:`safe` (table cells, markup strings) or :func:`plain` (printed with
``markup=False``), which remove control and bidi characters and escape Rich markup
(:mod:`connector.escaping`).
"""

from __future__ import annotations

import os
import sys
from datetime import date

from rich.console import Console

from connector.errors import ConfigError
from connector.escaping import NAME_LIMIT, plain
from connector.escaping import for_markup as safe

__all__ = ["NAME_LIMIT", "err", "out", "parse_date", "plain", "safe"]

# Piped output (CI logs, `| less`) gets room for an aging table instead of rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 132)
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long


def parse_date(value: str, option: str) -> date:
    """A YYYY-MM-DD option value, or one clear error naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None
