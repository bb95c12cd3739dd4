"""Twinfield adapter: one office of one organisation's grant (docs/reference/twinfield.md §3–§5).

Read path:

* **Debtors**: one ``<read>`` of all DEB dimensions of the office (a 1-credit query, streamed and
  parsed per ``<dimension>``); only dimensions that differ from the last read (a digest of each,
  :func:`_version`) are stored; codes that left the list were deleted. (Finder ``DIM`` with
  ``modifiedsince`` would read fewer bytes but costs a call per 25 codes plus one read each, §5.1.)
* **Open items** through browse 100 (§3.6), one book year per query (WK advice, §3.2):
  - a full read asks ``matchstatus = available`` then ``proposed`` (provisional and final only,
    the definition's default status filter); what a full read no longer returns is settled (§3.5);
  - an incremental read asks the lines whose ``fin.trs.line.modified`` lies after the bookmark
    (any match status: a matched line comes back as paid, with its match date) and the deleted
    transactions since then (§4.5). A full reconcile runs every ``reconcile_every`` anyway.
  - ``proposed`` lines are kept open but flagged ``in_direct_debit``: they are in a collection run
    and must not be reminded.
* **Payments** are the receipt lines that got matched, from the same browse (``Page.payments``).

State (``Page.state``): ``open`` — the ids of the items stored as open after the last page, so a
deleted transaction or a full reconcile knows which of them went away; ``deb`` — code → version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from adapters.twinfield.client import TwinfieldClient, iter_elements, iter_xml
from adapters.twinfield.mapping import (
    BLOCK_FIELDS,
    BLOCK_TEXT,
    DEFAULT_BLOCK_FIELD,
    ITEM_FIELDS,
    OPEN_STATUSES,
    BrowseRow,
    clean,
    debtor_from_dimension,
    open_item_from_row,
    payments_from_rows,
    row_from_tr,
    set_credit_field,
    writable_dimension,
)
from connector.errors import ApiError, MappingError, UnsupportedAction
from connector.http import ApiClient
from connector.model import (
    ActionKind,
    Administration,
    ApplyOutcome,
    ApplyResult,
    Debtor,
    OpenItem,
    Page,
    Payment,
    PlannedAction,
    Quarantined,
    StepRecord,
)
from connector.ports import Capability, NoState, StateReader

log = logging.getLogger("arconnect.twinfield")

PAGE_SIZE = 500
#: §5.1: finder pages (php-twinfield's default maxRows).
FINDER_PAGE = 100
#: Re-read after this overlap: Twinfield's ``modified`` zone is not documented (UNVERIFIED); a
#: bound in UTC minus an overlap can only re-read lines, never miss one.
OVERLAP = timedelta(minutes=10)
#: §5.2 lengths (freetext2 string(40); freetext3 and comment: none documented, taken as 40 and 500: UNVERIFIED).
COMMENT_LIMIT = 500
STEP_PREFIX = "[arconnect stap]"
CALL_PREFIX = "[arconnect bellen]"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _version(dim: ET.Element) -> str:
    """What tells a changed customer from an unchanged one: a digest of the whole dimension as read.

    ``modified`` has whole seconds, so a change in the second of the last read would go unseen;
    every dimension is read in full anyway, so its content itself is the surest version.
    """
    dim.tail = None  # the text after it depends on where the stream's chunks end; it is no part of it
    return hashlib.sha256(ET.tostring(dim)).hexdigest()[:20]


def _quarantine(stream: str, source_id: str | None, raw: dict[str, Any], exc: Exception) -> Quarantined:
    return Quarantined(stream=stream, source_id=source_id, reason=str(exc), raw=raw)


class TwinfieldAdapter:
    package: ClassVar[str] = "twinfield"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.SET_CREDIT_LIMIT,
            Capability.PAUSE_SOURCE_REMINDERS,
            Capability.BLOCK_DEBTOR,
            Capability.ADD_NOTE,
            Capability.ADD_TASK,
        }
    )

    def __init__(
        self,
        api: ApiClient,
        *,
        connection_id: str,
        office: str,
        base_currency: str = "EUR",
        state: StateReader | None = None,
        block_field: str | None = None,
        book_years: int = 3,
        reconcile_every: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.api = api
        self.client = TwinfieldClient(api)
        self.connection_id = connection_id
        self.office = office
        self.base_currency = base_currency
        self.state: StateReader = state or NoState()
        if block_field is not None and block_field not in BLOCK_FIELDS:
            raise UnsupportedAction(f"Twinfield: a block can be recorded in {', '.join(BLOCK_FIELDS)}, not {block_field!r}")
        self.block_field = block_field or DEFAULT_BLOCK_FIELD
        self.book_years = book_years
        self.reconcile_every = reconcile_every
        self.clock = clock
        # §6.1: Fair Use counts per client id + organisation; the key is the credential's.
        self.rate_limit_key = api.limiter_key

    # ------------------------------------------------------------------ linking
    def administrations(self) -> list[Administration]:
        """§5.4: ``<list><type>offices</type></list>`` (no CompanyCode needed) gives code and name;
        the office's country comes from finder ``OFF`` (code, name, country code, …), so a Belgian
        office links as BE. The list has no country, and no office read sample shows one."""
        root = self.client.checked("<list><type>offices</type></list>", None)
        offices = [(clean(o.text), clean(o.get("name")) or clean(o.text)) for o in root.iter("office") if clean(o.text)]
        countries = self._office_countries(offices[0][0]) if offices else {}
        return [Administration(source_id=code, name=name, country=countries.get(code)) for code, name in offices]

    def _office_countries(self, company: str) -> dict[str, str]:
        """Office code → ISO country from finder ``OFF``, 100 a page (1 credit each, §6.1).

        Items are read by position as php-twinfield does (0 code, 2 country code); the column
        headings are not documented. Whether the finder wants a CompanyCode is UNVERIFIED: the
        first listed office goes along, which is harmless when it is not needed. A refused finder
        costs only the country (the link then takes NL, the default), never the link.
        """
        countries: dict[str, str] = {}
        first = 1
        while True:
            try:
                total, rows = self.client.finder("OFF", company=company, first_row=first, max_rows=FINDER_PAGE)
            except ApiError as exc:
                log.warning("Twinfield: office countries not available (%s); offices link as NL", exc)
                return countries
            for row in rows:
                code = row[0].strip() if row else ""
                country = row[2].strip().upper() if len(row) > 2 else ""
                if code and len(country) == 2 and country.isalpha():
                    countries[code] = country
            first += len(rows)
            if not rows or first > total:
                return countries

    def on_remove(self) -> None:
        """Nothing to undo in Twinfield."""

    def markers(self) -> list[StepRecord]:
        """None to read back: Twinfield keeps only arconnect's latest step per debtor, as one line in
        ``creditmanagement/comment`` without the step's key or profile (no notes API), so a lost journal
        cannot be rebuilt from it; the archived journal (``connections remove`` keeps it) is the guard."""
        return []

    # ------------------------------------------------------------------ debtors
    def debtors(self, since: str | None) -> Iterator[Page[Debtor]]:
        known: dict[str, str] = {} if since is None else dict(self.state.get_state(["deb"]).get("deb") or {})
        command = f"<read><type>dimensions</type><office>{escape(self.office)}</office><dimtype>DEB</dimtype></read>"
        seen: dict[str, str] = {}
        records: list[Debtor] = []
        quarantined: list[Quarantined] = []
        with self.client.document(command, self.office) as chunks:
            for dim in iter_elements(chunks, "dimension"):
                if dim.get("result") == "0":
                    raise ApiError(f"Twinfield: reading customers of {self.office} was refused: {dim.get('msg') or ''}")
                code = clean(dim.findtext("code"))
                version = _version(dim)
                seen[code] = version
                if known.get(code) == version:
                    continue
                try:
                    records.append(debtor_from_dimension(dim, self.connection_id, self.base_currency, self.block_field))
                except (MappingError, ValueError) as exc:
                    raw = {"xml": ET.tostring(dim, encoding="unicode")[:2000]}
                    quarantined.append(_quarantine("debtors", code or None, raw, exc))
                if len(records) >= PAGE_SIZE:
                    yield Page(records=records, quarantined=quarantined, state={"deb": {**known, **seen}})
                    records, quarantined = [], []
        gone = sorted(set(known) - set(seen))
        yield Page(records=records, quarantined=quarantined, deleted=gone, state={"deb": seen},
                   bookmark=self.clock().isoformat(timespec="seconds"))

    # ------------------------------------------------------------------ open items
    def _years(self) -> list[int]:
        this = self.clock().year
        return list(range(this - self.book_years + 1, this + 1))

    def _browse(self, *filters: tuple[str, str, str, str]) -> Iterator[list[BrowseRow]]:
        """One browse-100 query, in lists of at most :data:`PAGE_SIZE` rows parsed as the answer
        arrives (the answer is never held whole); every column visible (§3.1), filters only on ask
        columns (§3.4). A refusal (``result="0"``, a column with ``msgtype="error"``) comes before
        any row and is raised before any is given."""
        wanted = {f[0] for f in filters}
        columns = [
            f"<column><field>{field}</field><visible>true</visible><ask>true</ask><operator>{op}</operator>"
            f"<from>{escape(lo)}</from><to>{escape(hi)}</to></column>" for field, op, lo, hi in filters
        ] + [f"<column><field>{f}</field><visible>true</visible></column>" for f in ITEM_FIELDS if f not in wanted]
        command = f'<columns code="100">{"".join(columns)}</columns>'
        rows: list[BrowseRow] = []
        refused: list[str] = []

        def check() -> None:
            if refused:
                raise ApiError(f"Twinfield: browse 100 refused in office {self.office}: " + " // ".join(m for m in refused if m))

        with self.client.document(command, self.office) as chunks:
            for event, element in iter_xml(chunks, release=("tr",)):
                name = element.tag.rsplit("}", 1)[-1]
                if (event == "start" and name in ("browse", "columns") and element.get("result") == "0") or (
                        event == "end" and name == "column" and element.get("msgtype") == "error"):
                    refused.append(element.get("msg") or "")
                elif event == "end" and name == "tr":
                    check()
                    rows.append(row_from_tr(element))
                    if len(rows) >= PAGE_SIZE:
                        yield rows
                        rows = []
        check()
        if rows:
            yield rows

    def _year(self, year: int) -> tuple[str, str, str, str]:
        return ("fin.trs.head.yearperiod", "between", f"{year}/00", f"{year}/99")

    def open_items(self, since: str | None) -> Iterator[Page[OpenItem]]:
        now = self.clock()
        mark: dict[str, Any] = json.loads(since) if since else {}
        stored_open: set[str] = set(self.state.get_state(["open"]).get("open") or []) if since else set()
        read_at = datetime.fromisoformat(mark["read_at"]) if mark.get("read_at") else None
        full_at = datetime.fromisoformat(mark["full_at"]) if mark.get("full_at") else None
        full = read_at is None or full_at is None or now - full_at >= self.reconcile_every
        open_now = set(stored_open)
        seen: set[str] = set()
        #: Rows of the changes read: a receipt and the invoice it pays may sit in different book years.
        changed: list[BrowseRow] = []

        def page(rows: list[BrowseRow], *, keep: bool = False) -> Page[OpenItem]:
            records: list[OpenItem] = []
            quarantined: list[Quarantined] = []
            good: list[BrowseRow] = []
            for row in rows:
                try:
                    item = open_item_from_row(row, self.connection_id, self.base_currency)
                except (MappingError, ValueError) as exc:
                    quarantined.append(_quarantine("open_items", row.source_id, row.raw(), exc))
                    continue
                good.append(row)
                seen.add(item.source_id)
                if item.status == "open":
                    open_now.add(item.source_id)
                else:
                    open_now.discard(item.source_id)
                records.append(item)
            if keep:
                changed.extend(good)
            return Page(records=records, quarantined=quarantined, state={"open": sorted(open_now)})

        if read_at is not None:
            # Changes since the last read, any match status: closings, part payments, new lines.
            low = (read_at - OVERLAP).strftime("%Y%m%d%H%M%S")
            high = (now + OVERLAP).strftime("%Y%m%d%H%M%S")
            for year in self._years():
                for rows in self._browse(self._year(year), ("fin.trs.line.modified", "between", low, high)):
                    yield page(rows, keep=True)
            deleted = self.client.deleted_transactions(self.office, read_at - OVERLAP, now + OVERLAP)
            prefixes = tuple(f"{code}/{number}/" for code, number in deleted)
            gone = sorted(i for i in open_now if prefixes and i.startswith(prefixes))
            open_now.difference_update(gone)
            # Payments: receipts matched since the last read, with the sales lines of the same match.
            yield Page(deleted=gone, payments=payments_from_rows(changed, self.connection_id, self.base_currency),
                       state={"open": sorted(open_now)})
        if full:
            listed: set[str] = set()
            for year in self._years():
                for status in OPEN_STATUSES:
                    for rows in self._browse(self._year(year), ("fin.trs.line.matchstatus", "equal", status, "")):
                        listed.update(r.source_id for r in rows)
                        yield page(rows)
            # §3.5: what the open lists no longer return is settled. The changes read above carried
            # the matched ones as paid; what is left went away without trace: deleted.
            vanished = sorted(i for i in open_now if i not in listed)
            open_now.difference_update(vanished)
            full_at = now
            yield Page(deleted=vanished, state={"open": sorted(open_now)},
                       bookmark=json.dumps({"read_at": now.isoformat(), "full_at": now.isoformat()}))
            return
        yield Page(state={"open": sorted(open_now)},
                   bookmark=json.dumps({"read_at": now.isoformat(), "full_at": (full_at or now).isoformat()}))

    def payments(self, since: str | None) -> Iterator[Page[Payment]]:
        """Payments arrive with the open items (matched receipt lines, ``Page.payments``)."""
        return iter(())

    # ------------------------------------------------------------------ write-back
    #
    # Every change is read → modify → write of the whole DEB dimension (§5.3: whether omitted
    # children survive an update is UNVERIFIED), and only when something differs: a second apply
    # reads the same values and changes nothing.

    def _read_dimension(self, code: str) -> ET.Element:
        command = (f"<read><type>dimensions</type><office>{escape(self.office)}</office><dimtype>DEB</dimtype>"
                   f"<code>{escape(code)}</code></read>")
        return self.client.checked(command, self.office)

    def _write_dimension(self, dim: ET.Element) -> None:
        self.client.checked(ET.tostring(writable_dimension(dim), encoding="unicode"), self.office)

    def _change(self, code: str, change: Callable[[ET.Element], bool], what: str) -> ApplyResult:
        dim = self._read_dimension(code)
        if not change(dim):
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason=f"{what} already so in Twinfield")
        self._write_dimension(dim)
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=f"{self.office}/DEB/{code}", reason=what)

    def apply(self, action: PlannedAction) -> ApplyResult:
        kind = action.kind
        code = action.debtor_source_id
        if kind == ActionKind.SET_CREDIT_LIMIT:
            if action.credit_limit is None:
                return ApplyResult(outcome=ApplyOutcome.FAILED, reason="no credit limit given")
            value = f"{action.credit_limit.amount:.2f}"
            return self._change(code, lambda d: set_credit_field(d, "basecreditlimit", value), f"credit limit {value}")
        if kind in (ActionKind.PAUSE_SOURCE_REMINDERS, ActionKind.RESUME_SOURCE_REMINDERS):
            pause = kind == ActionKind.PAUSE_SOURCE_REMINDERS

            def reminders(dim: ET.Element) -> bool:
                email = clean(dim.findtext("creditmanagement/reminderemail"))
                return set_credit_field(dim, "sendreminder", "false" if pause else ("email" if email else "true"))

            return self._change(code, reminders, "Twinfield reminders " + ("off" if pause else "on"))
        if kind in (ActionKind.BLOCK, ActionKind.UNBLOCK):
            return self._block(code, block=kind == ActionKind.BLOCK)
        if kind == ActionKind.CALL_TASK or action.details.get("effect") == "task":
            return self._record(code, CALL_PREFIX, action)
        if kind in (ActionKind.REMINDER, ActionKind.FORMAL_NOTICE, ActionKind.NOTICE_OF_DEFAULT,
                    ActionKind.COLLECTION_HANDOVER):
            return self._record(code, STEP_PREFIX, action)
        return ApplyResult(outcome=ApplyOutcome.UNSUPPORTED,
                           reason=f"Twinfield's API offers nothing for {kind.value}")

    def _block(self, code: str, *, block: bool) -> ApplyResult:
        """§5.2: ``blocked`` only blocks T&E projects, so arconnect's block is a text in the
        connection's block field; arconnect lifts only the block text it wrote."""
        tag = self.block_field

        def change(dim: ET.Element) -> bool:
            current = dim.findtext(f"creditmanagement/{tag}") or ""
            if block:
                if BLOCK_TEXT in current:
                    return False
                text = BLOCK_TEXT if not current.strip() else f"{current.strip()} {BLOCK_TEXT}"
            else:
                if BLOCK_TEXT not in current:
                    return False
                text = current.replace(BLOCK_TEXT, "").strip()
            if tag in ("freetext2", "freetext3") and len(text) > 40:
                raise ApiError(f"Twinfield: {tag} holds at most 40 characters; the block does not fit")
            return set_credit_field(dim, tag, text)

        return self._change(code, change, ("block recorded in " if block else "block lifted from ") + tag)

    def _record(self, code: str, prefix: str, action: PlannedAction) -> ApplyResult:
        """The latest dunning step or call task as one arconnect line in ``creditmanagement/comment``,
        replacing arconnect's previous line of that kind; the bookkeeper's own text stays."""
        what = action.step or action.kind.value
        items = ", ".join(action.item_source_ids[:5]) + (" …" if len(action.item_source_ids) > 5 else "")
        line = f"{prefix} {action.run_date:%Y-%m-%d} {what}" + (f": {items}" if items else "")

        def change(dim: ET.Element) -> bool:
            current = (dim.findtext("creditmanagement/comment") or "").splitlines()
            kept = [ln for ln in current if not ln.startswith(prefix)]
            text = "\n".join([*kept, line[:200]])
            if len(text) > COMMENT_LIMIT:
                raise ApiError("Twinfield: the customer's comment is too full to record the step")
            return set_credit_field(dim, "comment", text)

        return self._change(code, change, f"{what} recorded in the comment")

