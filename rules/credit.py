"""Credit limits: block a debtor above its limit, lift our own block below it (with hysteresis).

Exposure is in the administration's base currency (docs/architecture.md §4) over the buckets a policy
chooses; an item counts once even when it is in several buckets:

* ``open`` — every open item, credit notes and unapplied payments included (negative);
* ``overdue_after_margin`` — items more than ``overdue_margin_days`` past their due date;
* ``disputed`` — items under dispute (in the package or recorded in arconnect).

A debtor above its limit is blocked (unless it already is); a debtor arconnect blocked is
unblocked once exposure falls below ``unblock_below_percent`` of the limit — and only if nothing
else of ours holds the block (an open item at a dunning ``block`` step). A block set by the
bookkeeper is never lifted: only debtors in ``blocks_by_us`` are ever unblocked. A limit read
from the package (``from_package``) is never written back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.model import ActionKind
from rules.schema import CreditLimitPolicy, Rules
from rules.segments import Test, compile_condition
from rules.snapshot import SnapDebtor, SnapItem

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class CreditDecision:
    kind: ActionKind
    policy: str
    limit: Decimal
    exposure: Decimal
    reason: str


class CreditPolicies:
    def __init__(self, rules: Rules) -> None:
        self.policies: list[tuple[CreditLimitPolicy, Test | None]] = [
            (p, None if p.when is None else compile_condition(p.when)) for p in rules.credit_limits
        ]

    def policy_for(self, debtor: SnapDebtor, open_total: Decimal) -> CreditLimitPolicy | None:
        for policy, test in self.policies:
            if test is None or test(debtor, open_total, None, None):
                return policy
        return None


def exposure(
    policy: CreditLimitPolicy,
    items: Iterable[SnapItem],
    run_date: date,
    disputed_ids: frozenset[str],
    open_total: Decimal | None = None,
) -> Decimal:
    """The debtor's exposure over the policy's buckets (``open_total``: the sum of all items, if known)."""
    buckets = set(policy.buckets)
    if "open" in buckets:
        if open_total is not None:
            return open_total
        return sum((item.open_base for item in items), Decimal(0))
    overdue = "overdue_after_margin" in buckets
    disputed = "disputed" in buckets
    # Overdue after the margin: more than `margin` days past the due date, i.e. due before this day.
    cutoff = run_date - timedelta(days=policy.overdue_margin_days)
    total = Decimal(0)
    for item in items:
        if (overdue and item.due_date < cutoff) or (disputed and (item.disputed or item.source_id in disputed_ids)):
            total += item.open_base
    return total


def _buckets(policy: CreditLimitPolicy) -> str:
    names = [f"overdue more than {policy.overdue_margin_days} days" if b == "overdue_after_margin" else b for b in policy.buckets]
    return " + ".join(names)


def decide(
    debtor: SnapDebtor,
    policy: CreditLimitPolicy | None,
    items: list[SnapItem],
    *,
    run_date: date,
    currency: str,
    disputed_ids: frozenset[str],
    blocked_by_us: bool,
    held_by_dunning: bool,
    open_total: Decimal | None = None,
) -> list[CreditDecision]:
    """Block / unblock / set-limit decisions for one debtor (pure)."""
    out: list[CreditDecision] = []
    if policy is None:
        if blocked_by_us and debtor.blocked and not held_by_dunning:
            out.append(
                CreditDecision(
                    ActionKind.UNBLOCK, "", Decimal(0), Decimal(0),
                    "arconnect's block no longer has a reason: no credit-limit policy applies and no dunning block step holds",
                )
            )
        return out
    if policy.limit == "from_package":
        if debtor.credit_limit is None or (debtor.credit_limit_currency or currency) != currency:
            return out  # nothing to compare with: the package has no limit (in base currency)
        limit = debtor.credit_limit
    else:
        limit = policy.limit
    amount = exposure(policy, items, run_date, disputed_ids, open_total)
    where = f"policy {policy.name}, {_buckets(policy)}"
    if amount > limit:
        # A block arconnect set and still holds is in force even when the snapshot predates it (an
        # apply without a sync in between); a person lifting it shows in the next sync and ends it.
        if not debtor.blocked and not blocked_by_us:
            out.append(
                CreditDecision(
                    ActionKind.BLOCK, policy.name, limit, amount,
                    f"exposure {currency} {amount:.2f} ({where}) is above the credit limit {currency} {limit:.2f} "
                    f"by {currency} {amount - limit:.2f}",
                )
            )
    else:
        threshold = limit * policy.unblock_below_percent / HUNDRED
        if debtor.blocked and blocked_by_us and amount < threshold and not held_by_dunning:
            out.append(
                CreditDecision(
                    ActionKind.UNBLOCK, policy.name, limit, amount,
                    f"exposure {currency} {amount:.2f} ({where}) is below {policy.unblock_below_percent.normalize():f} % "
                    f"of the credit limit {currency} {limit:.2f} ({currency} {threshold:.2f}): lifting arconnect's block",
                )
            )
    differs = debtor.credit_limit != limit or (debtor.credit_limit_currency or currency) != currency
    if policy.write_limit and policy.limit != "from_package" and differs:
        current = "none" if debtor.credit_limit is None else f"{debtor.credit_limit_currency} {debtor.credit_limit:.2f}"
        out.append(
            CreditDecision(
                ActionKind.SET_CREDIT_LIMIT, policy.name, limit, amount,
                f"policy {policy.name} sets the credit limit to {currency} {limit:.2f} (package has {current})",
            )
        )
    return out
