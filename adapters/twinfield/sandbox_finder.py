"""The Twinfield sandbox's finder (``/webservices/finder.asmx``, operation ``Search``; research notes §2, §5.4, §5.5).

Request: ``<Search xmlns="http://www.twinfield.com/"><type/><pattern/><field/><firstRow/><maxRows/>
<options/></Search>``. Answer: ``<SearchResponse><SearchResult/>`` (a list of messages when
something is wrong) ``<data><TotalRows/><Columns><string/>…</Columns><Items><ArrayOfString>
<string/>…</ArrayOfString>…</Items></data></SearchResponse>`` (the shape of murb's finder fixture).

Only finder type ``OFF`` (offices) is served: its items are code, name, country code, VAT period and
the month the first VAT quarter starts in, in that order (php-twinfield ``OfficeApiConnector::listAll``
maps the columns by position). The column headings Twinfield sends are not in any source we have
(UNVERIFIED); the sandbox sends English ones, and a client must not rely on them.
"""

from __future__ import annotations

import fnmatch
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from xml.sax.saxutils import escape

from adapters.twinfield.sandbox_data import OfficeBook
from adapters.twinfield.sandbox_soap import TWF

OFFICE_COLUMNS = ("Code", "Name", "Country", "VAT period", "VAT first quarter starts in")


def _message(text: str, code: str) -> str:
    return (f"<SearchResult><MessageOfErrorCodes><Type>Error</Type><Text>{escape(text)}</Text>"
            f"<Code>{escape(code)}</Code><Parameters/></MessageOfErrorCodes></SearchResult>")


def _value(body: ET.Element, name: str) -> str:
    element = body.find(f"{{{TWF}}}{name}")
    return (element.text or "").strip() if element is not None else ""


def search(books: Mapping[str, OfficeBook], body: ET.Element) -> str:
    """The ``SearchResponse`` element for one ``Search`` request body."""
    kind = _value(body, "type")
    if kind != "OFF":
        # GO finder.go lists the finder error codes; which one an unserved type gives is UNVERIFIED.
        return f'<SearchResponse xmlns="{TWF}">{_message(f"Finder type {kind} is not supported.", "OptionNotAllowed")}</SearchResponse>'
    pattern = _value(body, "pattern") or "*"
    try:
        first = max(1, int(_value(body, "firstRow") or "1"))
        most = max(1, int(_value(body, "maxRows") or "100"))
    except ValueError:
        return f'<SearchResponse xmlns="{TWF}">{_message("firstRow and maxRows must be numbers.", "InvalidOption")}</SearchResponse>'
    rows = [
        (code, book.spec.name, book.spec.country, "quarter", "1")
        for code, book in books.items()
        if fnmatch.fnmatchcase(code, pattern) or fnmatch.fnmatchcase(book.spec.name, pattern)
    ]
    page = rows[first - 1:first - 1 + most]
    columns = "".join(f"<string>{escape(c)}</string>" for c in OFFICE_COLUMNS)
    items = "".join("<ArrayOfString>" + "".join(f"<string>{escape(v)}</string>" for v in row) + "</ArrayOfString>"
                    for row in page)
    return (f'<SearchResponse xmlns="{TWF}"><SearchResult/><data><TotalRows>{len(rows)}</TotalRows>'
            f"<Columns>{columns}</Columns><Items>{items}</Items></data></SearchResponse>")
