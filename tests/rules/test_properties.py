"""Invariants of the engine, checked over generated debtors, items and run sequences (hypothesis).

Each simulation plans on a series of increasing run dates with the shipped example rules and folds
what was planned back into the journal (applied, or failed now and then), as ``arconnect apply``
would, then checks the whole history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.model import ActionKind, Debtor, DebtorKind, Money, OpenItem, PlannedAction
from rules import costs as legal
from rules.engine import plan
from rules.loading import load_rules
from rules.schema import MESSAGE_ACTIONS, Rules
from rules.snapshot import Snapshot
from tests.rules.builders import CID, debtor, item
from tests.rules.builders import rules as make_rules
from tests.rules.test_engine import BE_CREDITOR
from tests.support.paths import EXAMPLES

NL = load_rules(EXAMPLES / "nl-practice.yaml")
BE = load_rules(EXAMPLES / "be-practice.yaml")
START = date(2026, 1, 5)

# A hasty profile: every step a day after the previous one, all with costs. Only the engine's own
# gate can keep a consumer from paying costs too early here (the example profiles wait long enough).
HASTY_BODY = """
segments:
  - {name: all, default: true, profile: hasty}
profiles:
  hasty:
    min_days_between_messages: 0
    tolerance: 0
    steps:
      - {name: r1, after_days: 0, action: reminder, template: reminder, costs: statutory}
      - {name: letter, after_days: 1, from: previous_step, action: formal_notice, channel: letter,
         template: formal_notice, consumer_letter: true, costs: statutory}
      - {name: r3, after_days: 1, from: previous_step, action: reminder, template: reminder, costs: statutory}
      - {name: r4, after_days: 1, from: previous_step, action: formal_notice, template: formal_notice, costs: statutory}
      - {name: r5, after_days: 1, from: previous_step, action: notice_of_default, template: notice_of_default, costs: statutory}
"""
HASTY_NL = make_rules(HASTY_BODY)
# Book XIX: a Belgian consumer profile starts with the free first reminder (rules check refuses another start).
HASTY_BE = make_rules(
    HASTY_BODY.replace(
        "action: reminder, template: reminder, costs: statutory}",
        "action: reminder, template: first_reminder, consumer_letter: true, costs: statutory}",
        1,
    ),
    creditor=BE_CREDITOR,
)

kinds = st.sampled_from([DebtorKind.BUSINESS, DebtorKind.CONSUMER, DebtorKind.UNKNOWN])
amounts = st.decimals(min_value=Decimal("-300"), max_value=Decimal("70000"), places=2)


@dataclass
class World:
    debtors: list[Debtor]
    items: list[OpenItem]
    gaps: list[int]
    fails: list[bool]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n_debtors = draw(st.integers(1, 4))
    debtors = [
        debtor(f"D{d}", draw(kinds), blocked=draw(st.booleans()), credit_limit=Money.of(draw(st.sampled_from(["500", "5000"])), "EUR"))
        for d in range(n_debtors)
    ]
    items = []
    for n in range(draw(st.integers(1, 8))):
        amount = draw(amounts)
        if amount == 0:
            amount = Decimal("1")
        due = START + timedelta(days=draw(st.integers(-60, 20)))
        items.append(item(f"I{n}", str(amount), due, debtor_id=f"D{draw(st.integers(0, n_debtors - 1))}",
                          invoice_date=due - timedelta(days=14)))
    runs = draw(st.integers(3, 12))
    gaps = draw(st.lists(st.integers(0, 9), min_size=runs, max_size=runs))
    fails = draw(st.lists(st.booleans(), min_size=runs, max_size=runs))
    return World(debtors, items, gaps, fails)


def simulate(world: World, rules: Rules, country: str, blocks_by_us: frozenset[str] = frozenset()) -> list[tuple[PlannedAction, str]]:
    """Plan on each run date and journal every action: done, or failed when the run 'fails'."""
    journal: list[tuple[PlannedAction, str]] = []
    day = START
    for gap, fail in zip(world.gaps, world.fails, strict=True):
        day += timedelta(days=gap)
        snap = Snapshot.from_models(
            connection_id=CID, country=country, debtors=world.debtors, items=world.items, journal=journal,
            blocks_by_us=blocks_by_us,
        )
        actions = plan(snap, rules, day)
        # Planning twice on the same data gives the same actions.
        assert plan(snap, rules, day) == actions
        journal.extend((a, "failed" if fail else "done") for a in actions)
    return journal


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def choose(country: str, hasty: bool) -> Rules:
    if hasty:
        return HASTY_NL if country == "NL" else HASTY_BE
    return NL if country == "NL" else BE


def ladder_of(rules: Rules, profile: str) -> list[str]:
    return [s.name for s in rules.profiles[profile].steps]


def item_steps(action: PlannedAction) -> dict[str, tuple[str, str] | None]:
    """The step each item of a letter reaches (one letter per debtor carries items at several steps)."""
    raw = action.details.get("item_steps")
    profile, step = action.details["profile"], action.step or ""
    if not raw:
        return {i: (profile, step) for i in action.item_source_ids}
    own = json.loads(raw)
    return {i: (tuple(own[i].split("/", 1)) if own[i] else None) for i in action.item_source_ids}  # type: ignore[misc]


@SETTINGS
@given(worlds(), st.sampled_from(["NL", "BE"]), st.booleans())
def test_a_step_is_never_skipped_and_never_sent_twice(world: World, country: str, hasty: bool) -> None:
    rules = choose(country, hasty)
    journal = simulate(world, rules, country)
    reached: dict[tuple[str, str], list[str]] = {}
    done_keys: set[str] = set()
    for action, state in journal:
        profile = action.details.get("profile")
        if profile is None or action.step is None:
            continue
        assert action.idempotency_key not in done_keys, "a step that was done is never planned again"
        for item_id, own in item_steps(action).items():
            if own is None:
                continue  # listed in the debtor's one letter without a step of its own
            own_profile, own_step = own
            ladder = ladder_of(rules, own_profile)
            so_far = reached.setdefault((item_id, own_profile), [])
            # The planned step is exactly the next rung after those reached, or the consumer's
            # statutory letter, which carries every overdue claim of the debtor (art. 6:96(7) BW).
            statutory = next(s for s in rules.profiles[own_profile].steps if s.name == own_step).consumer_letter
            assert ladder.index(own_step) == len(so_far) or (statutory and ladder.index(own_step) > len(so_far)), (
                item_id, own_step, so_far,
            )
            if state == "done":
                so_far.extend(ladder[len(so_far) : ladder.index(own_step) + 1])
        if state == "done":
            done_keys.add(action.idempotency_key)


@SETTINGS
@given(worlds(), st.sampled_from(["NL", "BE"]), st.booleans())
def test_no_consumer_pays_costs_before_the_legal_term(world: World, country: str, hasty: bool) -> None:
    rules = choose(country, hasty)
    journal = simulate(world, rules, country)
    kinds_by_id = {d.source_id: d.kind for d in world.debtors}
    open_by_id = {i.source_id: i.open for i in world.items}
    letters: dict[str, list[PlannedAction]] = {}  # item → consumer letters done
    messages: dict[str, int] = {}  # item → messages done
    for action, state in journal:
        profile = action.details.get("profile")
        consumer = kinds_by_id[action.debtor_source_id] is not DebtorKind.BUSINESS
        if consumer and action.costs is not None and action.costs.amount > 0:
            # Costs only on items that had their consumer letter and whose term has passed, and
            # never more than the law allows on their sum ...
            gated = []
            for item_id in action.item_source_ids:
                gate = letters.get(item_id)
                if not gate:
                    continue
                first = min(g.run_date for g in gate)
                starts = legal.consumer_costs_from(country=country, letter_sent=first, channel=gate[0].channel or "letter")
                if action.run_date >= starts and (country == "NL" or messages.get(item_id, 0) >= 1):
                    gated.append(open_by_id[item_id])
            assert gated, "costs without a consumer letter whose term has passed"
            allowed = legal.collection_costs(
                country=country, debtor_kind=DebtorKind.CONSUMER, principal=sum(gated[1:], gated[0]),
                on=action.run_date, reminder_number=2,
            )
            assert action.costs.amount <= allowed.costs.amount
        if state == "done" and profile is not None:
            for item_id, own in item_steps(action).items():
                if own is None:
                    continue
                step = next(s for s in rules.profiles[own[0]].steps if s.name == own[1])
                if step.action in MESSAGE_ACTIONS:
                    messages[item_id] = messages.get(item_id, 0) + 1
                    if step.consumer_letter:
                        letters.setdefault(item_id, []).append(action)


@SETTINGS
@given(worlds(), st.sets(st.sampled_from(["D0", "D1", "D2", "D3"])))
def test_a_block_set_by_the_bookkeeper_is_never_lifted(world: World, ours: set[str]) -> None:
    journal = simulate(world, NL, "NL", blocks_by_us=frozenset(ours))
    for action, _ in journal:
        if action.kind is ActionKind.UNBLOCK:
            assert action.debtor_source_id in ours
        if action.kind is ActionKind.SET_CREDIT_LIMIT:
            # Only a fixed limit of a policy is written, never one read from the package.
            assert action.details["policy"] == "consumers"


@SETTINGS
@given(worlds(), st.sampled_from(["NL", "BE"]), st.randoms(use_true_random=False))
def test_planning_twice_on_the_same_data_gives_the_same_actions(world: World, country: str, rnd: object) -> None:
    rules = NL if country == "NL" else BE
    day = START + timedelta(days=sum(world.gaps))
    first = plan(Snapshot.from_models(connection_id=CID, country=country, debtors=world.debtors, items=world.items), rules, day)
    debtors, items = list(world.debtors), list(world.items)
    rnd.shuffle(debtors)  # type: ignore[attr-defined]
    rnd.shuffle(items)  # type: ignore[attr-defined]
    again = plan(Snapshot.from_models(connection_id=CID, country=country, debtors=debtors, items=items), rules, day)
    assert again == first  # same actions, same order, same keys, whatever order the store returns
