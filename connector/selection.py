"""Which administrations of a link to connect: ``arconnect link --division / --all / --divisions-file``.

An accountant's grant can reach hundreds of administrations (Exact: every client division the user card
allows, docs/reference/exact.md §1.5), so a person chooses them by number, by pattern or from a file:

* an entry without ``*``, ``?`` or ``[`` is an administration's id exactly (Exact: the division number)
  and must be granted;
* an entry with them is a shell-style pattern matched, ignoring case, against the id and the name
  (``--division '12*'``, ``--division '*holding*'``), and must match at least one;
* no entry connects every administration granted (the package's consent page was the choice).

Pure functions: the caller reads the file and the administrations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from connector.errors import ConfigError
from connector.model import Administration

_GLOB = frozenset("*?[")


def is_pattern(entry: str) -> bool:
    return any(ch in _GLOB for ch in entry)


def read_division_file(path: Path) -> list[str]:
    """The entries of a list file: one id or pattern a line; blank lines and ``#`` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the division list ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the division list is not UTF-8 text") from None
    entries: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if any(ch.isspace() for ch in entry) and not is_pattern(entry):
            raise ConfigError(f"{path}:{number}: one division number or pattern a line, got {entry!r}")
        entries.append(entry)
    if not entries:
        raise ConfigError(f"{path}: the division list names no division")
    return entries


def choose(administrations: Sequence[Administration], entries: Iterable[str]) -> list[Administration]:
    """The administrations the entries select, in the order they were read, each once.

    ConfigError names every id that is not granted and every pattern that matches nothing.
    """
    wanted = [e.strip() for e in entries if e.strip()]
    if not wanted:
        return list(administrations)
    by_id = {a.source_id: a for a in administrations}
    chosen: set[str] = set()
    missing: list[str] = []
    empty: list[str] = []
    for entry in wanted:
        if not is_pattern(entry):
            if entry in by_id:
                chosen.add(entry)
            else:
                missing.append(entry)
            continue
        needle = entry.casefold()
        hits = [a.source_id for a in administrations
                if fnmatchcase(a.source_id.casefold(), needle) or fnmatchcase(a.name.casefold(), needle)]
        if hits:
            chosen.update(hits)
        else:
            empty.append(entry)
    problems = []
    if missing:
        problems.append(f"not granted by this link: {', '.join(sorted(set(missing)))}")
    if empty:
        problems.append(f"no administration matches {', '.join(repr(p) for p in empty)}")
    if problems:
        raise ConfigError(f"{'; '.join(problems)} ({len(administrations)} administration(s) granted)")
    return [a for a in administrations if a.source_id in chosen]
