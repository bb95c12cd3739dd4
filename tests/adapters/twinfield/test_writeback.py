"""Write-back to Twinfield: read-modify-write of the whole DEB dimension, written only when different.

The sandbox takes the strict reading of an update (a posted block resets what it omits), so these
tests fail for an adapter that posts only the changed field.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.twinfield.adapter import TwinfieldAdapter
from adapters.twinfield.mapping import BLOCK_TEXT
from connector import config as cfg
from connector.auth import open_secret_store
from connector.model import ActionKind, ApplyOutcome, Money, PlannedAction
from connector.runtime import api_for
from connector.store import Store
from tests.adapters.twinfield.conftest import DATA
from tests.contract.twinfield_harness import TwinfieldHarness

SAMPLE = DATA / "php-twinfield__read-dimension-DEB-response.xml"
CODE = "1097"


@pytest.fixture
def world(tmp_path: Path, arconnect_home: Path) -> Iterator[tuple[TwinfieldHarness, TwinfieldAdapter, str]]:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'arconnect.db'}")
    store.migrate()
    harness = TwinfieldHarness(tmp_path, store, open_secret_store())
    connection = harness.link()[0]
    office = connection.administration
    sample = ET.parse(SAMPLE).getroot()
    sample.attrib.pop("result")
    office_element = sample.find("office")
    assert office_element is not None
    office_element.text = office
    harness.sandbox.book(office).dimensions[CODE] = sample
    credential = cfg.load_config().credentials[connection.credential]
    try:
        with api_for(credential, office, open_secret_store(), transport=harness.transport) as api:
            yield harness, TwinfieldAdapter(api, connection_id=connection.name, office=office), office
    finally:
        store.close()


def fields(dim: ET.Element) -> Counter[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Every element of a dimension as (path, text, attributes), order-free."""
    out: Counter[tuple[str, str, tuple[tuple[str, str], ...]]] = Counter()

    def walk(element: ET.Element, path: str) -> None:
        for child in element:
            here = f"{path}/{child.tag}"
            out[(here, (child.text or "").strip(), tuple(sorted(child.attrib.items())))] += 1
            walk(child, here)

    walk(dim, "")
    return out


def action(kind: ActionKind, **extra: object) -> PlannedAction:
    return PlannedAction(idempotency_key=f"k-{kind.value}", connection_id="c", debtor_source_id=CODE, kind=kind,
                         run_date=date(2026, 3, 10), reason="test", **extra)  # type: ignore[arg-type]


SERVER_KEPT = {"/modified", "/touched"}


def test_setting_the_credit_limit_keeps_every_other_field_of_the_sample_customer(
    world: tuple[TwinfieldHarness, TwinfieldAdapter, str],
) -> None:
    harness, adapter, office = world
    before = fields(harness.sandbox.dimension(office, CODE))
    result = adapter.apply(action(ActionKind.SET_CREDIT_LIMIT, credit_limit=Money.of("7500.00", "EUR")))
    assert result.outcome == ApplyOutcome.DONE
    after = fields(harness.sandbox.dimension(office, CODE))
    changed_before = {k for k in before if k[0] in SERVER_KEPT or k[0] == "/creditmanagement/basecreditlimit"}
    changed_after = {k for k in after if k[0] in SERVER_KEPT or k[0] == "/creditmanagement/basecreditlimit"}
    kept_before, kept_after = before - Counter(changed_before), after - Counter(changed_after)
    assert kept_before - kept_after == Counter()  # nothing lost or changed
    assert all(text == "" for (_, text, _) in kept_after - kept_before)  # at most empty defaults shown
    assert harness.sandbox.dimension(office, CODE).findtext("creditmanagement/basecreditlimit") == "7500.00"


def test_a_second_apply_reads_the_same_value_and_writes_nothing(world: tuple[TwinfieldHarness, TwinfieldAdapter, str]) -> None:
    harness, adapter, office = world
    limit = action(ActionKind.SET_CREDIT_LIMIT, credit_limit=Money.of(Decimal("250"), "EUR"))
    assert adapter.apply(limit).outcome == ApplyOutcome.DONE
    writes = harness.sandbox.office_calls[("dimension", office)]
    assert adapter.apply(limit).outcome == ApplyOutcome.ALREADY_TRUE
    assert harness.sandbox.office_calls[("dimension", office)] == writes


def test_pausing_twinfields_reminders_switches_sendreminder_off_and_back(world: tuple[TwinfieldHarness, TwinfieldAdapter, str]) -> None:
    harness, adapter, office = world
    assert adapter.apply(action(ActionKind.PAUSE_SOURCE_REMINDERS)).outcome == ApplyOutcome.DONE
    assert harness.sandbox.dimension(office, CODE).findtext("creditmanagement/sendreminder") == "false"
    assert adapter.apply(action(ActionKind.PAUSE_SOURCE_REMINDERS)).outcome == ApplyOutcome.ALREADY_TRUE
    assert adapter.apply(action(ActionKind.RESUME_SOURCE_REMINDERS)).outcome == ApplyOutcome.DONE
    assert harness.sandbox.dimension(office, CODE).findtext("creditmanagement/sendreminder") == "true"


def test_a_block_is_text_in_the_block_field_and_only_our_text_is_lifted(world: tuple[TwinfieldHarness, TwinfieldAdapter, str]) -> None:
    harness, adapter, office = world
    cm = harness.sandbox.dimension(office, CODE).find("creditmanagement")
    assert cm is not None
    freetext3 = cm.find("freetext3")
    assert freetext3 is not None
    freetext3.text = "VIP"
    assert adapter.apply(action(ActionKind.BLOCK)).outcome == ApplyOutcome.DONE
    assert harness.sandbox.dimension(office, CODE).findtext("creditmanagement/freetext3") == f"VIP {BLOCK_TEXT}"
    assert harness.sandbox.dimension(office, CODE).findtext("creditmanagement/blocked") == "false"  # T&E flag untouched
    assert adapter.apply(action(ActionKind.UNBLOCK)).outcome == ApplyOutcome.DONE
    assert harness.sandbox.dimension(office, CODE).findtext("creditmanagement/freetext3") == "VIP"


def test_our_block_reads_back_as_blocked_and_a_person_deleting_the_text_lifts_it(
    world: tuple[TwinfieldHarness, TwinfieldAdapter, str],
) -> None:
    harness, adapter, office = world
    connection = harness.connections[0]
    assert adapter.apply(action(ActionKind.BLOCK)).outcome == ApplyOutcome.DONE
    assert harness.sync(connection).error is None
    assert {d.source_id: d.blocked for d in harness.store.debtors(connection.name)}[CODE] is True
    cm = harness.sandbox.dimension(office, CODE).find("creditmanagement")
    assert cm is not None
    freetext3 = cm.find("freetext3")
    assert freetext3 is not None
    harness.sandbox.clock.advance(60)  # the bookkeeper comes along later and clears the field
    freetext3.text = ""
    harness.sandbox.rename(office, CODE, "Zelfde naam, nieuwe wijzigingsdatum")
    assert harness.sync(connection).error is None
    assert {d.source_id: d.blocked for d in harness.store.debtors(connection.name)}[CODE] is False


def test_a_dunning_step_is_one_arconnect_line_in_the_comment_beside_the_bookkeepers_text(
    world: tuple[TwinfieldHarness, TwinfieldAdapter, str],
) -> None:
    harness, adapter, office = world
    cm = harness.sandbox.dimension(office, CODE).find("creditmanagement")
    assert cm is not None and cm.find("comment") is not None
    cm.find("comment").text = "Belt liever na 14:00"  # type: ignore[union-attr]
    first = action(ActionKind.REMINDER, step="herinnering-1", item_source_ids=("VRK/202600001/1",))
    second = action(ActionKind.FORMAL_NOTICE, step="aanmaning")
    assert adapter.apply(first).outcome == ApplyOutcome.DONE
    assert adapter.apply(first).outcome == ApplyOutcome.ALREADY_TRUE
    assert adapter.apply(second).outcome == ApplyOutcome.DONE
    comment = harness.sandbox.dimension(office, CODE).findtext("creditmanagement/comment") or ""
    assert comment.splitlines() == ["Belt liever na 14:00", "[arconnect stap] 2026-03-10 aanmaning"]


def test_an_unknown_customer_fails_with_twinfields_message(world: tuple[TwinfieldHarness, TwinfieldAdapter, str]) -> None:
    _, adapter, _ = world
    from connector.errors import ApiError

    with pytest.raises(ApiError, match="Dimensie 99999 bestaat niet"):
        adapter.apply(action(ActionKind.SET_CREDIT_LIMIT, credit_limit=Money.of("1", "EUR")).model_copy(
            update={"debtor_source_id": "99999"}))
