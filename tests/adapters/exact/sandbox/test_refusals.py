"""403 answers with a ``Reason`` header (docs/reference/exact.md §2.8, PQ PR#451 quoting Exact's docs).

The documented reasons are ``BlockedUser``, ``InactiveUser``, ``BlockedCustomer``, ``LicenseExpired``,
``DivisionBlocked`` and ``NoDivisionAccess``; the body is the usual OData error.
"""

from __future__ import annotations

import httpx
import pytest

from adapters.exact.sandbox import ExactSandbox

from .conftest import BE, NL

ACCOUNTS = "/api/v1/{d}/crm/Accounts"


@pytest.mark.parametrize("reason", ["BlockedUser", "InactiveUser", "BlockedCustomer", "LicenseExpired"])
def test_a_refused_user_or_licence_gets_403_with_the_reason_everywhere(
    api: httpx.Client, app: ExactSandbox, reason: str
) -> None:
    app.refuse(reason)
    for path in (ACCOUNTS.format(d=NL), ACCOUNTS.format(d=BE), "/api/v1/current/Me"):
        response = api.get(path, params={"$select": "ID"} if "Accounts" in path else None)
        assert response.status_code == 403
        assert response.headers["Reason"] == reason
        message = response.json()["error"]["message"]
        assert message["lang"] == "" and message["value"].startswith("Forbidden")
        assert "x-ratelimit-remaining" not in response.headers  # refused before it counts
    app.allow()
    assert api.get(ACCOUNTS.format(d=NL), params={"$select": "ID"}).status_code == 200


def test_a_blocked_division_refuses_only_that_division(api: httpx.Client, app: ExactSandbox) -> None:
    app.refuse("DivisionBlocked", division=BE)
    blocked = api.get(ACCOUNTS.format(d=BE), params={"$select": "ID"})
    assert (blocked.status_code, blocked.headers["Reason"]) == (403, "DivisionBlocked")
    assert api.get(ACCOUNTS.format(d=NL), params={"$select": "ID"}).status_code == 200
    app.allow(division=BE)
    assert api.get(ACCOUNTS.format(d=BE), params={"$select": "ID"}).status_code == 200


def test_only_documented_reasons_can_be_switched_on(app: ExactSandbox) -> None:
    with pytest.raises(ValueError, match="reason must be one of"):
        app.refuse("Sleepy")
