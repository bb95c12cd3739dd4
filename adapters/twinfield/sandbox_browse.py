"""Browse definitions and browse data in the Twinfield sandbox (research notes §3 "Reading open items").

* ``<read><type>browse</type><office/><code>100</code></read>`` answers the definition: the
  columns of browse 100 "Debiteurenkaart" as captured from a live office (§3.4; column 1,
  missing from the capture, is ``fin.trs.head.yearperiod`` as every other source puts it).
* ``<columns code="100">`` runs a query. Rules taken from the notes:
  - only the requested columns come back, in the order asked, as ``<td field="…">`` (§3.2);
  - a column is a filter when it has an operator other than ``none`` and a ``from`` value; only
    ``ask=true`` columns may filter (§3.1 "safe rule", and CodeMill's report that filtering on
    ``fin.trs.head.date``, ask=false in this definition, faults — §3.4);
  - operators ``equal``, ``between``, ``like`` (§3.1; ``like`` with ``*`` as wildcard: UNVERIFIED);
  - without a status filter the definition's default ``normal`` (provisional and final) applies;
  - zypp's quirk (§3.1): when any requested field is not ``visible``, ``openvaluesigned``,
    ``valuesigned`` and ``availableforpayruns`` are left out of the answer;
  - no paging parameters exist; ``first``/``last``/``total`` describe the whole answer (§3.2).
* Values: dates ``yyyyMMdd`` with a display ``name`` ``dd/MM/yyyy``; timestamps ``yyyyMMddHHmmss``;
  enumerations carry a localised ``name`` (``Beschikbaar``, ``Definitief``) — §3.2.
"""

from __future__ import annotations

import fnmatch
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from adapters.twinfield.sandbox_data import Line, OfficeBook


@dataclass(frozen=True)
class BrowseColumn:
    id: int
    field: str
    label: str
    type: str  # String | Decimal | Value | Date | Datetime | Long
    ask: bool
    operator: str
    default_from: str = ""
    finderparam: str = ""


def _c(i: int, field: str, label: str, type_: str, ask: bool, operator: str, default: str = "", finder: str = "") -> BrowseColumn:
    return BrowseColumn(i, field, label, type_, ask, operator, default, finder)


#: §3.4: browse 100 "Customer transactions" (Debiteurenkaart), ids, labels, ask and operators as captured.
BROWSE_100: tuple[BrowseColumn, ...] = (
    _c(1, "fin.trs.head.yearperiod", "Periode", "String", True, "between", "$DEFAULT$"),
    _c(2, "fin.trs.head.code", "Dagboek", "String", True, "equal", finder="hidden=1"),
    _c(3, "fin.trs.head.shortname", "Naam", "String", False, "none"),
    _c(4, "fin.trs.head.number", "Boekst.nr.", "Decimal", True, "between"),
    _c(5, "fin.trs.head.status", "Status", "String", True, "equal", "normal"),
    _c(6, "fin.trs.head.date", "Boekdatum", "Date", False, "none"),
    _c(7, "fin.trs.line.dim2", "Debiteur", "String", True, "between", finder="dimtype=DEB"),
    _c(8, "fin.trs.line.dim2name", "Naam", "String", False, "none"),
    _c(9, "fin.trs.head.curcode", "Valuta", "String", False, "equal"),
    _c(10, "fin.trs.line.valuesigned", "Bedrag", "Value", False, "between"),
    _c(11, "fin.trs.line.basevaluesigned", "Euro", "Value", True, "between"),
    _c(12, "fin.trs.line.repvaluesigned", "", "Value", False, "between"),
    _c(13, "fin.trs.line.openbasevaluesigned", "Openstaand bedrag", "Value", False, "none"),
    _c(14, "fin.trs.line.invnumber", "Factuurnr.", "String", True, "equal"),
    _c(15, "fin.trs.line.datedue", "Vervaldatum", "Date", False, "none"),
    _c(16, "fin.trs.line.matchstatus", "Betaalstatus", "String", True, "equal"),
    _c(17, "fin.trs.line.matchnumber", "Betaalnr.", "Long", False, "none"),
    _c(18, "fin.trs.line.matchdate", "Betaaldatum", "Date", True, "between"),
    _c(19, "fin.trs.line.openvaluesigned", "Openstaand bedrag transactievaluta", "Value", False, "none"),
    _c(20, "fin.trs.line.availableforpayruns", "Beschikbaar voor betaalrun", "String", False, "none"),
    _c(21, "fin.trs.line.modified", "Wijzigingsdatum", "Datetime", True, "between"),
)

BROWSES: dict[str, tuple[str, tuple[BrowseColumn, ...]]] = {
    "100": ("Debiteurenkaart", BROWSE_100),
}

#: zypp (§3.1): these need every requested column visible.
_NEED_ALL_VISIBLE = frozenset({"fin.trs.line.openvaluesigned", "fin.trs.line.valuesigned", "fin.trs.line.availableforpayruns"})
_MATCH_NAMES = {"available": "Beschikbaar", "matched": "Afgeletterd", "proposed": "Voorgesteld", "notmatchable": "Niet afletterbaar"}
_STATUS_NAMES = {"draft": "Concept", "temporary": "Voorlopig", "final": "Definitief"}
#: §3.4: head.status ``normal`` = provisional and final.
_STATUS_FILTER = {"normal": {"temporary", "final"}, "draft": {"draft"}, "temporary": {"temporary"}, "final": {"final"}}


class BrowseError(Exception):
    """A refused query: rendered as ``result="0"`` on the request with the message on the column."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def definition_xml(office: OfficeBook, code: str) -> str:
    """``<browse result="1">`` with the definition's columns (shape of the php-twinfield fixture)."""
    name, columns = BROWSES[code]
    spec = office.spec
    parts = [
        '<browse result="1">',
        f"<office name={quoteattr(spec.name)} shortname={quoteattr(spec.shortname)}>{escape(spec.code)}</office>",
        f"<code>{code}</code><name>{escape(name)}</name><shortname>{escape(name)}</shortname><visible>true</visible>",
        f'<columns code="{code}">',
    ]
    for col in columns:
        parts.append(
            f'<column id="{col.id}"><field>{col.field}</field><label>{escape(col.label)}</label>'
            f"<visible>true</visible><ask>{'true' if col.ask else 'false'}</ask><operator>{col.operator}</operator>"
            f"<from>{escape(col.default_from)}</from><to>{escape(col.default_from)}</to>"
            f"<finderparam>{escape(col.finderparam)}</finderparam></column>"
        )
    parts.append("</columns></browse>")
    return "".join(parts)


@dataclass(frozen=True)
class _Asked:
    field: str
    visible: bool
    operator: str
    from_: str
    to: str


def _value(line: Line, field: str, dim_name: Callable[[str], str]) -> tuple[str, str | None]:
    """(element text, display ``name`` or None) of one field of a line."""
    if field == "fin.trs.head.yearperiod":
        return line.yearperiod, None
    if field == "fin.trs.head.code":
        return line.code, None
    if field == "fin.trs.head.shortname":
        return {"VRK": "Verkoopboek", "BNK": "Bank"}.get(line.code, line.code), None
    if field == "fin.trs.head.number":
        return str(line.number), None
    if field == "fin.trs.head.status":
        return line.status, _STATUS_NAMES.get(line.status)
    if field == "fin.trs.head.date":
        return line.date.strftime("%Y%m%d"), line.date.strftime("%d/%m/%Y")
    if field == "fin.trs.line.dim2":
        return line.dim2, None
    if field == "fin.trs.line.dim2name":
        return dim_name(line.dim2), None
    if field == "fin.trs.head.curcode":
        return line.currency, None
    if field == "fin.trs.line.valuesigned":
        return f"{line.value:.2f}", None
    if field in ("fin.trs.line.basevaluesigned", "fin.trs.line.repvaluesigned"):
        return f"{line.basevalue:.2f}", None
    if field == "fin.trs.line.openbasevaluesigned":
        return f"{line.openbase:.2f}", None
    if field == "fin.trs.line.openvaluesigned":
        return f"{line.open:.2f}", None
    if field == "fin.trs.line.invnumber":
        return line.invnumber, None
    if field == "fin.trs.line.datedue":
        if line.datedue is None:
            return "", None
        return line.datedue.strftime("%Y%m%d"), line.datedue.strftime("%d/%m/%Y")
    if field == "fin.trs.line.matchstatus":
        return line.matchstatus, _MATCH_NAMES.get(line.matchstatus)
    if field == "fin.trs.line.matchnumber":
        return ("" if line.matchnumber is None else str(line.matchnumber)), None
    if field == "fin.trs.line.matchdate":
        if line.matchdate is None:
            return "", None
        return line.matchdate.strftime("%Y%m%d"), line.matchdate.strftime("%d/%m/%Y")
    if field == "fin.trs.line.availableforpayruns":
        return ("true" if line.matchstatus == "available" and line.value > 0 else "false"), None
    if field == "fin.trs.line.modified":
        return line.modified.strftime("%Y%m%d%H%M%S"), None
    raise KeyError(field)


def _compare_key(field: str, value: str) -> tuple[int, Decimal | str]:
    if field in ("fin.trs.head.number", "fin.trs.line.basevaluesigned", "fin.trs.line.valuesigned",
                 "fin.trs.line.matchnumber", "fin.trs.line.repvaluesigned"):
        try:
            return (0, Decimal(value))
        except ArithmeticError:
            return (1, value)
    return (1, value)


def _matches(asked: _Asked, text: str) -> bool:
    if asked.operator == "equal":
        if asked.field == "fin.trs.head.status":
            return text in _STATUS_FILTER.get(asked.from_, {asked.from_})
        return text == asked.from_
    if asked.operator == "between":
        low = _compare_key(asked.field, asked.from_) if asked.from_ else None
        high = _compare_key(asked.field, asked.to) if asked.to else None
        if text == "" and (low or high):
            return False
        here = _compare_key(asked.field, text)
        if low is not None and here < low:
            return False
        return not (high is not None and here > high)
    if asked.operator == "like":
        return fnmatch.fnmatchcase(text, asked.from_.replace("%", "*"))
    return True


def parse_query(root: ET.Element) -> tuple[str, list[_Asked]]:
    code = root.get("code") or ""
    if code not in BROWSES:
        raise BrowseError(f"Browse code {code} bestaat niet.")
    definition = {c.field: c for c in BROWSES[code][1]}
    asked: list[_Asked] = []
    for column in root.iter("column"):
        field = (column.findtext("field") or "").strip()
        if field not in definition:
            raise BrowseError(f"Veld {field} bestaat niet.", field)
        operator = (column.findtext("operator") or "none").strip() or "none"
        from_ = (column.findtext("from") or "").strip()
        to = (column.findtext("to") or "").strip()
        if operator not in ("none", "equal", "between", "like"):
            raise BrowseError(f"Operator {operator} is ongeldig.", field)
        if operator != "none" and (from_ or to) and not definition[field].ask:
            raise BrowseError(f"Op veld {field} kan niet worden gefilterd.", field)
        visible = (column.findtext("visible") or "false").strip().lower() == "true"
        asked.append(_Asked(field, visible, operator, from_, to))
    return code, asked


def run_query(office: OfficeBook, root: ET.Element) -> Iterator[str]:
    """The ``<browse>`` answer to a ``<columns>`` query, as text chunks (rows can be tens of thousands)."""
    code, asked = parse_query(root)
    definition = {c.field: c for c in BROWSES[code][1]}
    filters = [a for a in asked if a.operator != "none" and (a.from_ or a.to)]
    if not any(f.field == "fin.trs.head.status" for f in filters):
        filters.append(_Asked("fin.trs.head.status", False, "equal", "normal", ""))
    all_visible = all(a.visible for a in asked)
    shown = [a for a in asked if a.visible and (all_visible or a.field not in _NEED_ALL_VISIBLE)]

    def dim_name(code_: str) -> str:
        dim = office.dimensions.get(code_)
        return (dim.findtext("name") or "") if dim is not None else ""

    rows = [
        line for line in office.customer_lines()
        if all(_matches(f, _value(line, f.field, dim_name)[0]) for f in filters)
    ]
    total = len(rows)
    yield f'<browse result="1" first="{1 if total else 0}" last="{total}" total="{total}"><th>'
    for a in shown:
        col = definition[a.field]
        yield f"<td label={quoteattr(col.label)} hideforuser=\"false\" type=\"{col.type}\">{a.field}</td>"
    yield "</th>"
    for line in rows:
        cells = []
        for a in shown:
            text, name = _value(line, a.field, dim_name)
            named = f" name={quoteattr(name)}" if name else ""
            cells.append(
                f'<td field="{a.field}" hideforuser="false" type="{definition[a.field].type}"{named}>{escape(text)}</td>'
            )
        yield (
            "<tr>" + "".join(cells)
            + f"<key><office>{escape(office.spec.code)}</office><code>{line.code}</code>"
            f"<number>{line.number}</number><line>{line.line}</line></key></tr>"
        )
    yield "</browse>"
