"""The Moneybird sandbox's ``realistic`` switch: answers that vary the way production does (issue 16 point 5).

* fields newer than the spec snapshot (docs/reference/moneybird.md §4: the 2026-11-17 changelog is newer
  than the spec and deprecates ``events`` on contacts): contacts come **without** ``events`` on every other
  row, and records carry optional fields the spec does not list yet (a tolerant reader ignores them);
* nulls where real records have them: a contact's ``email``, ``tax_number``, ``chamber_of_commerce``;
* HTML error pages from the front servers (§9, PICQER #101) with status 503, and a maintenance page with
  status 200, on one API read (a GET or a synchronization POST) of every ``maintenance_every``;
* an access token that lapses: one API read of every ``expire_every`` answers **401** with
  ``WWW-Authenticate: Bearer …, error_description="access token expired"`` and the token is gone, so the
  client refreshes (§2: "refresh on a 401").
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from connector.sandbox import Response, every_nth, periodic_outage

#: Optional fields newer than the spec snapshot; stand-ins for what later releases add (values are nulls
#: or plain defaults, as a field new to old records would be).
NEWER_INVOICE_FIELDS: dict[str, Any] = {"einvoice_status": None, "payment_link_expires_at": None}
NEWER_CONTACT_FIELDS: dict[str, Any] = {"peppol_scheme": None, "is_trusted": False}
CONTACT_NULLS = (("email", 4), ("tax_number", 3), ("chamber_of_commerce", 5))

ERROR_PAGE = ("<!DOCTYPE html><html><head><title>Moneybird</title></head><body>"
              "<h1>We're sorry, but something went wrong.</h1></body></html>")
MAINTENANCE_PAGE = ("<!DOCTYPE html><html><head><title>Moneybird - Onderhoud</title></head><body>"
                    "<h1>Moneybird is even niet bereikbaar</h1><p>We zijn zo terug.</p></body></html>")
EXPIRED_CHALLENGE = 'Bearer realm="Moneybird", error="invalid_token", error_description="access token expired"'


@dataclass(frozen=True)
class Realism:
    newer_fields: bool = True
    nulls: bool = True
    maintenance_every: int = 20
    expire_every: int = 20


def realism_of(realistic: bool | Realism) -> Realism | None:
    if isinstance(realistic, Realism):
        return realistic
    return Realism() if realistic else None


def _stable(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def vary_contact(realism: Realism, contact: dict[str, Any]) -> dict[str, Any]:
    key = str(contact.get("id"))
    if realism.newer_fields:
        contact.update(NEWER_CONTACT_FIELDS)
        if _stable(key) % 2 == 0:
            contact.pop("events", None)
    if realism.nulls:
        for name, every in CONTACT_NULLS:
            if name in contact and _stable(key + name) % every == 0:
                contact[name] = None
    return contact


def vary_invoice(realism: Realism, invoice: dict[str, Any]) -> dict[str, Any]:
    if realism.newer_fields:
        invoice.update(NEWER_INVOICE_FIELDS)
    contact = invoice.get("contact")
    if isinstance(contact, dict):
        vary_contact(realism, contact)
    return invoice


def maintenance(realism: Realism, call: int) -> Response | None:
    return periodic_outage(realism.maintenance_every, call, at=5, page_200=MAINTENANCE_PAGE, page_503=ERROR_PAGE)


def token_expires(realism: Realism, call: int) -> bool:
    return every_nth(realism.expire_every, call, at=17)
