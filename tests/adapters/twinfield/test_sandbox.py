"""The Twinfield sandbox behaves as the research notes describe Twinfield (written before the adapter).

Section numbers refer to the Twinfield research notes (docs/reference/twinfield.md).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import httpx
import pytest

from adapters.twinfield.sandbox import TwinfieldSandbox
from adapters.twinfield.sandbox_limits import FairUseLimits
from connector.sandbox import SandboxClock, transport
from tests.adapters.twinfield.conftest import (
    BE,
    CLIENT_ID,
    CLUSTER,
    LOGIN,
    NL,
    REDIRECT,
    SECRET,
    START,
    authorize_url,
    basic,
    login,
    soap,
)

VALIDATE = "/auth/authentication/connect/accesstokenvalidation"


def process(http: httpx.Client, command: str, token: str, company: str | None = None, *, base: str = CLUSTER,
            operation: str = "ProcessXmlString", version: str = "1.1") -> httpx.Response:
    body, headers = soap(command, token, company, operation=operation, version=version)
    return http.post(f"{base}/webservices/processxml.asmx", content=body, headers=headers)


def result(response: httpx.Response) -> ET.Element:
    """The command answer inside ProcessXmlStringResult (an escaped string, parsed a second time, §2)."""
    assert response.status_code == 200, response.text
    envelope = ET.fromstring(response.content)
    text = envelope.find(".//{http://www.twinfield.com/}ProcessXmlStringResult")
    assert text is not None and text.text
    return ET.fromstring(text.text)


def browse(http: httpx.Client, token: str, office: str, *filters: tuple[str, str, str, str],
           fields: tuple[str, ...] = ()) -> ET.Element:
    columns = "".join(
        f"<column><field>{f}</field><visible>true</visible><ask>true</ask><operator>{op}</operator>"
        f"<from>{lo}</from><to>{hi}</to></column>" for f, op, lo, hi in filters
    ) + "".join(f"<column><field>{f}</field><visible>true</visible></column>" for f in fields)
    return result(process(http, f'<columns code="100">{columns}</columns>', token, office))


def rows(answer: ET.Element) -> list[dict[str, str]]:
    out = []
    for tr in answer.iter("tr"):
        row = {td.get("field", ""): td.text or "" for td in tr.findall("td")}
        key = tr.find("key")
        assert key is not None
        row["key"] = "/".join(key.findtext(t) or "" for t in ("office", "code", "number", "line"))
        out.append(row)
    return out


LINE_FIELDS = ("fin.trs.head.code", "fin.trs.head.number", "fin.trs.line.dim2", "fin.trs.line.valuesigned",
               "fin.trs.line.openvaluesigned", "fin.trs.line.matchstatus", "fin.trs.line.matchnumber",
               "fin.trs.line.matchdate")


# ---------------------------------------------------------------- OAuth2 / OIDC (§1)


def test_authorize_refuses_a_request_without_nonce(http: httpx.Client) -> None:
    assert http.get(authorize_url(nonce=None)).status_code == 400
    assert http.get(authorize_url()).status_code == 200


def test_login_needs_the_organisation_user_scope(http: httpx.Client) -> None:
    answer = http.get(authorize_url(scope="openid twf.organisation"))
    assert answer.status_code == 302 and "error=invalid_scope" in answer.headers["location"]


def test_token_endpoint_wants_http_basic_client_authentication(http: httpx.Client) -> None:
    answer = http.post("/auth/authentication/connect/token",
                       data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": CLIENT_ID,
                             "client_secret": SECRET})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_tokens_last_an_hour_and_refresh_tokens_are_not_rotated(http: httpx.Client) -> None:
    first = login(http)
    assert first.refresh_token
    again = http.post("/auth/authentication/connect/token", headers=basic(),
                      data={"grant_type": "refresh_token", "refresh_token": first.refresh_token})
    body = again.json()
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    assert body["refresh_token"] == first.refresh_token
    twice = http.post("/auth/authentication/connect/token", headers=basic(),
                      data={"grant_type": "refresh_token", "refresh_token": first.refresh_token})
    assert twice.status_code == 200


def test_no_refresh_token_without_offline_access(http: httpx.Client) -> None:
    assert login(http, scope="openid twf.organisation twf.organisationUser").refresh_token is None


def test_access_token_validation_names_the_cluster_on_another_host(http: httpx.Client) -> None:
    token = login(http).access_token
    claims = http.get(VALIDATE, params={"token": token}).json()
    assert claims["twf.clusterUrl"] == CLUSTER != LOGIN
    assert claims["twf.organisationCode"] == "ARCONNECT-DEMO"
    assert int(claims["exp"]) - int(claims["nbf"]) == 3600 and isinstance(claims["exp"], str)
    assert "twf.organisation" in claims["scope"]


def test_an_invalid_token_fails_validation_with_400_and_a_message(http: httpx.Client) -> None:
    answer = http.get(VALIDATE, params={"token": "nonsense"})
    assert answer.status_code == 400 and answer.json()["Message"]


# ---------------------------------------------------------------- SOAP transport and faults (§1.5, §6.3)


def test_offices_are_listed_with_only_an_access_token(http: httpx.Client) -> None:
    offices = result(process(http, "<list><type>offices</type></list>", login(http).access_token))
    assert offices.tag == "offices" and offices.get("result") == "1"
    assert [o.text for o in offices] == [NL, BE]
    assert all(o.get("name") for o in offices)


def test_an_expired_token_gets_the_token_invalid_fault(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    token = login(http).access_token
    sandbox.clock.advance(3601)
    answer = process(http, "<list><type>offices</type></list>", token)
    assert answer.status_code == 401
    fault = ET.fromstring(answer.content).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault is not None
    assert fault.findtext("faultstring") == "Access denied. Token invalid."
    assert fault.findtext("detail/code") == "354"


def test_the_login_host_serves_no_processxml_and_a_wrong_cluster_is_a_fault(http: httpx.Client) -> None:
    token = login(http).access_token
    assert process(http, "<list><type>offices</type></list>", token, base=LOGIN).status_code == 404
    wrong = process(http, "<list><type>offices</type></list>", token, base="http://cluster.other.test")
    assert wrong.status_code == 500 and b"<code>108</code>" in wrong.content


def test_other_commands_need_the_company_code(http: httpx.Client) -> None:
    answer = process(http, f"<read><type>dimensions</type><office>{NL}</office><dimtype>DEB</dimtype><code>1000</code></read>",
                     login(http).access_token)
    assert answer.status_code == 500 and "Company ontbreekt" in answer.text


def test_soap_12_and_process_xml_document_are_answered_in_kind(http: httpx.Client) -> None:
    token = login(http).access_token
    answer = process(http, "<list><type>offices</type></list>", token, operation="ProcessXmlDocument", version="1.2")
    assert answer.headers["content-type"].startswith("application/soap+xml")
    envelope = ET.fromstring(answer.content)
    offices = envelope.find(".//{http://www.twinfield.com/}ProcessXmlDocumentResult/offices")
    assert offices is not None and len(offices) == 2


def test_a_500_can_come_as_html_or_empty(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    token = login(http).access_token
    sandbox.faults.fail(500, endpoint="processxml")
    sandbox.faults.fail(500, endpoint="processxml", body="empty")
    html = process(http, "<list><type>offices</type></list>", token)
    empty = process(http, "<list><type>offices</type></list>", token)
    assert html.status_code == 500 and html.headers["content-type"].startswith("text/html")
    assert empty.status_code == 500 and empty.content == b""


# ---------------------------------------------------------------- dimensions (§5)


def test_reading_an_unknown_customer_is_a_business_error_in_the_users_language(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    token = login(http).access_token
    command = f"<read><type>dimensions</type><office>{NL}</office><dimtype>DEB</dimtype><code>00590</code></read>"
    answer = result(process(http, command, token, NL))
    assert answer.get("result") == "0"
    assert answer.find("code").get("msg") == "Dimensie 00590 bestaat niet."  # type: ignore[union-attr]
    sandbox.language = "en"
    answer = result(process(http, command, token, NL))
    assert answer.find("code").get("msg") == "Dimension 00590 does not exist."  # type: ignore[union-attr]


def test_a_customer_reads_with_financials_and_creditmanagement(http: httpx.Client) -> None:
    token = login(http).access_token
    dim = result(process(http, f"<read><type>dimensions</type><office>{NL}</office><dimtype>DEB</dimtype><code>1000</code></read>",
                         token, NL))
    assert dim.tag == "dimension" and dim.get("result") == "1" and dim.get("status") == "active"
    assert dim.findtext("financials/duedays") and dim.findtext("creditmanagement/sendreminder") == "true"
    assert dim.find("creditmanagement/blocked").get("locked") == "false"  # type: ignore[union-attr]


def test_the_customer_list_ends_with_a_type_marker(http: httpx.Client) -> None:
    token = login(http).access_token
    listed = result(process(http, f"<list><type>dimensions</type><office>{NL}</office><dimtype>DEB</dimtype></list>", token, NL))
    assert listed.get("type") == "DEB" and listed[-1].text == "DEB" and len(listed) == 31


def test_an_upsert_checks_name_and_inuse_and_joins_messages(http: httpx.Client) -> None:
    token = login(http).access_token
    answer = result(process(http, f"<dimension><office>{NL}</office><type>DEB</type><code>1000</code><name></name>"
                                  "<inuse>true</inuse></dimension>", token, NL))
    assert answer.get("result") == "0"
    assert answer.find("inuse").get("msg") == "Het element 'inuse' mag niet worden aangeleverd."  # type: ignore[union-attr]
    assert answer.find("name").get("msg") == "Naam moet worden ingevuld."  # type: ignore[union-attr]
    two = result(process(http, f"<dimension><office>{NL}</office><type>DEB</type><code>1000</code><name>X</name>"
                               "<creditmanagement><sendreminder>email</sendreminder>"
                               f"<freetext2>{'x' * 41}</freetext2></creditmanagement></dimension>", token, NL))
    assert two.get("result") == "0"
    assert two.find("creditmanagement/freetext2").get("msg") == "De waarde van 'freetext2' is te lang."  # type: ignore[union-attr]


def test_an_upsert_costs_three_credits_and_a_read_one(http: httpx.Client) -> None:
    token = login(http).access_token
    read = process(http, f"<read><type>dimensions</type><office>{NL}</office><dimtype>DEB</dimtype><code>1000</code></read>", token, NL)
    write = process(http, f"<dimension><office>{NL}</office><type>DEB</type><code>1000</code><name>Nieuw B.V.</name></dimension>",
                    token, NL)
    assert read.headers["x-ratelimit-credited"] == "1" and write.headers["x-ratelimit-credited"] == "3"
    assert result(write).findtext("name") == "Nieuw B.V."


def test_a_posted_block_resets_what_it_omits(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    """The strict reading of §5.3 (UNVERIFIED): why the adapter must read, modify and write back."""
    token = login(http).access_token
    sandbox.dimension(NL, "1000").find("creditmanagement/comment").text = "klant belt zelf"  # type: ignore[union-attr]
    process(http, f"<dimension><office>{NL}</office><type>DEB</type><code>1000</code><name>A</name>"
                  "<creditmanagement><basecreditlimit>500.00</basecreditlimit></creditmanagement></dimension>", token, NL)
    dim = sandbox.dimension(NL, "1000")
    assert dim.findtext("creditmanagement/basecreditlimit") == "500.00"
    assert dim.findtext("creditmanagement/comment") == ""


# ---------------------------------------------------------------- browse (§3)


def test_the_browse_100_definition_has_the_captured_columns(http: httpx.Client) -> None:
    token = login(http).access_token
    definition = result(process(http, f"<read><type>browse</type><office>{NL}</office><code>100</code></read>", token, NL))
    columns = {c.findtext("field"): c for c in definition.iter("column")}
    assert columns["fin.trs.line.matchstatus"].findtext("ask") == "true"
    assert columns["fin.trs.head.date"].findtext("ask") == "false"
    assert columns["fin.trs.head.status"].findtext("from") == "normal"


def test_available_lines_come_with_their_key_and_only_those(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    token = login(http).access_token
    answer = browse(http, token, NL, ("fin.trs.line.matchstatus", "equal", "available", ""), fields=LINE_FIELDS)
    found = rows(answer)
    assert found and all(r["fin.trs.line.matchstatus"] == "available" for r in found)
    assert answer.get("total") == str(len(found))
    expected = {f"{NL}/{ln.code}/{ln.number}/{ln.line}" for ln in sandbox.open_lines(NL) if ln.matchstatus == "available"}
    assert {r["key"] for r in found} == expected
    header = [td.text for td in answer.find("th")]  # type: ignore[union-attr]
    assert header[0] == "fin.trs.line.matchstatus"


def test_filtering_on_a_column_that_is_not_asked_is_refused(http: httpx.Client) -> None:
    token = login(http).access_token
    answer = browse(http, token, NL, ("fin.trs.head.date", "between", "20250101", "20251231"))
    assert answer.get("result") == "0"
    assert next(answer.iter("column")).get("msgtype") == "error"


def test_hidden_columns_drop_the_open_value(http: httpx.Client) -> None:
    """zypp's note (§3.1): every requested field must be visible or openvaluesigned goes missing."""
    token = login(http).access_token
    command = ('<columns code="100"><column><field>fin.trs.line.dim2</field><visible>false</visible></column>'
               "<column><field>fin.trs.line.openvaluesigned</field><visible>true</visible></column></columns>")
    answer = result(process(http, command, token, NL))
    assert not any(td.get("field") == "fin.trs.line.openvaluesigned" for td in answer.iter("td"))


def test_matching_follows_twinfield(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    token = login(http).access_token
    invoice = sandbox.add_invoice(NL, "1001", Decimal("1000.00"))
    other = sandbox.add_invoice(NL, "1001", Decimal("200.00"))
    receipt = sandbox.pay(NL, invoice, Decimal("400.00"))
    sandbox.pay(NL, other, Decimal("200.00"))
    number = ("fin.trs.head.number", "between", str(invoice.number), str(other.number))
    lines = {r["fin.trs.head.number"]: r for r in rows(browse(http, token, NL, number, ("fin.trs.head.code", "equal", "VRK", ""),
                                                                 fields=LINE_FIELDS))}
    part, full = lines[str(invoice.number)], lines[str(other.number)]
    assert (part["fin.trs.line.matchstatus"], part["fin.trs.line.openvaluesigned"]) == ("available", "600.00")
    assert part["fin.trs.line.matchnumber"]  # a part payment already shows its match number
    assert (full["fin.trs.line.matchstatus"], full["fin.trs.line.openvaluesigned"]) == ("matched", "0.00")
    bank = rows(browse(http, token, NL, ("fin.trs.head.code", "equal", "BNK", ""),
                       ("fin.trs.head.number", "between", str(receipt.number), str(receipt.number)), fields=LINE_FIELDS))
    assert bank[0]["fin.trs.line.valuesigned"] == "-400.00" and bank[0]["fin.trs.line.matchstatus"] == "matched"
    assert bank[0]["fin.trs.line.matchnumber"] == part["fin.trs.line.matchnumber"]


def test_a_collection_run_moves_a_line_to_proposed(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    token = login(http).access_token
    invoice = sandbox.add_invoice(NL, "1002", Decimal("50.00"))
    sandbox.propose(NL, invoice)
    found = rows(browse(http, token, NL, ("fin.trs.line.matchstatus", "equal", "proposed", ""), fields=LINE_FIELDS))
    assert str(invoice.number) in {r["fin.trs.head.number"] for r in found}


def test_draft_lines_are_not_returned_by_default(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    token = login(http).access_token
    drafts = {f"{NL}/{ln.code}/{ln.number}/{ln.line}" for ln in sandbox.book(NL).customer_lines() if ln.status == "draft"}
    assert drafts
    assert not drafts & {r["key"] for r in rows(browse(http, token, NL, fields=LINE_FIELDS))}


def test_deleted_transactions_are_reported(http: httpx.Client, sandbox: TwinfieldSandbox) -> None:
    token = login(http).access_token
    line = sandbox.open_lines(NL)[0]
    sandbox.delete_transaction(NL, line.code, line.number)
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
        '<h:Authentication xmlns:h="http://www.twinfield.com/" '
        'xmlns="http://schemas.datacontract.org/2004/07/Twinfield.WebServices.Shared">'
        f"<AccessToken>{token}</AccessToken><CompanyCode>{NL}</CompanyCode></h:Authentication></soap:Header>"
        '<soap:Body><Query xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="b:GetDeletedTransactions" '
        'xmlns="http://www.twinfield.com/" '
        'xmlns:b="http://schemas.datacontract.org/2004/07/Twinfield.WebServices.DeletedTransactionsService">'
        f"<b:CompanyCode>{NL}</b:CompanyCode><b:DateFrom>2026-01-01T00:00:00</b:DateFrom></Query></soap:Body></soap:Envelope>"
    )
    answer = http.post(f"{CLUSTER}/webservices/DeletedTransactionsService.svc", content=body,
                       headers={"Content-Type": "text/xml", "SOAPAction": "http://www.twinfield.com/DeletedTransactionsService/Query"})
    assert answer.headers["x-ratelimit-credited"] == "1"
    numbers = [el.text for el in ET.fromstring(answer.content).iter() if el.tag.endswith("TransactionNumber")]
    assert numbers == [str(line.number)]


def finder(http: httpx.Client, token: str, kind: str, first: int = 1, most: int = 100) -> httpx.Response:
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
        f'<Header xmlns="http://www.twinfield.com/"><AccessToken>{token}</AccessToken></Header></soap:Header>'
        f'<soap:Body><Search xmlns="http://www.twinfield.com/"><type>{kind}</type><pattern>*</pattern><field>0</field>'
        f"<firstRow>{first}</firstRow><maxRows>{most}</maxRows><options/></Search></soap:Body></soap:Envelope>"
    )
    return http.post(f"{CLUSTER}/webservices/finder.asmx", content=body,
                     headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://www.twinfield.com/Search"'})


def test_the_office_finder_gives_code_name_and_country_for_one_credit(http: httpx.Client) -> None:
    answer = finder(http, login(http).access_token, "OFF")
    assert answer.status_code == 200 and answer.headers["x-ratelimit-credited"] == "1"
    twf = "{http://www.twinfield.com/}"
    data = ET.fromstring(answer.content).find(f".//{twf}SearchResponse/{twf}data")
    assert data is not None and data.findtext(f"{twf}TotalRows") == "2"
    items = [[s.text for s in row] for row in data.iter(f"{twf}ArrayOfString")]
    assert [(code, country) for code, _name, country, *_ in items] == [(NL, "NL"), (BE, "BE")]


def test_the_office_finder_pages_and_refuses_other_types_in_its_result(http: httpx.Client) -> None:
    token = login(http).access_token
    second = ET.fromstring(finder(http, token, "OFF", first=2, most=1).content)
    assert [s.text for s in second.iter("{http://www.twinfield.com/}string")][-5] == BE
    refused = ET.fromstring(finder(http, token, "XYZ").content)
    assert refused.findtext(".//{http://www.twinfield.com/}MessageOfErrorCodes/{http://www.twinfield.com/}Type") == "Error"


# ---------------------------------------------------------------- Fair Use (§6.1)


def test_an_uncertified_client_meets_429_with_retry_after_at_25_credits_a_minute() -> None:
    app = TwinfieldSandbox(seed=1, clock=SandboxClock(START), limits=FairUseLimits.uncertified())
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    with httpx.Client(transport=transport(app), base_url=LOGIN) as http:
        token = login(http).access_token
        answers = [process(http, "<list><type>offices</type></list>", token) for _ in range(26)]
    assert [a.status_code for a in answers[:25]] == [200] * 25
    refused = answers[25]
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-limit"] == "25" and refused.headers["x-ratelimit-remaining"] == "0"
    assert answers[0].headers["x-ratelimit-remaining"] == "24"


@pytest.mark.parametrize("seconds", [3])
def test_credits_come_back_with_time(seconds: int) -> None:
    app = TwinfieldSandbox(seed=1, clock=SandboxClock(START), limits=FairUseLimits.uncertified())
    app.register_client(CLIENT_ID, SECRET, REDIRECT)
    with httpx.Client(transport=transport(app), base_url=LOGIN) as http:
        token = login(http).access_token
        for _ in range(25):
            process(http, "<list><type>offices</type></list>", token)
        app.clock.advance(seconds)  # 25 credits a minute: one comes back every 2.4 s
        assert process(http, "<list><type>offices</type></list>", token).status_code == 200
        assert process(http, "<list><type>offices</type></list>", token).status_code == 429
