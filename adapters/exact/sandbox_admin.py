"""Control endpoints of the Exact sandbox for benchmarks that run it in another process.

These paths are **not** part of Exact Online's API; they live under ``/_sandbox/`` so they can
never be mistaken for it, and the benchmarks leave them out of the API call counts.

* ``GET /_sandbox/stats``: calls per endpoint and responses per status, as the sandbox counted them.
* ``POST /_sandbox/reset``: zero those counts.
* ``POST /_sandbox/change`` ``{"division": 101, "percent": 1.0, "seed": 1}``: change that share of
  the division as a day of bookkeeping would: pay open receivable terms (half in full, half in
  part, which splits them) and rename accounts. Answers what it changed.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connector.sandbox import Request, Response

if TYPE_CHECKING:
    from adapters.exact.sandbox import ExactSandbox

ADMIN_PREFIX = "_sandbox/"


def install(app: ExactSandbox) -> None:
    def stats(request: Request) -> Response:
        api_calls = {k: v for k, v in app.calls.items() if not k.startswith(ADMIN_PREFIX)}
        rows = {}
        for code, state in app.divisions.items():
            # Row counts of the sync feeds as the sandbox would serve them from Timestamp gt 1
            # (history and payables included): what a full sync must read at the least.
            rows[str(code)] = {
                "sync/CRM/Accounts": state.accounts.base_count + len(state.accounts.new_ids) - len(state.accounts.deleted),
                "sync/Cashflow/PaymentTerms": state.terms.base_count + len(state.terms.new_ids) - len(state.terms.deleted),
                "sync/Deleted": len(state.deleted.new_ids),
            }
        return Response.json({"calls": api_calls, "status": {str(k): v for k, v in app.status_counts.items()}, "rows": rows})

    def reset(request: Request) -> Response:
        app.reset_counts()
        return Response.json({"ok": True})

    def change(request: Request) -> Response:
        body: dict[str, Any] = request.json() or {}
        division = int(body.get("division", next(iter(app.divisions))))
        percent = float(body.get("percent", 1.0))
        rng = random.Random(int(body.get("seed", 1)))
        state = app.division(division)
        n_terms = state.terms.base_count
        wanted = max(1, int(n_terms * percent / 100))
        paid_full = paid_part = renamed = 0
        tried: set[int] = set()
        while paid_full + paid_part < wanted and len(tried) < n_terms:
            index = rng.randrange(n_terms)
            if index in tried:
                continue
            tried.add(index)
            row = state.terms.get(state.term_ids.guid(index))
            if row is None or row.get("LineType") != 20 or row.get("IsFullyPaid") or row.get("Status") != 20:
                continue
            if Decimal(str(row.get("TransactionAmountFC") or 0)) <= 0:
                continue
            open_fc = abs(Decimal(str(row["AmountFC"])))
            if paid_full <= paid_part:
                app.pay(division, str(row["ID"]), open_fc)
                paid_full += 1
            else:
                app.pay(division, str(row["ID"]), (open_fc / 2).quantize(Decimal("0.01")))
                paid_part += 1
        n_accounts = state.accounts.base_count
        for index in rng.sample(range(n_accounts), max(1, int(n_accounts * percent / 100))):
            account_id = state.account_ids.guid(index)
            if state.accounts.get(account_id) is not None:
                app.update_account(division, account_id, Name=f"Gewijzigd {index} B.V.")
                renamed += 1
        return Response.json({"paid_in_full": paid_full, "paid_in_part": paid_part, "accounts_renamed": renamed})

    app.add_route("GET", "/_sandbox/stats", stats, ADMIN_PREFIX + "stats")
    app.add_route("POST", "/_sandbox/reset", reset, ADMIN_PREFIX + "reset")
    app.add_route("POST", "/_sandbox/change", change, ADMIN_PREFIX + "change")
