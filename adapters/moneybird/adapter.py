"""Moneybird adapter: one administration of one Moneybird grant.

Read path (docs/reference/moneybird.md §5 "Synchronization API"): for contacts and for the unpaid sales
invoices, ``GET …/synchronization`` lists every id with its version; the ids whose version differs
from the stored one are fetched with ``POST …/synchronization``, at most 100 per call. So a sync
costs the two id lists plus ceil(changed / 100) POSTs.

* Debtors: contacts, archived ones included (their invoices can still be open). An id that left
  the list was deleted.
* Open items: the sync list is filtered on the unpaid set ``state:open|late|reminded|pending_payment``
  with an explicit ``period:`` (§4). An id that leaves that list got paid, written off or deleted
  ("an id that disappears … has been deleted (or moved out of the filter)", §5): it is fetched
  with the changed ones; when it comes back it is stored with its closing status and date (paid,
  uncollectible), when it does not it is deleted.
* Payments arrive embedded in the invoices (§6: no payments list or sync endpoint) and are
  stored with the open-items pages (``Page.payments``).

State kept per connection (``Page.state``, stored with each page): ``<c|i>:v:<id>`` the version
last stored for an id, and ``<c|i>:idx`` the ids of the last list (the candidates for deletion).
While a sync runs the index is the union of the old and the new list, so a sync killed halfway
still detects deletions next time; the last page sets it to the new list. The bookmark only says
when the stream was last read; ``since=None`` (first run or reset bookmarks) fetches everything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeVar

from adapters.moneybird.client import SYNC_BATCH, MoneybirdClient
from adapters.moneybird.mapping import (
    AMSTERDAM,
    REMINDABLE_STATES,
    UNPAID_STATES,
    custom_field_map,
    debtor_from_contact,
    is_truthy,
    open_item_from_invoice,
    payments_from_invoice,
    reminded_since,
    reminder_groups,
    settled_filter,
    unpaid_filter,
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
    action_summary,
    step_records_in,
    to_decimal,
)
from connector.ports import Capability, NoState, StateReader

RecordT = TypeVar("RecordT", Debtor, OpenItem)

#: Default names of the contact custom fields the user creates in Moneybird (§8: the API can only
#: list custom fields and set values); the connection may name others.
DEFAULT_BLOCK_FIELD = "Geblokkeerd"
DEFAULT_CREDIT_LIMIT_FIELD = "Kredietlimiet"
BLOCK_VALUE = "ja"

#: Actions that are a reminder in Moneybird's own terms (§7 send_reminders).
REMINDER_KINDS = frozenset({ActionKind.REMINDER, ActionKind.FORMAL_NOTICE})
#: Letter-like steps Moneybird has no action for: recorded as a note on each invoice.
NOTE_KINDS: dict[ActionKind, str] = {
    ActionKind.NOTICE_OF_DEFAULT: "Ingebrekestelling verstuurd (notice of default sent)",
    ActionKind.COLLECTION_HANDOVER: "Vordering overgedragen aan incassobureau (handed over for collection)",
    ActionKind.ADD_NOTE: "Debiteurenbeheer (credit control)",
}
#: Channels where arconnect sends the message itself: Moneybird records it as ``Manual`` (§7).
OWN_CHANNELS = frozenset({"email", "letter", "registered_letter", "phone", "none"})


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _bookmark(moment: datetime, count: int) -> str:
    return json.dumps({"read_at": moment.isoformat(timespec="seconds"), "ids": count})


def _quarantine(stream: str, row: Mapping[str, Any], exc: Exception) -> Quarantined:
    ident = row.get("id")
    return Quarantined(stream=stream, source_id=str(ident) if ident is not None else None, reason=str(exc), raw=dict(row))


class MoneybirdAdapter:
    package: ClassVar[str] = "moneybird"
    #: A record that does not map keeps no stored version, so the next sync asks for it again.
    refetches_quarantined: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.BLOCK_DEBTOR,
            Capability.SET_CREDIT_LIMIT,
            Capability.SEND_REMINDER,
            Capability.PAUSE_SOURCE_REMINDERS,
            Capability.ADD_NOTE,
            Capability.ADD_TASK,
            Capability.MARK_UNCOLLECTIBLE,
            Capability.MARK_DOUBTFUL,
            Capability.READ_DUNNING_LEVEL,
        }
    )

    def __init__(
        self,
        api: ApiClient,
        *,
        connection_id: str,
        administration_id: str,
        base_currency: str = "EUR",
        state: StateReader | None = None,
        block_field: str = DEFAULT_BLOCK_FIELD,
        credit_limit_field: str = DEFAULT_CREDIT_LIMIT_FIELD,
        assignee: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.api = api
        self.client = MoneybirdClient(api, administration_id)
        self.connection_id = connection_id
        self.administration_id = administration_id
        self.base_currency = base_currency
        self.state: StateReader = state or NoState()
        self.block_field = block_field
        self.credit_limit_field = credit_limit_field
        self.assignee = assignee
        self.clock = clock
        # §9: the limit counts per token; the key is the credential's (ApiClient's) key.
        self.rate_limit_key = api.limiter_key
        self._custom_fields: dict[str, str] | None = None
        self._users: list[dict[str, Any]] | None = None

    def today(self) -> date:
        return self.clock().astimezone(AMSTERDAM).date()

    def limitations(self) -> list[str]:
        """What a plan should say about this package (issue 5: Moneybird has no block field)."""
        return limitations(self.block_field, self.credit_limit_field)

    # ------------------------------------------------------------------ linking

    def administrations(self) -> list[Administration]:
        """§3: ``GET /api/v2/administrations.json`` (outside any administration)."""
        response = self.api.get("/api/v2/administrations.json", endpoint="administrations",
                                headers={"Accept": "application/json"})
        try:
            rows = response.json()
        except ValueError:
            rows = None
        if not isinstance(rows, list):
            raise MappingError("Moneybird: administrations answered something that is not a list")
        result = []
        for row in rows:
            if not isinstance(row, dict) or row.get("id") is None:
                continue
            result.append(
                Administration(
                    source_id=str(row["id"]),
                    name=str(row.get("name") or row["id"]).strip(),
                    country=(str(row.get("country") or "").strip().upper() or None),
                    currency=(str(row.get("currency") or "").strip().upper() or None),
                )
            )
        return result

    def on_remove(self) -> None:
        """Moneybird needs nothing when an administration is unlinked (no revocation endpoint, §2)."""

    def markers(self) -> list[StepRecord]:
        """§5/§7: the notes of every contact (archived ones included) and of every unpaid invoice, read
        through the synchronization API (100 a call); the step records of those that carry a marker."""
        found: list[StepRecord] = []
        sources = (("contacts", {"include_archived": "true"}), ("sales_invoices", {"filter": unpaid_filter(self.today())}))
        for resource, params in sources:
            ids = list(self.client.versions(resource, params))
            for _asked, rows in self.client.fetch(resource, ids):
                for row in rows:
                    notes = row.get("notes")
                    for note in notes if isinstance(notes, list) else []:
                        text = str(note.get("note") or "") if isinstance(note, dict) else ""
                        if "[arconnect " in text:
                            found.extend(step_records_in(text))
        return found

    # ------------------------------------------------------------------ sync

    def _diff(self, prefix: str, remote: Mapping[str, int], full: bool) -> tuple[list[str], list[str], list[str]]:
        """(changed ids, gone ids, previous index) against the stored versions."""
        old_index = self.state.get_state([f"{prefix}:idx"]).get(f"{prefix}:idx")
        previous = [str(i) for i in old_index] if isinstance(old_index, list) else []
        if full:
            changed = list(remote)
        else:
            stored = self.state.get_state(f"{prefix}:v:{i}" for i in remote)
            changed = [i for i, version in remote.items() if stored.get(f"{prefix}:v:{i}") != version]
        gone = [i for i in previous if i not in remote]
        return changed, gone, previous

    def _pages(
        self,
        prefix: str,
        resource: str,
        remote: Mapping[str, int],
        since: str | None,
        convert: Callable[[list[str], list[dict[str, Any]], set[str]], Page[RecordT]],
        *,
        fetch_gone: bool,
    ) -> Iterator[Page[RecordT]]:
        changed, gone, previous = self._diff(prefix, remote, since is None)
        wanted = changed + gone if fetch_gone else changed
        bookmark = _bookmark(self.clock(), len(remote))
        union = sorted(set(previous) | set(remote))
        final = sorted(remote)
        if not wanted:
            if gone or sorted(previous) != final:
                yield Page(
                    deleted=list(gone),
                    state={f"{prefix}:idx": final, **{f"{prefix}:v:{i}": None for i in gone}},
                    bookmark=bookmark,
                )
            return
        last = (len(wanted) - 1) // SYNC_BATCH
        gone_set = set(gone)
        # One page per POST, converted and handed to the store before the next POST is sent.
        for number, (asked, rows) in enumerate(self.client.fetch(resource, wanted)):
            page = convert(asked, rows, gone_set)
            state = dict(page.state)
            if number == 0:
                state[f"{prefix}:idx"] = union
            if number == last:
                state[f"{prefix}:idx"] = final
                if not fetch_gone:
                    state.update({f"{prefix}:v:{i}": None for i in gone})
            deleted = list(page.deleted)
            if number == last and not fetch_gone:
                deleted.extend(gone)
            yield page.model_copy(update={"state": state, "deleted": deleted, "bookmark": bookmark})

    def debtors(self, since: str | None) -> Iterator[Page[Debtor]]:
        # §8: include_archived so that debtors of still-open invoices are kept.
        remote = self.client.versions("contacts", {"include_archived": "true"})

        def convert(asked: list[str], rows: list[dict[str, Any]], gone: set[str]) -> Page[Debtor]:
            records: list[Debtor] = []
            quarantined: list[Quarantined] = []
            state: dict[str, Any] = {}
            returned: set[str] = set()
            for row in rows:
                ident = str(row.get("id"))
                returned.add(ident)
                try:
                    records.append(
                        debtor_from_contact(
                            row, connection_id=self.connection_id, base_currency=self.base_currency,
                            block_field=self.block_field, credit_limit_field=self.credit_limit_field,
                        )
                    )
                except (MappingError, ValueError, TypeError) as exc:
                    quarantined.append(_quarantine("debtors", row, exc))
                    continue
                if ident in remote:
                    state[f"c:v:{ident}"] = remote[ident]
            missing = [i for i in asked if i not in returned]  # deleted between the list and the fetch
            state.update({f"c:v:{i}": None for i in missing})
            return Page[Debtor](records=records, quarantined=quarantined, deleted=missing, state=state)

        yield from self._pages("c", "contacts", remote, since, convert, fetch_gone=False)

    def open_items(self, since: str | None) -> Iterator[Page[OpenItem]]:
        remote = self.client.versions("sales_invoices", {"filter": unpaid_filter(self.today())})

        def convert(asked: list[str], rows: list[dict[str, Any]], gone: set[str]) -> Page[OpenItem]:
            records: list[OpenItem] = []
            payments: list[Payment] = []
            quarantined: list[Quarantined] = []
            deleted: list[str] = []
            state: dict[str, Any] = {}
            returned: set[str] = set()
            for row in rows:
                ident = str(row.get("id"))
                returned.add(ident)
                try:
                    item = open_item_from_invoice(row, connection_id=self.connection_id, base_currency=self.base_currency)
                    row_payments = payments_from_invoice(row, connection_id=self.connection_id)
                except (MappingError, ValueError, TypeError) as exc:
                    quarantined.append(_quarantine("open_items", row, exc))
                    continue
                payments.extend(row_payments)
                if item is None:  # back to draft: no longer a receivable
                    deleted.append(ident)
                else:
                    records.append(item)
                # Only ids in the unpaid list keep a version; closed ones leave the state.
                still_open = ident in remote and row.get("state") in UNPAID_STATES
                state[f"i:v:{ident}"] = remote[ident] if still_open else None
            for ident in asked:
                if ident not in returned:
                    deleted.append(ident)
                    state[f"i:v:{ident}"] = None
            return Page[OpenItem](records=records, payments=payments, quarantined=quarantined, deleted=deleted, state=state)

        yield from self._pages("i", "sales_invoices", remote, since, convert, fetch_gone=True)

    def settled_history(self) -> Iterator[Page[OpenItem]]:
        """The invoices paid or written off in the last 13 months, with their payments: read once
        when a connection starts (connector/actions/desk.py), so KPIs over the past have history."""
        settled = self.client.versions("sales_invoices", {"filter": settled_filter(self.today())})
        for _asked, rows in self.client.fetch("sales_invoices", sorted(settled)):
            records: list[OpenItem] = []
            payments: list[Payment] = []
            quarantined: list[Quarantined] = []
            for row in rows:
                try:
                    item = open_item_from_invoice(row, connection_id=self.connection_id, base_currency=self.base_currency)
                    payments.extend(payments_from_invoice(row, connection_id=self.connection_id))
                except (MappingError, ValueError, TypeError) as exc:
                    quarantined.append(_quarantine("open_items", row, exc))
                    continue
                if item is not None:
                    records.append(item)
            yield Page[OpenItem](records=records, payments=payments, quarantined=quarantined)

    def payments(self, since: str | None) -> Iterator[Page[Payment]]:
        """§6: payments are embedded in the invoices and arrive with the open-items pages."""
        return iter(())

    # ------------------------------------------------------------------ write-back
    #
    # Every action reads the remote state first and skips what is already true (§9 "Idempotency":
    # Moneybird has no idempotency key for API writes). Notes are write-once, so each carries the
    # action's marker and is looked up in the entity's ``notes[]`` before posting.

    def apply(self, action: PlannedAction) -> ApplyResult:
        kind = action.kind
        if kind in REMINDER_KINDS:
            return self._remind(action)
        if kind in (ActionKind.PAUSE_SOURCE_REMINDERS, ActionKind.RESUME_SOURCE_REMINDERS):
            return self._pause(action, pause=kind == ActionKind.PAUSE_SOURCE_REMINDERS)
        if kind == ActionKind.WRITE_OFF:
            return self._mark(action, "mark_as_uncollectible", "uncollectible_date",
                              lambda inv: inv.get("state") == "uncollectible")
        if kind == ActionKind.MARK_DOUBTFUL:
            return self._mark(action, "mark_as_dubious", "dubious_date",
                              lambda inv: inv.get("marked_dubious_on") not in (None, ""))
        if kind in NOTE_KINDS:
            return self._invoice_notes(action, NOTE_KINDS[kind])
        if kind == ActionKind.CALL_TASK:
            return self._call_task(action)
        if kind in (ActionKind.BLOCK, ActionKind.UNBLOCK):
            return self._block(action, block=kind == ActionKind.BLOCK)
        if kind == ActionKind.SET_CREDIT_LIMIT:
            return self._credit_limit(action)
        raise UnsupportedAction(f"Moneybird has no API for {kind.value.replace('_', ' ')}")

    @staticmethod
    def marker(action: PlannedAction) -> str:
        """The write-once marker of an action: a digest of its whole key, so that the effects of
        one step (``<key>#note``, ``<key>#task``) never share a marker."""
        return f"[arconnect {hashlib.sha256(action.idempotency_key.encode()).hexdigest()[:16]}]"

    def _invoices(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The current invoices (§5 sync POST: up to 100 per call, cheaper than one GET each)."""
        found: dict[str, dict[str, Any]] = {}
        for _asked, rows in self.client.fetch("sales_invoices", list(dict.fromkeys(ids))):
            for row in rows:
                found[str(row.get("id"))] = row
        return found

    def _need_items(self, action: PlannedAction) -> dict[str, dict[str, Any]]:
        if not action.item_source_ids:
            raise UnsupportedAction(f"a Moneybird {action.kind.value.replace('_', ' ')} needs the invoices it is about")
        invoices = self._invoices(action.item_source_ids)
        missing = [i for i in action.item_source_ids if i not in invoices]
        if missing:
            raise ApiError(f"Moneybird: sales invoice(s) not found: {', '.join(missing)}", status=404)
        return invoices

    def _remind(self, action: PlannedAction) -> ApplyResult:
        """§7 send_reminders, one entry per (contact, workflow, document style, identity) of the
        invoices themselves. ``Email`` when Moneybird sends it (channel ``package``), ``Manual``
        when arconnect sends the message itself, so Moneybird's reminder count and state follow."""
        # connector.actions.dispatch records a step as a "note" effect, before the message leaves: in
        # Moneybird that record is a Manual reminder plus a contact note carrying the step's marker, which
        # is what a later run (or a rebuilt journal) recognises the step by. Only channel "package" lets
        # Moneybird e-mail the reminder itself.
        recording = action.details.get("effect") == "note"
        contact: dict[str, Any] | None = None
        marker = self.marker(action)
        if recording:
            contact = self._contact(action.debtor_source_id)
            if _has_marker(contact, marker):
                return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason="step already recorded in Moneybird")
        invoices = self._need_items(action)
        since = action.run_date
        done_before = [i for i, inv in invoices.items() if reminded_since(inv, since)]
        closed = [i for i, inv in invoices.items() if inv.get("state") not in REMINDABLE_STATES]
        todo = [inv for i, inv in invoices.items() if i not in done_before and i not in closed]
        note = {"note": f"{marker} Herinnering verstuurd door arconnect (reminder sent)\n{action_summary(action)}"}
        if not todo:
            if done_before:
                if contact is not None:
                    self._contact_note_once(contact, marker, note)
                return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason="reminder already recorded in Moneybird")
            return ApplyResult(outcome=ApplyOutcome.FAILED,
                               reason="no invoice of this reminder can be reminded (paid, written off or paused)")
        method = "Manual" if recording or (action.channel or "none") in OWN_CHANNELS else "Email"
        groups = reminder_groups(todo)
        self.client.send("POST", "sales_invoices/send_reminders", "sales_invoices/send_reminders",
                         {"sales_invoice_reminders": [g.body(method) for g in groups]}, creates=True)
        if contact is not None:
            self._contact_note_once(contact, marker, note)
        reason = f"{len(groups)} reminder(s) via Moneybird ({method})"
        if closed:
            reason += f"; skipped closed invoice(s) {', '.join(closed)}"
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=",".join(str(inv["id"]) for inv in todo), reason=reason)

    def _pause(self, action: PlannedAction, *, pause: bool) -> ApplyResult:
        """§7: ``POST /sales_invoices/{id}/pause`` / ``resume`` (201), so Moneybird's own workflow
        does not remind debtors arconnect manages."""
        invoices = self._need_items(action)
        verb = "pause" if pause else "resume"
        changed = [i for i, inv in invoices.items() if bool(inv.get("paused")) != pause]
        if not changed:
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason=f"already {verb}d in Moneybird")
        for ident in changed:
            self.client.send("POST", f"sales_invoices/{ident}/{verb}", f"sales_invoices/{{id}}/{verb}", {})
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=",".join(changed))

    def _mark(self, action: PlannedAction, path: str, date_field: str, done: Callable[[dict[str, Any]], bool]) -> ApplyResult:
        """§7 Write-offs: ``PATCH …/mark_as_uncollectible`` / ``mark_as_dubious`` with the date."""
        invoices = self._need_items(action)
        changed = [i for i, inv in invoices.items() if not done(inv)]
        if not changed:
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason="already marked in Moneybird")
        for ident in changed:
            self.client.send("PATCH", f"sales_invoices/{ident}/{path}", f"sales_invoices/{{id}}/{path}",
                             {date_field: action.run_date.isoformat()})
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=",".join(changed))

    def _invoice_notes(self, action: PlannedAction, title: str) -> ApplyResult:
        invoices = self._need_items(action)
        marker = self.marker(action)
        text = f"{marker} {title}\n{action_summary(action)}"
        posted = []
        for ident, invoice in invoices.items():
            if _has_marker(invoice, marker):
                continue
            note = self.client.send("POST", f"sales_invoices/{ident}/notes", "sales_invoices/{id}/notes",
                                    {"note": {"note": text}}, creates=True)
            posted.append(str(note.get("id")) if isinstance(note, dict) else ident)
        if not posted:
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason="already noted in Moneybird")
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=",".join(posted))

    def _contact(self, contact_id: str) -> dict[str, Any]:
        contact = self.client.get(f"contacts/{contact_id}", "contacts/{id}")
        if not isinstance(contact, dict):
            raise MappingError(f"Moneybird: contact {contact_id} answered something that is not an object")
        return contact

    def _contact_note_once(self, contact: dict[str, Any], marker: str, body: dict[str, Any]) -> str | None:
        """Post a contact note unless one with ``marker`` is there; the new note's id or None."""
        if _has_marker(contact, marker):
            return None
        note = self.client.send("POST", f"contacts/{contact['id']}/notes", "contacts/{id}/notes", {"note": body},
                                creates=True)
        return str(note.get("id")) if isinstance(note, dict) else ""

    def _user_id(self, wanted: str) -> str | None:
        """§7 Notes: ``assignee_id`` must be a user id (``GET /users``, settings scope)."""
        if self._users is None:
            self._users = self.client.get_list("users", "users")
        key = wanted.strip().lower()
        for user in self._users:
            if key in {str(user.get("id")), str(user.get("email") or "").lower(), str(user.get("name") or "").lower()}:
                return str(user["id"])
        return None

    def _call_task(self, action: PlannedAction) -> ApplyResult:
        """§7: a call task is a contact note with ``todo: true`` for the assigned user."""
        contact = self._contact(action.debtor_source_id)
        marker = self.marker(action)
        body: dict[str, Any] = {"note": f"{marker} Bellen over openstaande facturen (call about overdue invoices)\n"
                                        f"{action_summary(action)}", "todo": True}
        wanted = action.details.get("assignee") or self.assignee
        if wanted:
            user = self._user_id(wanted)
            if user is None:
                raise ApiError(f"Moneybird: no user {wanted!r} to assign the call to", status=422)
            body["assignee_id"] = user
        created = self._contact_note_once(contact, marker, body)
        if created is None:
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason="to-do already in Moneybird")
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=created)

    def _field_id(self, name: str) -> str:
        """§8: ``GET /custom_fields`` → the id of the contact field called ``name``."""
        if self._custom_fields is None:
            rows = self.client.get_list("custom_fields", "custom_fields")
            self._custom_fields = {str(r.get("name")): str(r.get("id")) for r in rows if r.get("source") == "contact"}
        field_id = self._custom_fields.get(name)
        if field_id is None:
            raise UnsupportedAction(
                f"Moneybird contacts have no block or credit-limit field and the contact custom field {name!r} "
                f"does not exist: create it in Moneybird (Instellingen > Eigen velden)"
            )
        return field_id

    def _set_field(self, contact_id: str, field_id: str, value: str) -> None:
        # §8: PATCH /contacts/{id} with custom_fields_attributes in the hash form.
        self.client.send("PATCH", f"contacts/{contact_id}", "contacts/{id}",
                         {"contact": {"custom_fields_attributes": {"0": {"id": field_id, "value": value}}}})

    def _block(self, action: PlannedAction, *, block: bool) -> ApplyResult:
        field_id = self._field_id(self.block_field)
        contact = self._contact(action.debtor_source_id)
        current = is_truthy(custom_field_map(contact.get("custom_fields")).get(self.block_field))
        if current == block:
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE,
                               reason=f"custom field {self.block_field!r} already says {'blocked' if block else 'not blocked'}")
        marker = self.marker(action)
        title = "Geblokkeerd door arconnect (blocked)" if block else "Blokkade opgeheven door arconnect (unblocked)"
        self._contact_note_once(contact, marker, {"note": f"{marker} {title}\n{action_summary(action)}"})
        self._set_field(action.debtor_source_id, field_id, BLOCK_VALUE if block else "")
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=action.debtor_source_id,
                           reason=f"written to contact custom field {self.block_field!r}")

    def _credit_limit(self, action: PlannedAction) -> ApplyResult:
        if action.credit_limit is None:
            return ApplyResult(outcome=ApplyOutcome.FAILED, reason="no credit limit in the action")
        field_id = self._field_id(self.credit_limit_field)
        contact = self._contact(action.debtor_source_id)
        current = custom_field_map(contact.get("custom_fields")).get(self.credit_limit_field)
        wanted = action.credit_limit.amount
        try:
            if current and to_decimal(current.replace(",", ".")) == wanted:
                return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason="credit limit already set")
        except (ValueError, TypeError):
            pass
        self._set_field(action.debtor_source_id, field_id, f"{wanted:f}")
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=action.debtor_source_id)


def limitations(block_field: str = DEFAULT_BLOCK_FIELD, credit_limit_field: str = DEFAULT_CREDIT_LIMIT_FIELD) -> list[str]:
    """Warnings for ``arconnect plan`` on a Moneybird connection (no adapter or network needed)."""
    return [
        f"Moneybird contacts have no block or credit-limit field: a block is written to the contact custom field "
        f"{block_field!r} (plus a note), a credit limit to {credit_limit_field!r}; create those fields in Moneybird. "
        f"Moneybird itself does not stop invoicing a blocked contact.",
    ]


def _has_marker(entity: Mapping[str, Any], marker: str) -> bool:
    notes = entity.get("notes")
    if not isinstance(notes, list):
        return False
    return any(isinstance(n, dict) and marker in str(n.get("note") or "") for n in notes)


