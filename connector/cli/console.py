"""What every command shares: the two consoles and small parsers for option values.

Text from a package (names, addresses) is printed with ``markup=False`` or escaped, never as
Rich markup.
"""

from __future__ import annotations

import os
import sys
from datetime import date

from rich.console import Console

from connector.errors import ConfigError

# Piped output (CI logs, `| less`) gets room for an aging table instead of rich's 80 columns.
out = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 132)
err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however long


def parse_date(value: str, option: str) -> date:
    """A YYYY-MM-DD option value, or one clear error naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None
