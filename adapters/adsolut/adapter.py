"""Adsolut adapter: one dossier (administration) reached through one Wolters Kluwer grant.

Linking (reference A3): ``GET /adm/v1/administrations`` lists the dossiers; the integration is
activated on each linked dossier (``POST …/integrations``, :meth:`AdsolutAdapter.activate`) and
deactivated when the connection is removed (``DELETE``, :meth:`AdsolutAdapter.on_remove`): WK
bills the customer while it is active.

Read path, the same for customers (A4) and open items (ASSUMED endpoint):

1. **Delta**: ``ModifiedSince`` = the newest ``lastModified`` seen (minus :data:`OVERLAP`, because
   the filter's inclusiveness is not documented), ``OrderBy=lastModified``, pages of 100.
2. **Count check**: one call with ``Limit=1`` reads ``totalItems``; when it differs from the number
   of ids arconnect knows, something left without bumping ``lastModified`` (A7: hard deletes do not).
3. **Full reconcile**: on the first run, after a count mismatch, and every ``reconcile_every`` (A7:
   "a periodic full reconcile pass is needed"), every record is listed; known ids that are not
   listed any more are deleted. Open items are listed with ``OpenOnly=true``.

The ids known are kept in the connection's state (``c:idx``, ``o:idx``), written with the last page.
List pages carry the previous bookmark, so a killed sync reads again from where the last finished
sync started (upserts make that harmless); the final page carries the new one.

Write-back (A5/A6): the only dunning lever is the customer's ``remindersEnabled``; it is switched by
read-modify-write (GET, read shape → write shape, overlay, PUT), and only when it differs. Blocks,
credit limits and dunning steps have no field in Adsolut: they are ``unsupported`` with the reason,
arconnect's journal keeps them, and its own channels (e-mail, letters, call list, hand-over file)
carry the steps.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from adapters.adsolut.client import AdsolutClient, api_base, rows_of
from adapters.adsolut.mapping import debtor_from_customer, open_item_from_row, parse_moment, write_body
from connector.errors import ApiError, ConfigError, MappingError, UnsupportedAction
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

log = logging.getLogger("arconnect.adsolut")

RecordT = TypeVar("RecordT", Debtor, OpenItem)

#: ASSUMED (reference A8/A9: no public open-items endpoint): a dossier-scoped, page/limit-paged list
#: in the Accounting API. A connection's ``open_items_endpoint`` replaces it; ``off`` disables it.
DEFAULT_OPEN_ITEMS_PATH = "/acc/v1/adm/{administration}/openitems"
OPEN_ITEMS_OFF = "off"
#: How far back the next delta reaches behind the newest ``lastModified`` seen.
OVERLAP = timedelta(minutes=2)
#: How often every record is listed again (A7 asks for a periodic pass; "nightly" in A9).
RECONCILE_EVERY = timedelta(hours=24)

NO_FIELD = (
    "unsupported in Adsolut: its Accounting API has no block or credit-limit field on customers "
    "(neither the customer GET nor the complete PUT shape has one); arconnect keeps the decision in its own journal"
)
NO_DUNNING = (
    "unsupported in Adsolut: its API cannot send reminders or record dunning steps; "
    "use arconnect's own channels (e-mail, letter, call list, hand-over file)"
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def open_items_off_message(connection_id: str) -> str:
    return (
        f"Adsolut open items are off for connection {connection_id!r}: no public Adsolut API lists them, so "
        f"nothing is dunned; set open_items_endpoint in its config to the path from the Adsolut API reference"
    )


def _quarantine(stream: str, row: Any, exc: Exception) -> Quarantined:
    raw = dict(row) if isinstance(row, Mapping) else {"value": str(row)[:200]}
    ident = raw.get("id")
    return Quarantined(stream=stream, source_id=str(ident) if ident is not None else None, reason=str(exc), raw=raw)


class _Bookmark:
    """``{"modified": newest lastModified seen, "full_at": when every record was last listed}``."""

    def __init__(self, raw: str | None) -> None:
        data: dict[str, Any] = {}
        if raw:
            try:
                loaded = json.loads(raw)
                data = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                data = {}
        self.modified = _moment(data.get("modified"))
        self.full_at = _moment(data.get("full_at"))

    @staticmethod
    def dump(modified: datetime | None, full_at: datetime | None) -> str:
        return json.dumps({"modified": modified.isoformat() if modified else None,
                           "full_at": full_at.isoformat() if full_at else None})


def _moment(value: Any) -> datetime | None:
    try:
        return parse_moment(value)
    except MappingError:
        return None


class AdsolutAdapter:
    package: ClassVar[str] = "adsolut"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PAUSE_SOURCE_REMINDERS})

    def __init__(
        self,
        api: ApiClient,
        *,
        connection_id: str,
        administration_id: str,
        base_currency: str = "EUR",
        default_country: str | None = "BE",
        state: StateReader | None = None,
        open_items_endpoint: str | None = DEFAULT_OPEN_ITEMS_PATH,
        reconcile_every: timedelta = RECONCILE_EVERY,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.api = api
        self.client = AdsolutClient(api, api_base(str(api.client.base_url)))
        self.connection_id = connection_id
        self.administration_id = administration_id
        self.base_currency = base_currency
        self.default_country = default_country
        self.state: StateReader = state or NoState()
        endpoint = (open_items_endpoint or DEFAULT_OPEN_ITEMS_PATH).strip()
        self.open_items_path = None if endpoint.lower() == OPEN_ITEMS_OFF else endpoint
        self.reconcile_every = reconcile_every
        self.clock = clock
        self.rate_limit_key = api.limiter_key

    # ------------------------------------------------------------------ linking (A3)

    def _integrations(self) -> str:
        return f"/adm/v1/administrations/{self.administration_id}/integrations"

    def administrations(self) -> list[Administration]:
        payload = self.client.get("/adm/v1/administrations", "administrations")
        result = []
        for row in rows_of(payload):
            if not isinstance(row, Mapping) or not row.get("id"):
                continue
            name = str(row.get("name") or row.get("displayName") or row["id"]).strip()
            # Adsolut is a Belgian package; dossiers carry no country or currency field (A3).
            result.append(Administration(source_id=str(row["id"]), name=name, country="BE", currency="EUR"))
        return result

    def activate(self) -> None:
        """A3: activate the integration on this dossier (idempotent); without it Accounting is empty."""
        self.client.send("POST", self._integrations(), "integrations")

    def markers(self) -> list[StepRecord]:
        """None to read back: Adsolut has no API for notes or dunning steps (A5), so arconnect's steps
        leave no record there; the archived journal (``connections remove`` keeps it) is the guard."""
        return []

    def on_remove(self) -> None:
        """A3: deactivate the integration; leaving it active has a financial impact for the customer."""
        try:
            self.client.send("DELETE", self._integrations(), "integrations")
        except ApiError as exc:
            if exc.status == 404:
                return  # the dossier is gone: nothing is billed any more
            raise ApiError(f"the Adsolut integration could not be deactivated, so the connection was kept: {exc}",
                           status=exc.status) from None

    # ------------------------------------------------------------------ sync

    def _stream(
        self,
        *,
        prefix: str,
        stream: str,
        path: str,
        endpoint: str,
        filters: Mapping[str, str],
        since: str | None,
        convert: Callable[[Mapping[str, Any]], RecordT],
        counts: Callable[[RecordT], bool],
    ) -> Iterator[Page[RecordT]]:
        """Delta, count check, reconcile (module docstring). ``counts``: the record belongs to
        the set that ``filters`` lists (open items: something still open)."""
        bookmark = _Bookmark(since)
        now = self.clock()
        stored = self.state.get_state([f"{prefix}:idx"]).get(f"{prefix}:idx")
        known = {str(i) for i in stored} if isinstance(stored, list) and since is not None else None
        newest = bookmark.modified
        full_at = bookmark.full_at

        def listing(params: Mapping[str, str], seen: set[str]) -> Iterator[Page[RecordT]]:
            nonlocal newest
            for page in self.client.pages(path, endpoint, params):
                records: list[RecordT] = []
                quarantined: list[Quarantined] = []
                for row in page.rows:
                    ident = str(row.get("id")) if isinstance(row, Mapping) and row.get("id") else None
                    try:
                        if not isinstance(row, Mapping):
                            raise MappingError("a list entry that is not an object")
                        record = convert(row)
                    except (MappingError, ValueError, TypeError) as exc:
                        quarantined.append(_quarantine(stream, row, exc))
                        if ident is not None:
                            seen.add(ident)  # it exists; it just did not map
                        continue
                    records.append(record)
                    if counts(record):
                        seen.add(record.source_id)
                    else:
                        seen.discard(record.source_id)
                        if known is not None:
                            known.discard(record.source_id)
                    modified = record.source_modified
                    if modified is not None and (newest is None or modified > newest):
                        newest = modified
                yield Page[RecordT](records=records, quarantined=quarantined, bookmark=since)

        ordered = {"OrderBy": "lastModified"}
        if known is not None and bookmark.modified is not None:
            delta_since = (bookmark.modified - OVERLAP).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            added: set[str] = set()
            # Unfiltered: what stopped counting (an item paid in full) must come back too.
            yield from listing({**ordered, "ModifiedSince": delta_since}, added)
            known |= added
            due = full_at is None or now - full_at >= self.reconcile_every
            if not due:
                total = self.client.page(path, endpoint, filters, 1, limit=1).total_items
                due = total is None or total != len(known)
        else:
            due = True
        gone: list[str] = []
        if due:
            seen: set[str] = set()
            yield from listing({**filters, **ordered}, seen)
            gone = sorted(known - seen) if known is not None else []
            known = seen
            full_at = now
        assert known is not None
        yield Page[RecordT](deleted=gone, state={f"{prefix}:idx": sorted(known)},
                            bookmark=_Bookmark.dump(newest, full_at))

    def debtors(self, since: str | None) -> Iterator[Page[Debtor]]:
        def convert(row: Mapping[str, Any]) -> Debtor:
            return debtor_from_customer(row, connection_id=self.connection_id, default_country=self.default_country)

        yield from self._stream(
            prefix="c", stream="debtors", path=f"/acc/v1/adm/{self.administration_id}/customers",
            endpoint="customers", filters={}, since=since, convert=convert, counts=lambda _d: True,
        )

    def open_items(self, since: str | None) -> Iterator[Page[OpenItem]]:
        if self.open_items_path is None:
            log.warning("%s", open_items_off_message(self.connection_id))
            return
        path = self.open_items_path.replace("{administration}", self.administration_id)

        def convert(row: Mapping[str, Any]) -> OpenItem:
            return open_item_from_row(row, connection_id=self.connection_id, base_currency=self.base_currency)

        try:
            yield from self._stream(
                prefix="o", stream="open_items", path=path, endpoint="openitems", filters={"OpenOnly": "true"},
                since=since, convert=convert, counts=lambda item: not item.open.is_zero(),
            )
        except ApiError as exc:
            if exc.status != 404:
                raise
            raise ConfigError(
                f"Adsolut: the open-items endpoint {self.open_items_path} does not exist (404). It is ASSUMED: set "
                f"open_items_endpoint of connection {self.connection_id!r} to the path in the Adsolut API reference, "
                f"or to 'off'"
            ) from None

    def payments(self, since: str | None) -> Iterator[Page[Payment]]:
        """A8: no payments endpoint is known; a payment shows as an open item whose amount dropped."""
        return iter(())

    # ------------------------------------------------------------------ write-back (A5, A6)

    def apply(self, action: PlannedAction) -> ApplyResult:
        kind = action.kind
        if kind in (ActionKind.PAUSE_SOURCE_REMINDERS, ActionKind.RESUME_SOURCE_REMINDERS):
            return self.set_reminders(action.debtor_source_id, enabled=kind == ActionKind.RESUME_SOURCE_REMINDERS)
        if kind in (ActionKind.BLOCK, ActionKind.UNBLOCK, ActionKind.SET_CREDIT_LIMIT):
            raise UnsupportedAction(NO_FIELD)
        raise UnsupportedAction(NO_DUNNING)

    def _customer_path(self, customer_id: str) -> str:
        return f"/acc/v1/adm/{self.administration_id}/customers/{customer_id}"

    def set_reminders(self, customer_id: str, *, enabled: bool) -> ApplyResult:
        """``remindersEnabled`` by read-modify-write; nothing is sent when it already has that value
        (A6: a PUT bumps ``lastModified`` even when nothing changed)."""
        read = self.client.get(self._customer_path(customer_id), "customers/{id}")
        if not isinstance(read, Mapping):
            raise MappingError(f"Adsolut: customer {customer_id} answered something that is not an object")
        word = "on" if enabled else "off"
        if read.get("remindersEnabled") is enabled:
            return ApplyResult(outcome=ApplyOutcome.ALREADY_TRUE, reason=f"Adsolut's own reminders already {word}")
        self.client.send("PUT", self._customer_path(customer_id), "customers/{id}",
                         write_body(read, remindersEnabled=enabled))
        return ApplyResult(outcome=ApplyOutcome.DONE, remote_reference=customer_id,
                           reason=f"Adsolut's own reminders switched {word} (remindersEnabled)")


def limitations(connection_id: str, open_items_on: bool) -> list[str]:
    """What ``arconnect plan`` tells the bookkeeper about an Adsolut connection."""
    notes = [
        "Adsolut has no block or credit-limit field and no API for dunning steps: blocks and steps are kept in "
        "arconnect and carried by its own channels (e-mail, letters, call list, hand-over file); Adsolut's own "
        "reminders are switched off per customer (remindersEnabled) for the debtors arconnect dunns.",
    ]
    if not open_items_on:
        notes.insert(0, open_items_off_message(connection_id))
    return notes


