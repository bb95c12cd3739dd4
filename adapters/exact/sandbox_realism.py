"""The Exact sandbox's ``realistic`` switch: answers that vary the way production answers do (issue 16 point 5).

Off, the sandbox sends one tidy form of everything. On, it sends every form the real API (or OData v2) is
known or allowed to send, so the adapter is tested against all of them:

* ``Edm.Int64`` values (``Timestamp``, ``HID``, ``Legislation``) quoted on every other row: OData v2's
  verbose JSON writes Int64 as a string, and several public clients read ``Timestamp`` from one;
* amounts (``Edm.Double``) written as JSON numbers in their shortest form: ``0``, ``9075`` and ``583.6``
  as well as ``583.60`` (a JSON number carries no scale);
* nulls where real account rows have them: ``Language``, ``Email``, ``VATNumber``
  (docs/reference/exact.md §2.7, §6; the public ``crm/Accounts`` fixture has empty ones);
* ``__deferred`` links for navigation properties when no ``$select`` names them (§2.2);
* maintenance: an HTML page with status **200** on one GET of every ``maintenance_every`` and an HTML
  **503** on another (issue 16 point 2: Exact is known to answer both ways);
* an access token that lapses: one GET of every ``expire_every`` finds its token expired and answers
  **401** with ``WWW-Authenticate: Bearer …, error_description="access token expired"`` (the token really is
  expired then, so a refresh is accepted, §1.4).

Every choice is a pure function of the row or of the call's number, so a run is reproducible.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connector.sandbox import Response, every_nth, periodic_outage

#: Navigation properties Exact lists on the simulated entities (§2.2 "A navigation collection comes back as
#: {"__deferred":{"uri":…}} unless $expand is used"; names from the reference's field lists).
NAVIGATION: dict[str, tuple[str, ...]] = {
    "Exact.Web.Api.Models.Account": ("BankAccounts",),
    "Exact.Web.Api.Models.Sync.CRM.Account": ("BankAccounts",),
    "Exact.Web.Api.Models.Documents.Document": ("Attachments",),
}
INT64_FIELDS = frozenset({"Timestamp", "HID", "Legislation"})
AMOUNT_FIELDS = frozenset({
    "AmountDC", "AmountFC", "AmountDiscountDC", "AmountDiscountFC", "TransactionAmountDC", "TransactionAmountFC",
    "RateFC", "Amount", "AmountInTransit", "CreditLineSales", "CreditLinePurchase", "PaymentDiscountPercentage",
})
#: (field, every how many account rows it is null): real account data leaves these empty.
NULLS = (("Language", 3), ("Email", 4), ("VATNumber", 5))

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Exact Online - Onderhoud</title></head><body>"
    "<h1>Exact Online is tijdelijk niet beschikbaar</h1><p>Wegens gepland onderhoud is Exact Online tijdelijk "
    "niet bereikbaar. Probeer het later opnieuw.</p></body></html>"
)


@dataclass(frozen=True)
class Realism:
    """Which variations are on; ``Realism()`` is everything (what ``realistic=True`` means)."""

    quoted_int64: bool = True
    plain_amounts: bool = True
    nulls: bool = True
    deferred: bool = True
    #: one GET in this many answers maintenance (200 HTML; another one 503 HTML); 0 never
    maintenance_every: int = 20
    #: one GET in this many finds its access token expired (401); 0 never
    expire_every: int = 20


def realism_of(realistic: bool | Realism) -> Realism | None:
    if isinstance(realistic, Realism):
        return realistic
    return Realism() if realistic else None


def _number(value: Decimal) -> Decimal | int:
    """The shortest JSON number for an amount: ``0``, ``9075``, ``583.6``."""
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def _stable(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def vary_row(realism: Realism, row: dict[str, Any], type_name: str, position: int, selected: bool) -> dict[str, Any]:
    """One rendered row as production might send it (``position``: its place in the page)."""
    key = str(row.get("ID") or row.get("Code") or row.get("HID") or position)
    for name, value in list(row.items()):
        if realism.quoted_int64 and name in INT64_FIELDS and isinstance(value, int) and position % 2 == 0:
            row[name] = str(value)
        elif realism.plain_amounts and name in AMOUNT_FIELDS and isinstance(value, Decimal) and position % 3 != 1:
            row[name] = _number(value)
    if realism.nulls and "Email" in row and "VATNumber" in row:
        for name, every in NULLS:
            if _stable(key + name) % every == 0:
                row[name] = None
    if realism.deferred and not selected:
        uri = str((row.get("__metadata") or {}).get("uri") or "")
        for name in NAVIGATION.get(type_name, ()):
            row[name] = {"__deferred": {"uri": f"{uri}/{name}"}}
    return row


def maintenance(realism: Realism, call: int) -> Response | None:
    """The maintenance answer for the ``call``-th GET, if this one gets one (200 and 503, both HTML)."""
    return periodic_outage(realism.maintenance_every, call, at=3, page_200=MAINTENANCE_PAGE, page_503=MAINTENANCE_PAGE)


def token_expires(realism: Realism, call: int) -> bool:
    return every_nth(realism.expire_every, call, at=7)


EXPIRED_CHALLENGE = 'Bearer realm="Exact Online", error="invalid_token", error_description="access token expired"'
