"""Control endpoints of the Exact sandbox for benchmarks that run it in another process.

These paths are **not** part of Exact Online's API; they live under ``/_sandbox/`` so they can
never be mistaken for it, and the benchmarks leave them out of the API call counts.

* ``GET /_sandbox/stats``: calls per endpoint, rows served per list endpoint and responses per status, as
  the sandbox counted them, and per division the rows a full read of each sync feed returns.
* ``POST /_sandbox/reset``: zero those counts.
* ``POST /_sandbox/change`` ``{"division": 101, "percent": 1.0, "seed": 1, "new_invoices": 0,
  "deleted_terms": 0}``: change that share of the division as a day of bookkeeping would: pay open
  receivable terms (half in full, half in part, which splits them) and rename accounts; optionally
  book new invoices and delete open terms (which ``sync/Deleted`` then reports). Answers what it changed.
* ``POST /_sandbox/move`` ``{"division": 101}``: move the division to another database (§4: Timestamps
  restart, ``DivisionMoveDate`` is set).
* ``GET /_sandbox/truth?division=101``: what the division holds in common-model terms (see
  :func:`common_model_truth`), for tests that sync from another process. Materialises the division:
  small divisions only.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connector.sandbox import Request, Response

if TYPE_CHECKING:
    from adapters.exact.sandbox import ExactSandbox

ADMIN_PREFIX = "_sandbox/"


def _settled(term: dict[str, Any]) -> bool:
    """§5: a term is paid when ``IsFullyPaid`` or ``Status`` 50 (matched)."""
    return bool(term.get("IsFullyPaid")) or term.get("Status") == 50


def common_model_truth(app: ExactSandbox, division: int) -> dict[str, Any]:
    """The division as the common model should hold it after a complete sync, from the sandbox's state.

    * ``debtors``: the IDs of accounts that can owe us: customers and any account with an open receivable;
    * ``items``: every receivable transaction (terms grouped on ``TransactionEntryID``, §5) → its open
      amount in the transaction currency, owed positive (a credit note or receipt negative), 0 when all
      its terms are paid;
    * ``open_items``: the same restricted to transactions with an open term;
    * ``payments``: the IDs of matched terms of invoices (positive ``TransactionAmountDC``, not a cash-flow
      receipt, with a payment date): the common model's payments (§5 "payments come from what settles a term").
    """
    items: dict[str, Decimal] = {}
    open_groups: set[str] = set()
    payments: list[str] = []
    for term in app.terms(division):
        if term.get("LineType") != 20:
            continue
        group = str(term.get("TransactionEntryID") or term["ID"])
        sign = -1 if Decimal(str(term.get("TransactionAmountFC") or 0)) < 0 else 1
        items.setdefault(group, Decimal(0))
        if _settled(term):
            paid_on = term.get("LastPaymentDate") or term.get("EndDate")
            if Decimal(str(term.get("TransactionAmountDC") or 0)) > 0 and term.get("TransactionType") != 40 and paid_on:
                payments.append(str(term["ID"]))
        else:
            items[group] += sign * abs(Decimal(str(term["AmountFC"])))
            open_groups.add(group)
    owing = {str(t["Account"]) for t in app.open_terms(division)}
    return {
        # Issue 16 point 3: customers (Status C or IsSales), and any other account with an open receivable.
        "debtors": sorted(
            str(a["ID"]) for a in app.accounts(division)
            if str(a.get("Status") or "").strip() == "C" or a.get("IsSales") is True or str(a["ID"]) in owing
        ),
        "items": {k: str(v) for k, v in sorted(items.items())},
        "open_items": {k: str(items[k]) for k in sorted(open_groups)},
        "payments": sorted(payments),
    }


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
        return Response.json({
            "calls": api_calls, "status": {str(k): v for k, v in app.status_counts.items()}, "rows": rows,
            "rows_served": dict(app.rows_served),
        })

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
        accounts = [a for a in (state.accounts.get(state.account_ids.guid(i)) for i in range(min(n_accounts, 200)))
                    if a is not None and a.get("IsSales")]
        today = app.clock.now().date()
        added = 0
        for _ in range(int(body.get("new_invoices", 0))):
            account = accounts[rng.randrange(len(accounts))]
            amount = Decimal(rng.randint(1_000, 500_000)) / 100
            app.add_invoice(division, str(account["ID"]), amount, today, today + timedelta(days=30))
            added += 1
        deleted = 0
        wanted_deleted = int(body.get("deleted_terms", 0))
        for index in rng.sample(range(n_terms), min(n_terms, 50 * wanted_deleted)):
            if deleted >= wanted_deleted:
                break
            row = state.terms.get(state.term_ids.guid(index))
            if row is None or row.get("LineType") != 20 or _settled(row):
                continue
            app.delete_term(division, str(row["ID"]))
            deleted += 1
        return Response.json({
            "paid_in_full": paid_full, "paid_in_part": paid_part, "accounts_renamed": renamed,
            "new_invoices": added, "deleted_terms": deleted,
        })

    def move(request: Request) -> Response:
        body: dict[str, Any] = request.json() or {}
        app.move_division(int(body.get("division", next(iter(app.divisions)))))
        return Response.json({"ok": True})

    def truth(request: Request) -> Response:
        division = int(request.arg("division") or next(iter(app.divisions)))
        with app.state_lock:
            return Response.json(common_model_truth(app, division))

    app.add_route("GET", "/_sandbox/stats", stats, ADMIN_PREFIX + "stats")
    app.add_route("POST", "/_sandbox/reset", reset, ADMIN_PREFIX + "reset")
    app.add_route("POST", "/_sandbox/change", change, ADMIN_PREFIX + "change")
    app.add_route("POST", "/_sandbox/move", move, ADMIN_PREFIX + "move")
    app.add_route("GET", "/_sandbox/truth", truth, ADMIN_PREFIX + "truth")
