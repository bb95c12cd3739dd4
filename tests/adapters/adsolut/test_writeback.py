"""Write-back through the adapter against the in-process sandbox: ``remindersEnabled`` by
read-modify-write, and what Adsolut cannot do reported as unsupported with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.adsolut.adapter import AdsolutAdapter
from adapters.adsolut.client import ADSOLUT_HTTP
from adapters.adsolut.sandbox import AdsolutSandbox
from connector.errors import ApiError, ConfigError, UnsupportedAction
from connector.http import ApiClient, make_client
from connector.model import ActionKind, ApplyOutcome, PlannedAction
from connector.sandbox import SandboxClock, transport
from tests.adapters.adsolut.conftest import BASE, DOSSIER, sample

SAMPLE_ID = "00000000-0000-0000-0000-0000000000aa"


@pytest.fixture
def adapter(sandbox: AdsolutSandbox, api: httpx.Client) -> Iterator[AdsolutAdapter]:
    client = make_client(BASE, transport=transport(sandbox, BASE), headers={"Authorization": api.headers["Authorization"]})
    with client:
        yield AdsolutAdapter(ApiClient(client, ADSOLUT_HTTP, limiter_key="adsolut-test"),
                             connection_id="adsolut-pj", administration_id=DOSSIER)


@pytest.fixture
def sample_customer(sandbox: AdsolutSandbox) -> dict[str, Any]:
    """The reference's sample customer, put into the dossier as Adsolut holds it."""
    customer = sample("accounting_customer_get.sample.json")
    sandbox.dossier(DOSSIER).customers[SAMPLE_ID] = customer
    sandbox.dossier(DOSSIER).active[SAMPLE_ID] = True
    return dict(customer)


def action(kind: ActionKind, debtor: str = SAMPLE_ID) -> PlannedAction:
    return PlannedAction(idempotency_key=f"k-{kind.value}", connection_id="adsolut-pj", debtor_source_id=debtor,
                         item_source_ids=("i1",), kind=kind, run_date=date(2026, 3, 12), reason="test")


def test_pausing_reminders_changes_only_reminders_enabled_and_every_other_field_survives(
    sandbox: AdsolutSandbox, adapter: AdsolutAdapter, sample_customer: dict[str, Any], clock: SandboxClock
) -> None:
    clock.advance(60)
    result = adapter.apply(action(ActionKind.PAUSE_SOURCE_REMINDERS))
    assert result.outcome == ApplyOutcome.DONE
    after = sandbox.customer(DOSSIER, SAMPLE_ID)
    assert after["remindersEnabled"] is False
    changed = {k for k in sample_customer if after.get(k) != sample_customer[k]}
    assert changed == {"remindersEnabled", "lastModified"}
    assert set(after) == set(sample_customer)
    assert sandbox.dossier(DOSSIER).active[SAMPLE_ID] is True


def test_a_second_pause_reads_and_sends_nothing(sandbox: AdsolutSandbox, adapter: AdsolutAdapter,
                                                sample_customer: dict[str, Any]) -> None:
    adapter.apply(action(ActionKind.PAUSE_SOURCE_REMINDERS))
    puts_before = sandbox.count("customers/{id}")
    again = adapter.apply(action(ActionKind.PAUSE_SOURCE_REMINDERS))
    assert again.outcome == ApplyOutcome.ALREADY_TRUE
    assert sandbox.count("customers/{id}") == puts_before + 1  # the GET only
    resumed = adapter.apply(action(ActionKind.RESUME_SOURCE_REMINDERS))
    assert resumed.outcome == ApplyOutcome.DONE
    assert sandbox.customer(DOSSIER, SAMPLE_ID)["remindersEnabled"] is True


@pytest.mark.parametrize("kind", [ActionKind.BLOCK, ActionKind.UNBLOCK, ActionKind.SET_CREDIT_LIMIT])
def test_blocks_and_credit_limits_are_unsupported_with_the_reason(adapter: AdsolutAdapter, kind: ActionKind) -> None:
    with pytest.raises(UnsupportedAction, match=r"unsupported in Adsolut: .*no block or credit-limit field"):
        adapter.apply(action(kind))


@pytest.mark.parametrize("kind", [ActionKind.REMINDER, ActionKind.CALL_TASK, ActionKind.WRITE_OFF])
def test_dunning_steps_in_the_package_are_unsupported_and_name_our_channels(adapter: AdsolutAdapter,
                                                                           kind: ActionKind) -> None:
    with pytest.raises(UnsupportedAction, match=r"unsupported in Adsolut: .*e-mail, letter, call list, hand-over"):
        adapter.apply(action(kind))


def test_activation_and_deactivation_reach_the_dossier(sandbox: AdsolutSandbox, adapter: AdsolutAdapter) -> None:
    state = sandbox.dossier(DOSSIER)
    adapter.on_remove()
    assert state.integrations == set() and state.deactivations == 1
    adapter.activate()
    assert len(state.integrations) == 1


def test_an_unknown_open_items_path_says_how_to_configure_it(sandbox: AdsolutSandbox, adapter: AdsolutAdapter) -> None:
    adapter.open_items_path = "/acc/v1/adm/{administration}/nothere"
    with pytest.raises(ConfigError, match="open_items_endpoint"):
        list(adapter.open_items(None))


def test_a_refused_deactivation_is_an_error_that_says_the_connection_was_kept(
    sandbox: AdsolutSandbox, adapter: AdsolutAdapter
) -> None:
    sandbox.faults.fail(403, endpoint="integrations")
    with pytest.raises(ApiError, match="could not be deactivated, so the connection was kept"):
        adapter.on_remove()
    assert sandbox.dossier(DOSSIER).integrations  # still active: nothing pretended otherwise
