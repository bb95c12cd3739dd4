"""The sandbox over a real socket on 127.0.0.1, as `arconnect sandbox exact` serves it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx

from adapters.exact.sandbox import serve_exact


def test_full_oauth_and_a_sync_page_over_loopback() -> None:
    server = serve_exact(0, seed=7, size="small", client_id="demo", client_secret="pw",
                         redirect_uri="http://127.0.0.1:8765/callback")
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.url, follow_redirects=False) as http:
            page = http.get("/api/oauth2/auth", params={"client_id": "demo", "response_type": "code", "state": "s1",
                                                         "redirect_uri": "http://127.0.0.1:8765/callback"})
            hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
            consent = http.post("/api/oauth2/auth", data={**hidden, "division": "101", "approve": "1"})
            assert consent.status_code == 302
            code = parse_qs(urlparse(consent.headers["location"]).query)["code"][0]
            token = http.post("/api/oauth2/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:8765/callback",
                "client_id": "demo", "client_secret": "pw"}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"}
            me = http.get("/api/v1/current/Me", headers=headers).json()["d"]["results"][0]
            assert me["CurrentDivision"] == 101
            terms = http.get("/api/v1/101/sync/Cashflow/PaymentTerms", headers=headers,
                             params={"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"})
            assert terms.status_code == 200
            assert len(terms.json()["d"]["results"]) == 150
            assert terms.json()["d"]["results"][0]["__metadata"]["uri"].startswith(server.url)
    finally:
        server.stop()
