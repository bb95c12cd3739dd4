"""The ``realistic`` switch (issue 16 point 5): the sandbox answers in every form production is known to use."""

from __future__ import annotations

import httpx

from adapters.exact.sandbox import ExactSandbox, Realism
from connector.sandbox import SandboxClock, transport

from .conftest import BASE, NL, authorize, bearer, make_app, refresh


def realistic_api(clock: SandboxClock, realism: Realism) -> tuple[ExactSandbox, httpx.Client]:
    app = make_app(clock, realistic=realism)
    with httpx.Client(transport=transport(app), base_url=BASE) as http:
        tokens = authorize(app, http)
    return app, httpx.Client(transport=transport(app), base_url=BASE, headers=bearer(tokens))


def test_int64_values_come_quoted_and_not_and_amounts_in_their_shortest_form(clock: SandboxClock) -> None:
    _, api = realistic_api(clock, Realism(maintenance_every=0, expire_every=0))
    with api:
        terms = api.get(f"/api/v1/{NL}/sync/Cashflow/PaymentTerms",
                        params={"$select": "ID,AmountDC,Timestamp", "$filter": "Timestamp gt 1L"}).json()["d"]["results"]
    kinds = {type(t["Timestamp"]) for t in terms}
    assert kinds == {str, int}
    assert all(str(t["Timestamp"]).isdigit() for t in terms)
    raw_amounts = {type(t["AmountDC"]) for t in terms}
    assert int in raw_amounts and float in raw_amounts


def test_account_rows_have_nulls_and_deferred_links_without_select(clock: SandboxClock) -> None:
    _, api = realistic_api(clock, Realism(maintenance_every=0, expire_every=0))
    with api:
        accounts = api.get(f"/api/v1/{NL}/crm/Accounts").json()["d"]["results"]
    assert any(a["Email"] is None for a in accounts) and any(a["Email"] for a in accounts)
    assert any(a["Language"] is None for a in accounts) and any(a["VATNumber"] is None for a in accounts)
    assert all(set(a["BankAccounts"]) == {"__deferred"} for a in accounts)  # §2.2


def test_maintenance_pages_come_with_200_and_503(clock: SandboxClock) -> None:
    _, api = realistic_api(clock, Realism(maintenance_every=10, expire_every=0))
    with api:
        answers = [api.get("/api/v1/current/Me", params={"$select": "CurrentDivision"}) for _ in range(10)]
    html = [(a.status_code, a.headers["content-type"].split(";")[0]) for a in answers
            if a.headers["content-type"].startswith("text/html")]
    assert html == [(200, "text/html"), (503, "text/html")]


def test_a_lapsed_access_token_is_a_401_saying_so_and_may_be_refreshed_at_once(clock: SandboxClock) -> None:
    app = make_app(clock, realistic=Realism(maintenance_every=0, expire_every=20))
    with httpx.Client(transport=transport(app), base_url=BASE) as http:
        tokens = authorize(app, http)
        answers = [http.get("/api/v1/current/Me", params={"$select": "CurrentDivision"}, headers=bearer(tokens))
                   for _ in range(7)]
        assert [a.status_code for a in answers] == [200] * 6 + [401]
        assert "access token expired" in answers[-1].headers["www-authenticate"]
        # §1.4: the token really lapsed, so the refresh is not refused as "too early".
        assert refresh(http, tokens.refresh_token).status_code == 200
