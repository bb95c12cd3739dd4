"""OData v2 pieces of the Exact Online sandbox: ``$filter`` parsing, ``$select``, verbose JSON and Atom.

Everything here follows docs/reference/exact.md §2 (request conventions):

* §2.2 envelopes ``{"d": {"results": [...], "__next": "..."}}`` / ``{"d": {...}}`` with ``__metadata``;
* §2.5 ``$filter`` literals: ``guid'…'``, ``datetime'…'`` (no offset: Amsterdam time, §2.6), Int64 with ``L``,
  strings in single quotes, booleans, ``trim(Field)``; operators eq/ne/gt/ge/lt/le, ``and``/``or``/``not``
  and parentheses. Navigation filters and field-to-field comparisons are not supported (§2.5) and
  answer 400;
* §2.6 dates as ``/Date(epoch ms)/`` of the Amsterdam wall-clock time;
* §2.8 error bodies ``{"error":{"code":"","message":{"lang":"","value":"…"}}}``.

Amounts are ``Decimal`` inside the sandbox and written as JSON numbers exactly as the decimal reads
(Exact sends ``Edm.Double``); no float is ever involved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from connector.sandbox import Response

Row = dict[str, Any]


class ODataError(Exception):
    """A refusal rendered as Exact's OData error body (§2.8)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_body(message: str) -> dict[str, Any]:
    """§2.8: the OData v2 error shape Exact uses on REST calls."""
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response.json(error_body(message), status=status, headers=headers)


# --------------------------------------------------------------------------- values on the wire


#: §2.6: Exact writes Dutch local time as if it were UTC (AIRB; issue 16 point 4).
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def epoch_ms(moment: datetime | date) -> int:
    """§2.6: the wall-clock time in Amsterdam, written as if it were UTC; date-only values are 00:00 of that
    date (a ``date``, or a datetime at midnight in Amsterdam, comes out as 00:00Z of the same day)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    elif moment.tzinfo is not None:
        wall = moment.astimezone(AMSTERDAM).replace(tzinfo=UTC)
        return int(wall.timestamp() * 1000)
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def odata_date(moment: datetime | date) -> str:
    return f"/Date({epoch_ms(moment)})/"


_MARK = "\u0000N:"
_MARK_RE = re.compile(r'"\\u0000N:([^"\\]*)"')


def _wire_default(value: object) -> object:
    if isinstance(value, Decimal):
        return f"{_MARK}{value}"
    if isinstance(value, datetime | date):
        return odata_date(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(payload: Any) -> str:
    """JSON with ``Decimal`` written as a plain number and datetimes as ``/Date(ms)/``."""
    text = json.dumps(payload, default=_wire_default, ensure_ascii=False)
    return _MARK_RE.sub(lambda m: m.group(1), text)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return Response(status=status, body=dumps(payload).encode("utf-8"), headers=merged)


def render(row: Mapping[str, Any], fields: list[str], uri: str, type_name: str) -> Row:
    """One entity as verbose JSON: ``__metadata`` first, then the selected properties."""
    out: Row = {"__metadata": {"uri": uri, "type": type_name}}
    for name in fields:
        if name in row:
            out[name] = row[name]
        else:
            out[name] = None
    return out


# --------------------------------------------------------------------------- Atom (no Accept: json)


def _atom_value(name: str, value: Any) -> str:
    if value is None:
        return f'<d:{name} m:null="true" />'
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        text = value.astimezone(AMSTERDAM).strftime("%Y-%m-%dT%H:%M:%S")  # §2.6 local time
    elif isinstance(value, date):
        text = f"{value.isoformat()}T00:00:00"
    else:
        text = str(value)
    return f"<d:{name}>{escape(text)}</d:{name}>"


def _atom_entry(row: Mapping[str, Any]) -> str:
    meta = row.get("__metadata") or {}
    props = "".join(_atom_value(k, v) for k, v in row.items() if k != "__metadata" and not isinstance(v, dict))
    return (
        f"<entry><id>{escape(str(meta.get('uri', '')))}</id>"
        f"<category term=\"{escape(str(meta.get('type', '')))}\" "
        "scheme=\"http://schemas.microsoft.com/ado/2007/08/dataservices/scheme\" />"
        f"<content type=\"application/xml\"><m:properties>{props}</m:properties></content></entry>"
    )


_NS = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)


def atom(d: Any) -> str:
    """§2.1: without ``Accept: application/json`` Exact answers Atom XML (the OData v2 default)."""
    head = '<?xml version="1.0" encoding="utf-8"?>'
    if isinstance(d, dict) and isinstance(d.get("results"), list):
        entries = "".join(_atom_entry(r) for r in d["results"])
        nxt = f'<link rel="next" href="{escape(d["__next"])}" />' if d.get("__next") else ""
        count = f"<m:count>{d['__count']}</m:count>" if "__count" in d else ""
        return f"{head}<feed {_NS}>{count}{entries}{nxt}</feed>"
    if isinstance(d, dict) and "__metadata" in d:
        return head + _atom_entry(d).replace("<entry>", f"<entry {_NS}>", 1)
    props = "".join(_atom_value(k, v) for k, v in (d or {}).items()) if isinstance(d, dict) else ""
    return f"{head}<m:properties {_NS}>{props}</m:properties>"


# --------------------------------------------------------------------------- $select


def parse_select(raw: str | None, known: list[str], type_name: str) -> list[str] | None:
    """Field names of ``$select`` (None when absent); an unknown name is a 400."""
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names or "*" in names:
        # §2.4: never use $select=*; the sandbox treats it as "no usable $select".
        return None
    known_set = set(known)
    for name in names:
        if name not in known_set:
            raise ODataError(400, f"Could not find a property named '{name}' on type '{type_name}'.")
    return names


# --------------------------------------------------------------------------- $filter

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<guid>guid'(?P<g>[^']*)')
      | (?P<dt>datetime'(?P<d>[^']*)')
      | (?P<str>'(?P<s>(?:[^']|'')*)')
      | (?P<num>-?\d+(?:\.\d+)?(?P<suffix>[LlMmDdFf])?)(?![\w.])
      | (?P<lp>\()
      | (?P<rp>\))
      | (?P<comma>,)
      | (?P<word>[A-Za-z_][\w/]*)
    )""",
    re.VERBOSE,
)

_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Field:
    name: str
    trim: bool = False


@dataclass(frozen=True)
class Compare:
    op: str
    field: Field
    literal: Literal


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    inner: Expr


Expr = Compare | BoolOp | Not


def _parse_datetime_literal(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ODataError(400, f"Unrecognized 'Edm.DateTime' literal 'datetime'{text}''.") from exc
    if parsed.tzinfo is None:
        # §2.6: Airbyte sends ``Modified`` filters in Dutch local time without an offset; the sandbox reads
        # literals without offset as Amsterdam local time, the same zone its dates are written in.
        parsed = parsed.replace(tzinfo=AMSTERDAM)
    return parsed.astimezone(UTC)


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise ODataError(400, f"Syntax error at position {pos} in '{text}'.")
        pos = match.end()
        if match.group("guid"):
            out.append(("lit", match.group("g").lower()))
        elif match.group("dt"):
            out.append(("lit", _parse_datetime_literal(match.group("d"))))
        elif match.group("str") is not None and match.group("s") is not None:
            out.append(("lit", match.group("s").replace("''", "'")))
        elif match.group("num"):
            raw = match.group("num")
            suffix = match.group("suffix")
            number = raw[:-1] if suffix else raw
            is_decimal = "." in number or (suffix is not None and suffix.lower() in ("m", "d", "f"))
            out.append(("lit", Decimal(number) if is_decimal else int(number)))
        elif match.group("lp"):
            out.append(("(", None))
        elif match.group("rp"):
            out.append((")", None))
        elif match.group("comma"):
            out.append((",", None))
        else:
            word = match.group("word")
            if word in ("true", "false"):
                out.append(("lit", word == "true"))
            elif word == "null":
                out.append(("lit", None))
            else:
                out.append(("word", word))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise ODataError(400, f"Unexpected end of expression in '{self.text}'.")
        self.i += 1
        return tok

    def parse(self) -> Expr:
        expr = self.or_expr()
        if self.peek() is not None:
            raise ODataError(400, f"Syntax error in '{self.text}'.")
        return expr

    def or_expr(self) -> Expr:
        left = self.and_expr()
        while self.peek() == ("word", "or"):
            self.take()
            left = BoolOp("or", left, self.and_expr())
        return left

    def and_expr(self) -> Expr:
        left = self.unary()
        while self.peek() == ("word", "and"):
            self.take()
            left = BoolOp("and", left, self.unary())
        return left

    def unary(self) -> Expr:
        if self.peek() == ("word", "not"):
            self.take()
            return Not(self.unary())
        if self.peek() == ("(", None):
            self.take()
            inner = self.or_expr()
            if self.take() != (")", None):
                raise ODataError(400, f"')' expected in '{self.text}'.")
            return inner
        return self.comparison()

    def operand_field(self) -> Field:
        kind, value = self.take()
        if kind != "word":
            raise ODataError(400, f"A property name is expected in '{self.text}'.")
        if value.lower() == "trim" and self.peek() == ("(", None):
            self.take()
            kind2, name = self.take()
            if kind2 != "word" or self.take() != (")", None):
                raise ODataError(400, f"Syntax error in trim() in '{self.text}'.")
            return Field(name, trim=True)
        if "/" in value:
            # §2.5: no filters on navigation properties.
            raise ODataError(400, f"Filtering on navigation property '{value}' is not supported.")
        return Field(value)

    def comparison(self) -> Compare:
        field = self.operand_field()
        kind, op = self.take()
        if kind != "word" or op not in _COMPARE:
            raise ODataError(400, f"Operator expected after '{field.name}' in '{self.text}'.")
        kind, value = self.take()
        if kind != "lit":
            # §2.5: field-to-field comparisons are not supported.
            raise ODataError(400, f"Only comparisons with a literal are supported in '{self.text}'.")
        return Compare(op, field, Literal(value))


def parse_filter(text: str | None) -> Expr | None:
    if text is None or not text.strip():
        return None
    return _Parser(text).parse()


def fields_of(expr: Expr) -> set[str]:
    if isinstance(expr, Compare):
        return {expr.field.name}
    if isinstance(expr, Not):
        return fields_of(expr.inner)
    return fields_of(expr.left) | fields_of(expr.right)


def check_filter(expr: Expr | None, known: list[str], allowed: set[str] | None, type_name: str) -> None:
    """Unknown fields and fields outside the endpoint's allow-list (§2.5) are a 400."""
    if expr is None:
        return
    known_set = set(known)
    for name in sorted(fields_of(expr)):
        if name not in known_set:
            raise ODataError(400, f"Could not find a property named '{name}' on type '{type_name}'.")
        if allowed is not None and name not in allowed:
            raise ODataError(400, f"Filtering on property '{name}' is not allowed for this endpoint.")


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=AMSTERDAM)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return value
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        if op == "gt":
            return bool(left > right)
        if op == "ge":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        return False


def evaluate(expr: Expr, row: Mapping[str, Any], guid_fields: set[str]) -> bool:
    if isinstance(expr, BoolOp):
        if expr.op == "and":
            return evaluate(expr.left, row, guid_fields) and evaluate(expr.right, row, guid_fields)
        return evaluate(expr.left, row, guid_fields) or evaluate(expr.right, row, guid_fields)
    if isinstance(expr, Not):
        return not evaluate(expr.inner, row, guid_fields)
    value = row.get(expr.field.name)
    if isinstance(value, str):
        if expr.field.trim:
            value = value.strip()
        if expr.field.name in guid_fields:
            value = value.lower()
    return _compare(expr.op, _comparable(value), _comparable(expr.literal.value))


def predicate(expr: Expr | None, guid_fields: set[str]) -> Callable[[Mapping[str, Any]], bool]:
    if expr is None:
        return lambda row: True
    return lambda row: evaluate(expr, row, guid_fields)


def int_bounds(expr: Expr | None, name: str) -> tuple[int | None, int | None]:
    """(exclusive lower, exclusive upper) bounds on an integer field implied by an ``and`` chain.

    Used by sync endpoints so ``Timestamp gt 123L`` starts reading at 124 instead of at the start.
    Anything other than an and-chain of comparisons gives no bounds (the predicate still applies).
    """
    if expr is None:
        return None, None
    if isinstance(expr, BoolOp) and expr.op == "and":
        lo1, hi1 = int_bounds(expr.left, name)
        lo2, hi2 = int_bounds(expr.right, name)
        los = [v for v in (lo1, lo2) if v is not None]
        his = [v for v in (hi1, hi2) if v is not None]
        return (max(los) if los else None), (min(his) if his else None)
    if isinstance(expr, Compare) and expr.field.name == name and not expr.field.trim:
        value = expr.literal.value
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return None, None
        try:
            number = int(value)
        except (InvalidOperation, ValueError):
            return None, None
        exact = Decimal(number) == Decimal(value)
        if expr.op == "gt":
            return number, None
        if expr.op == "ge":
            return number - 1, None
        if expr.op == "eq" and exact:
            return number - 1, number + 1
        if expr.op == "lt":
            return None, number if exact else number + 1
        if expr.op == "le":
            return None, number + 1
    return None, None
