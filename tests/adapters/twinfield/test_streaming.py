"""Browse and customer answers are parsed as they arrive and let go of, so memory stays flat as offices grow."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.twinfield.adapter import PAGE_SIZE
from adapters.twinfield.client import iter_xml
from adapters.twinfield.sandbox import TwinfieldSandbox, default_offices
from connector import config as cfg
from connector.auth import open_secret_store
from connector.errors import MappingError
from connector.runtime import api_for, build_adapter
from connector.sandbox import transport
from connector.store import Store
from tests.contract.twinfield_harness import TwinfieldHarness

CHUNK = 4096


class Metered(httpx.BaseTransport):
    """The sandbox behind a wire that hands ``ProcessXmlDocument`` answers out in 4 KiB chunks, counting them."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.handed = 0
        self.total = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if "ProcessXmlDocument" not in request.headers.get("soapaction", ""):
            return response
        body = response.read()
        self.handed, self.total = 0, len(body)

        def chunks() -> Iterator[bytes]:
            for at in range(0, len(body), CHUNK):
                self.handed += len(body[at:at + CHUNK])
                yield body[at:at + CHUNK]

        return httpx.Response(response.status_code, headers={k: v for k, v in response.headers.items() if k != "content-length"},
                              stream=httpx.ByteStream(b"") if not body else _Stream(chunks()))


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks


class BigOffice(TwinfieldHarness):
    def make_transport(self) -> httpx.BaseTransport:
        # One office, one book year: 700 customers, 3,000 invoices (well over a page of each).
        self.sandbox = TwinfieldSandbox(seed=21, offices=default_offices(1, 700, 3000, years=(2026,)))
        self.sandbox.register_client(self.client_id, self.client_secret, self.redirect_uri)
        self.metered = Metered(transport(self.sandbox, "http://sandbox.test"))
        return self.metered


@pytest.fixture
def big(tmp_path: Path, arconnect_home: Path) -> Iterator[tuple[BigOffice, cfg.ConnectionConfig, Store]]:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}")
    store.migrate()
    harness = BigOffice(tmp_path, store, open_secret_store())
    try:
        yield harness, harness.link()[0], store
    finally:
        store.close()


def test_the_first_page_of_customers_and_of_open_items_comes_while_the_answer_is_still_on_the_wire(
    big: tuple[BigOffice, cfg.ConnectionConfig, Store],
) -> None:
    harness, connection, store = big
    credential = cfg.load_config().credentials[connection.credential]
    with api_for(credential, connection.administration, open_secret_store(), transport=harness.metered) as api:
        adapter = build_adapter(api, connection, store)
        debtors = adapter.debtors(None)
        first = next(debtors)
        assert len(first.records) == PAGE_SIZE
        assert 0 < harness.metered.handed < harness.metered.total * 0.9
        assert sum(len(p.records) for p in debtors) + PAGE_SIZE == 700

        items = adapter.open_items(None)
        first_items = next(p for p in items if p.records)
        assert len(first_items.records) == PAGE_SIZE
        assert 0 < harness.metered.handed < harness.metered.total * 0.9
        rest = [i.source_id for p in items for i in p.records]
    assert len(rest) + PAGE_SIZE == len(harness.sandbox.open_lines(connection.administration))


def test_rows_are_let_go_of_once_handled() -> None:
    rows = "".join(f'<tr><td field="fin.trs.line.dim2">{n}</td></tr>' for n in range(5000))
    answer = f'<browse result="1"><th><td>Debiteur</td></th>{rows}</browse>'.encode()
    root: ET.Element | None = None
    handled = kept = 0
    for event, element in iter_xml((answer[i:i + 1000] for i in range(0, len(answer), 1000)), release=("tr",)):
        if root is None:
            root = element
        if event == "end" and element.tag == "tr":
            assert element.findtext("td") == str(handled)
            handled += 1
            assert root is not None
            kept = max(kept, len(root))
    # At most the rows of one 1,000-byte chunk (about 25) are held at a time, never the 5,000.
    assert handled == 5000 and kept <= 1 + 1000 // len(b'<tr><td field="fin.trs.line.dim2">0</td></tr>') + 1
    assert root is not None and [child.tag for child in root] == ["th"]


def test_a_dtd_in_a_streamed_answer_is_refused() -> None:
    hostile = b'<?xml version="1.0"?><!DOCTYPE browse [<!ENTITY a "aaaa">]><browse>&a;</browse>'
    with pytest.raises(MappingError, match="DTD"):
        list(iter_xml(iter([hostile[:30], hostile[30:]]), release=()))
