"""The ProcessXml commands the Twinfield sandbox answers (research notes §2, §3, §5, §6.2).

Every answer is the text of one XML document (the ``ProcessXmlStringResult``). Business errors
come back as ``result="0"`` with ``msgtype``/``msg`` attributes on the offending element, several
messages joined with ``//`` (§6.2); messages in Dutch or English as the user's language says.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape, quoteattr

from adapters.twinfield.sandbox_browse import BrowseError, definition_xml, run_query
from adapters.twinfield.sandbox_data import OfficeBook, default_block, new_dimension

MESSAGES: dict[str, dict[str, str]] = {
    # pronamic fixtures (§5.1): dimension not found, in both languages
    "dim_missing": {"en": "Dimension {code} does not exist.", "nl": "Dimensie {code} bestaat niet."},
    "type_missing": {"en": "Dimension type {code} does not exist.", "nl": "Dimensietype {code} bestaat niet."},
    # pronamic insert-dimension-office-no fixture
    "office_missing": {"en": "The administration does not exist.", "nl": "De administratie bestaat niet."},
    # CodeMill changelog (§5.3)
    "name_required": {"en": "Name is required.", "nl": "Naam moet worden ingevuld."},
    "inuse": {"en": "The element 'inuse' may not be supplied.", "nl": "Het element 'inuse' mag niet worden aangeleverd."},
    "too_long": {"en": "The value of '{code}' is too long.", "nl": "De waarde van '{code}' is te lang."},
    "bad_value": {"en": "The value of '{code}' is invalid.", "nl": "De waarde van '{code}' is ongeldig."},
    "reminderemail": {"en": "Reminder e-mail is mandatory when reminders are sent by e-mail.",
                      "nl": "Aanmaning e-mail is verplicht als aanmaningen per e-mail worden verstuurd."},
    "unknown_command": {"en": "Unknown request '{code}'.", "nl": "Onbekend verzoek '{code}'."},
}

#: §5.2 / CodeMill: lengths of the ``creditmanagement`` strings; ``freetext1`` is documented as
#: true/false ("Right of use"), ``comment`` has no documented length (the sandbox takes 500: UNVERIFIED).
CM_LENGTHS = {"responsibleuser": 16, "reminderemail": 200, "freetext2": 40, "freetext3": 40, "comment": 500}
#: Read-only or server-kept elements a write ignores (murb omits them on updates; ``inuse`` is refused).
READ_ONLY = frozenset({"office", "type", "code", "uid", "behaviour", "modified", "touched"})
#: Sub-blocks an update replaces as a whole. Whether omitted children keep their value is
#: UNVERIFIED (§5.3); the sandbox takes the strict reading — a posted block resets what it omits —
#: so a client that does not read-modify-write loses data here, as it might in Twinfield.
BLOCKS = frozenset({"financials", "creditmanagement", "addresses", "banks"})


class Commands:
    """Runs one ProcessXml request document against the offices of one organisation."""

    def __init__(self, books: dict[str, OfficeBook], *, now: Callable[[], datetime], language: Callable[[], str],
                 guid: Callable[[str, str], str]) -> None:
        self.books = books
        self.now = now
        self.language = language
        self.guid = guid

    def msg(self, key: str, **fields: str) -> str:
        texts = MESSAGES[key]
        return texts.get(self.language(), texts["en"]).format(**fields)

    def run(self, request: ET.Element, company: str | None) -> Iterator[str]:
        root = request.tag
        if root == "list":
            yield self._list(request, company)
        elif root == "read":
            yield self._read(request)
        elif root == "columns":
            yield from self._columns(request, company)
        elif root in ("dimension", "dimensions"):
            yield self._upsert(request)
        else:
            failed = ET.Element(root, {"result": "0", "msgtype": "error", "msg": self.msg("unknown_command", code=root)})
            yield ET.tostring(failed, encoding="unicode")

    # ---- list
    def _list(self, request: ET.Element, company: str | None) -> str:
        kind = (request.findtext("type") or "").strip()
        if kind == "offices":
            # §5.4: <offices result="1"><office name="…" shortname="…">001</office>…
            items = "".join(
                f"<office name={quoteattr(b.spec.name)} shortname={quoteattr(b.spec.shortname)}>{escape(code)}</office>"
                for code, b in self.books.items()
            )
            return f'<offices result="1">{items}</offices>'
        if kind == "dimensions":
            office = (request.findtext("office") or company or "").strip()
            book = self.books.get(office)
            dimtype = (request.findtext("dimtype") or "").strip()
            if book is None:
                return self._refused(request, self.msg("office_missing"), on="office")
            if dimtype != "DEB":
                return self._refused(request, self.msg("type_missing", code=dimtype), on="dimtype")
            # §5.1 / php-twinfield customerListResponse: codes with name/shortname, then a DEB type marker.
            items = "".join(
                f"<dimension name={quoteattr(d.findtext('name') or '')} "
                f"shortname={quoteattr(d.findtext('shortname') or '')}>{escape(code)}</dimension>"
                for code, d in book.dimensions.items() if d.get("status") != "deleted"
            )
            return (f'<dimensions office={quoteattr(office)} type="DEB" result="1">{items}'
                    '<dimension name="" shortname="">DEB</dimension></dimensions>')
        failed = copy.deepcopy(request)
        failed.set("result", "0")
        failed.set("msgtype", "error")
        failed.set("msg", self.msg("unknown_command", code=f"list {kind}"))
        return ET.tostring(failed, encoding="unicode")

    def _refused(self, request: ET.Element, message: str, *, on: str) -> str:
        failed = copy.deepcopy(request)
        failed.set("result", "0")
        target = failed.find(on)
        if target is None:
            target = failed
        target.set("msgtype", "error")
        target.set("msg", message)
        target.set("result", "0")
        return ET.tostring(failed, encoding="unicode")

    # ---- read
    def _read(self, request: ET.Element) -> str:
        kind = (request.findtext("type") or "").strip()
        office = (request.findtext("office") or "").strip()
        book = self.books.get(office)
        if kind == "browse":
            browse_code = (request.findtext("code") or "").strip()
            if book is None:
                return self._refused(request, self.msg("office_missing"), on="office")
            try:
                return definition_xml(book, browse_code)
            except KeyError:
                return self._refused(request, f"Browse code {browse_code} bestaat niet.", on="code")
        if kind != "dimensions":
            return self._refused(request, self.msg("unknown_command", code=f"read {kind}"), on="type")
        dimtype = (request.findtext("dimtype") or "").strip()
        code = request.findtext("code")
        if book is None:
            return self._dimension_error(office, dimtype, code or "", "office")
        if dimtype != "DEB":
            return self._dimension_error(office, dimtype, code or "", "type")
        if code is None:
            # §5.1 (murb read/deb.xml): all customers in full under <dimensions result="1">
            parts = ['<dimensions result="1">']
            parts += [self._render(d) for d in book.dimensions.values() if d.get("status") != "deleted"]
            parts.append("</dimensions>")
            return "".join(parts)
        dim = book.dimensions.get(code.strip())
        if dim is None or dim.get("status") == "deleted":
            return self._dimension_error(office, dimtype, code.strip(), "code")
        return self._render(dim)

    def _render(self, dim: ET.Element) -> str:
        shown = copy.deepcopy(dim)
        shown.set("result", "1")
        return ET.tostring(shown, encoding="unicode")

    def _dimension_error(self, office: str, dimtype: str, code: str, what: str) -> str:
        """pronamic fixtures: ``<dimension result="0">`` with the message on ``code`` or ``type``."""
        root = ET.Element("dimension", {"result": "0"})
        book = self.books.get(office)
        off = ET.SubElement(root, "office", {"name": book.spec.name if book else "", "shortname": ""})
        off.text = office
        typ = ET.SubElement(root, "type", {"name": "Debiteuren" if dimtype == "DEB" else "", "shortname": ""})
        typ.text = dimtype
        cod = ET.SubElement(root, "code")
        cod.text = code
        if what == "office":
            root.set("msgtype", "error")
            root.set("msg", self.msg("office_missing"))
        else:
            target = typ if what == "type" else cod
            target.attrib.update({"msgtype": "error", "msg": self.msg("type_missing" if what == "type" else "dim_missing",
                                                                    code=dimtype if what == "type" else code),
                                  "result": "0"})
        return ET.tostring(root, encoding="unicode")

    # ---- browse data
    def _columns(self, request: ET.Element, company: str | None) -> Iterator[str]:
        # §3.1: the office of a browse is the CompanyCode of the header.
        book = self.books.get(company or "")
        if book is None:
            yield self._refused(request, self.msg("office_missing"), on="office")
            return
        try:
            chunks = run_query(book, request)
            first = next(chunks)
        except BrowseError as exc:
            failed = copy.deepcopy(request)
            failed.set("result", "0")
            target = next((c for c in failed.iter("column") if (c.findtext("field") or "").strip() == exc.field), failed)
            target.attrib.update({"msgtype": "error", "msg": str(exc), "result": "0"})
            yield ET.tostring(failed, encoding="unicode")
            return
        yield first
        yield from chunks

    # ---- dimension upsert (§5.3)
    def _upsert(self, request: ET.Element) -> str:
        posted = [request] if request.tag == "dimension" else list(request.iter("dimension"))
        answers: list[str] = []
        ok = True
        for dim in posted:
            text, good = self._upsert_one(dim)
            answers.append(text)
            ok = ok and good
        if request.tag == "dimension":
            return answers[0]
        return f'<dimensions result="{1 if ok else 0}">{"".join(answers)}</dimensions>'

    def _upsert_one(self, posted: ET.Element) -> tuple[str, bool]:
        office = (posted.findtext("office") or "").strip()
        book = self.books.get(office)
        failed = copy.deepcopy(posted)
        failed.set("result", "0")

        def refuse(messages: list[tuple[str, str]]) -> tuple[str, bool]:
            by_tag: dict[str, list[str]] = {}
            for tag, text in messages:
                by_tag.setdefault(tag, []).append(text)
            for tag, texts in by_tag.items():
                target = failed if tag == "" else (failed.find(tag) if failed.find(tag) is not None else failed)
                assert target is not None
                target.attrib.update({"msgtype": "error", "msg": "//".join(texts), "result": "0"})
            return ET.tostring(failed, encoding="unicode"), False

        if book is None:
            return refuse([("", self.msg("office_missing"))])
        dimtype = (posted.findtext("type") or "").strip()
        if dimtype != "DEB":
            return refuse([("type", self.msg("type_missing", code=dimtype))])
        problems: list[tuple[str, str]] = []
        if posted.find("inuse") is not None:
            problems.append(("inuse", self.msg("inuse")))
        code = (posted.findtext("code") or "").strip()
        existing = book.dimensions.get(code)
        name = posted.findtext("name")
        if name is None or not name.strip():
            problems.append(("name" if posted.find("name") is not None else "", self.msg("name_required")))
        cm = posted.find("creditmanagement")
        if cm is not None:
            problems += [(f"creditmanagement/{tag}", text) for tag, text in self._check_cm(cm)]
        if problems:
            return refuse(problems)
        now = self.now()
        if posted.get("status") == "deleted":
            if existing is not None:
                existing.set("status", "deleted")
                _set(existing, "modified", now.strftime("%Y%m%d%H%M%S"))
                return self._render(existing), True
            return self._dimension_error(office, dimtype, code, "code"), False
        if existing is None:
            code = code or str(1000 + len(book.dimensions))
            existing = new_dimension(book.spec, code, (name or "").strip(), modified=now, uid=self.guid(office, code))
            book.dimensions[code] = existing
        for child in posted:
            tag = child.tag
            if tag in READ_ONLY:
                continue
            if tag in BLOCKS:
                _replace_block(existing, child)
            else:
                _set(existing, tag, child.text or "")
        _set(existing, "modified", now.strftime("%Y%m%d%H%M%S"))
        _set(existing, "touched", str(int(existing.findtext("touched") or "0") + 1))
        return self._render(existing), True

    def _check_cm(self, cm: ET.Element) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for tag, limit in CM_LENGTHS.items():
            if len(cm.findtext(tag) or "") > limit:
                out.append((tag, self.msg("too_long", code=tag)))
        send = cm.findtext("sendreminder")
        if send is not None and send.strip() not in ("true", "false", "email"):
            out.append(("sendreminder", self.msg("bad_value", code="sendreminder")))
        if (send or "").strip() == "email" and not (cm.findtext("reminderemail") or "").strip():
            out.append(("reminderemail", self.msg("reminderemail")))
        limit_text = cm.findtext("basecreditlimit")
        if limit_text is not None:
            try:
                Decimal(limit_text.strip() or "0")
            except InvalidOperation:
                out.append(("basecreditlimit", self.msg("bad_value", code="basecreditlimit")))
        if (cm.findtext("freetext1") or "").strip() not in ("", "true", "false"):
            out.append(("freetext1", self.msg("bad_value", code="freetext1")))
        return out


def _set(dim: ET.Element, tag: str, text: str) -> None:
    child = dim.find(tag)
    if child is None:
        child = ET.SubElement(dim, tag)
    child.text = text


def _replace_block(dim: ET.Element, posted: ET.Element) -> None:
    """Replace a sub-block: children not posted go back to their defaults (strict reading, see BLOCKS)."""
    if posted.tag in ("financials", "creditmanagement"):
        fresh = default_block(posted.tag)
        for child in posted:
            target = fresh.find(child.tag)
            if target is None:
                fresh.append(copy.deepcopy(child))
            else:
                target.text = child.text or ""
                target.attrib.update(child.attrib)
    else:
        fresh = copy.deepcopy(posted)
    old = dim.find(posted.tag)
    if old is None:
        dim.append(fresh)
        return
    index = list(dim).index(old)
    dim.remove(old)
    dim.insert(index, fresh)
