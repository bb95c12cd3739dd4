"""The dunning ladder: which step an item is at, and on which day its next step falls due.

Semantics follow OCA credit-control's levels (docs/reference/peers.md §1.1): an item qualifies for
step N only when it reached step N-1 (step 1 only when it reached none), so steps are never
skipped and a late first run walks the ladder one step per run. The delay anchors are
``invoice_date``, ``due_date``, ``end_of_month`` (of the due date) and ``previous_step`` (the day
the previous step was reached).
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass
from datetime import date, timedelta

from rules.schema import Profile, Step, StepAction
from rules.snapshot import Reached


@dataclass(frozen=True)
class Ladder:
    """A profile prepared for the hot loop."""

    name: str
    profile: Profile
    steps: tuple[Step, ...]
    index: dict[str, int]
    block_steps: frozenset[str]
    consumer_letters: frozenset[str]
    length: int
    deltas: tuple[timedelta, ...]

    @classmethod
    def of(cls, name: str, profile: Profile) -> Ladder:
        steps = tuple(profile.steps)
        return cls(
            name=name,
            profile=profile,
            steps=steps,
            index={s.name: i for i, s in enumerate(steps)},
            block_steps=frozenset(s.name for s in steps if s.action == StepAction.BLOCK),
            consumer_letters=frozenset(s.name for s in steps if s.consumer_letter),
            length=len(steps),
            deltas=tuple(timedelta(days=s.after_days) for s in steps),
        )

    def position(self, history: list[Reached] | None) -> tuple[int, dict[str, Reached]]:
        """(number of steps reached, reached steps of this profile by name).

        The position is one past the highest step reached in this profile; steps reached in
        another profile (the item changed segment) do not count here.
        """
        if not history:
            return 0, {}
        mine: dict[str, Reached] = {}
        level = 0
        for reached in history:
            if reached.profile != self.name:
                continue
            i = self.index.get(reached.step)
            if i is None:
                continue  # a step since removed from the profile
            earlier = mine.get(reached.step)
            if earlier is None or reached.on < earlier.on:
                mine[reached.step] = reached
            level = max(level, i + 1)
        return level, mine


def end_of_month(day: date) -> date:
    return day.replace(day=pycalendar.monthrange(day.year, day.month)[1])


def step_date(step: Step, *, invoice_date: date, due_date: date, previous: date | None) -> date | None:
    """The day ``step`` falls due for an item (None: its anchor, the previous step, is missing)."""
    if step.from_ == "invoice_date":
        anchor = invoice_date
    elif step.from_ == "due_date":
        anchor = due_date
    elif step.from_ == "end_of_month":
        anchor = end_of_month(due_date)
    else:
        if previous is None:
            return None
        anchor = previous
    return anchor + timedelta(days=step.after_days)
