"""Control endpoints of the Twinfield sandbox for benchmarks that run it in another process.

These paths are **not** part of Twinfield's API; they live under ``/_sandbox/`` on the login host
so they can never be mistaken for it, and they are neither charged nor counted as API calls.

* ``GET /_sandbox/stats``: ProcessXml and service calls and credits per request kind (the root of
  the ProcessXml command, ``finder``, ``deletedtransactions``), browse rows served, token
  validations, responses per HTTP status, and per office its customer lines, open lines and
  customers: what a full sync must read at the least.
* ``POST /_sandbox/change`` ``{"percent": 1.0, "seed": 1}``: in every office, as a day of
  bookkeeping would: pay that share of the customer lines' count of open invoices (half in full,
  half in part, each a new bank receipt matched to the invoice) and rename that share of the
  customers. Answers per office what changed and the browse rows an incremental read must return
  (the invoice and its receipt for every payment).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connector.sandbox import Request, Response

if TYPE_CHECKING:
    from adapters.twinfield.sandbox import TwinfieldSandbox

CENT = Decimal("0.01")


def install(app: TwinfieldSandbox) -> None:
    def stats(request: Request) -> Response:
        offices = {
            code: {"lines": len(book.lines), "open": len(book.open_lines()), "customers": len(book.dimensions)}
            for code, book in app.books.items()
        }
        calls: dict[str, int] = {}
        credits: dict[str, int] = {}
        for (kind, _office), n in app.office_calls.items():
            calls[kind] = calls.get(kind, 0) + n
        for (kind, _office), n in app.credits.items():
            credits[kind] = credits.get(kind, 0) + n
        return Response.json({
            "calls": calls, "credits": credits, "rows_served": dict(app.rows_served),
            "validations": app.calls.get("accesstokenvalidation", 0),
            "status": {str(k): v for k, v in app.status_counts.items()}, "offices": offices,
        })

    def change(request: Request) -> Response:
        body: dict[str, Any] = request.json() or {}
        percent = float(body.get("percent", 1.0))
        rng = random.Random(int(body.get("seed", 1)))
        out: dict[str, dict[str, int]] = {}
        for code, book in app.books.items():
            invoices = [ln for ln in book.open_lines()
                        if ln.code == "VRK" and ln.value > 0 and ln.matchstatus == "available" and ln.open == ln.value]
            wanted = min(len(invoices), max(1, round(len(book.lines) * percent / 100)))
            full = part = 0
            for n, line in enumerate(rng.sample(invoices, wanted)):
                if n % 2 == 0:
                    app.pay(code, line, line.open)
                    full += 1
                else:
                    app.pay(code, line, (line.open / 2).quantize(CENT))
                    part += 1
            customers = sorted(book.dimensions)
            renamed = rng.sample(customers, max(1, round(len(customers) * percent / 100)))
            for customer in renamed:
                app.rename(code, customer, f"Gewijzigd {customer} B.V.")
            out[code] = {"paid_in_full": full, "paid_in_part": part, "renamed": len(renamed),
                         "changed_rows": 2 * (full + part)}
        return Response.json(out)

    app.route("GET", "/_sandbox/stats", "_sandbox/stats")(stats)
    app.route("POST", "/_sandbox/change", "_sandbox/change")(change)
