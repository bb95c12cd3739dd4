"""Paging that cannot loop: the guard every adapter's paginator uses (issue 15 point 1).

A package that sends the same next link twice (Exact's ``__next``, Moneybird's ``Link: rel="next"``,
Twinfield's and Adsolut's page numbers or cursors) would otherwise be followed forever, at the
package's rate limit, burning the day's call budget. A sync cursor that does not move while rows
keep arriving (Exact's ``Timestamp`` read from a quoted Int64 the adapter could not parse) silently
turns every incremental sync into a full one. Both stop here with one :class:`PagingError` line.

* :class:`NextLinkGuard` remembers every link or cursor followed in one listing; one that comes back
  (the link that was just followed, or any earlier one) is refused before it is requested again. So a
  list that repeats its link costs exactly one repeated call, never more. An optional page ceiling
  (from a total the package announced) stops a listing whose links do change but never end.
* :func:`require_cursor_advance` is the check for incremental feeds: rows arrived, so the cursor
  must be past where it was.
"""

from __future__ import annotations

from collections.abc import Hashable

from connector.errors import PagingError


class NextLinkGuard:
    """Follow one listing's next links or cursors, refusing any that repeats."""

    def __init__(self, package: str, endpoint: str, *, max_pages: int | None = None) -> None:
        self.package = package
        self.endpoint = endpoint
        self.max_pages = max_pages
        self.pages = 0
        self._seen: set[Hashable] = set()

    def start(self, first: Hashable) -> None:
        """The first link or cursor of the listing (a next link equal to it is a repeat too)."""
        self._seen.add(first)

    def follow(self, link: Hashable | None) -> Hashable | None:
        """Count one page received; return ``link`` when it may be followed (None ends the listing)."""
        self.pages += 1
        if link is None:
            return None
        if link in self._seen:
            raise PagingError(
                f"{self.package}: {self.endpoint} sent the same next page again after {self.pages} "
                "page(s); stopped instead of reading it forever"
            )
        if self.max_pages is not None and self.pages >= self.max_pages:
            raise PagingError(
                f"{self.package}: {self.endpoint} still had a next page after {self.pages} page(s), more than "
                "its total allows; stopped instead of reading on"
            )
        self._seen.add(link)
        return link


def require_cursor_advance(package: str, endpoint: str, before: object, after: object, rows: int) -> None:
    """An incremental feed returned ``rows`` rows: its cursor must have moved past ``before``."""
    if rows and after == before:
        raise PagingError(
            f"{package}: {endpoint} returned {rows} row(s) but its cursor stayed at {before}; "
            "stopped instead of reading the same rows again"
        )
