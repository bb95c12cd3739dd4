"""Segments: which dunning profile an open item follows (first match wins, a default is required).

Conditions are compiled once into small closures so that evaluating them for a million items is
a few function calls each, with no model access in the loop. Debtor-only conditions (kind,
country, language, tags, open total, average days late) could be cached per debtor; item fields
(item amount, days overdue) are read per item. A condition on an item field with no item (the
credit-limit policies) is false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from rules.schema import Condition, Range, Rules, Segment
from rules.snapshot import SnapDebtor

#: (debtor, debtor's open total in base currency, item open amount or None, days overdue or None)
Test = Callable[[SnapDebtor, Decimal, Decimal | None, int | None], bool]


def _range(r: Range) -> Callable[[Decimal | int | None], bool]:
    gt, gte, lt, lte = r.gt, r.gte, r.lt, r.lte

    def test(value: Decimal | int | None) -> bool:
        if value is None:
            return False
        if gt is not None and not value > gt:
            return False
        if gte is not None and not value >= gte:
            return False
        if lt is not None and not value < lt:
            return False
        return lte is None or value <= lte

    return test


def compile_condition(condition: Condition) -> Test:
    """One closure for the condition: every given part must hold."""
    parts: list[Test] = []
    if condition.all_ is not None:
        children = [compile_condition(c) for c in condition.all_]
        parts.append(lambda d, t, a, o: all(c(d, t, a, o) for c in children))
    if condition.any_ is not None:
        options = [compile_condition(c) for c in condition.any_]
        parts.append(lambda d, t, a, o: any(c(d, t, a, o) for c in options))
    if condition.not_ is not None:
        negated = compile_condition(condition.not_)
        parts.append(lambda d, t, a, o: not negated(d, t, a, o))
    if condition.kind is not None:
        kinds = frozenset(k.value for k in condition.kind)
        parts.append(lambda d, t, a, o: d.kind in kinds)
    if condition.country is not None:
        countries = frozenset(condition.country)
        parts.append(lambda d, t, a, o: d.country in countries)
    if condition.language is not None:
        languages = frozenset(condition.language)
        parts.append(lambda d, t, a, o: d.language in languages)
    if condition.tags is not None:
        tags = condition.tags
        any_tags = frozenset(tags.any_ or ())
        all_tags = frozenset(tags.all_ or ())
        no_tags = frozenset(tags.none or ())
        if tags.any_ is not None:
            parts.append(lambda d, t, a, o: not d.tags.isdisjoint(any_tags))
        if all_tags:
            parts.append(lambda d, t, a, o: all_tags <= d.tags)
        if no_tags:
            parts.append(lambda d, t, a, o: d.tags.isdisjoint(no_tags))
    if condition.open_total is not None:
        total = _range(condition.open_total)
        parts.append(lambda d, t, a, o: total(t))
    if condition.avg_days_late is not None:
        late = _range(condition.avg_days_late)
        parts.append(lambda d, t, a, o: late(d.avg_days_late))
    if condition.item_amount is not None:
        amount = _range(condition.item_amount)
        parts.append(lambda d, t, a, o: amount(a))
    if condition.days_overdue is not None:
        overdue = _range(condition.days_overdue)
        parts.append(lambda d, t, a, o: overdue(o))
    if len(parts) == 1:
        return parts[0]
    return lambda d, t, a, o: all(p(d, t, a, o) for p in parts)


@dataclass(frozen=True)
class CompiledSegment:
    name: str
    profile: str
    test: Test | None  # None: the default, matches everything
    item_level: bool


class Segmenter:
    """First-match-wins segment choice for an item of a debtor."""

    def __init__(self, rules: Rules) -> None:
        self.segments = [_compile(s) for s in rules.segments]
        self.debtor_only = not any(s.item_level for s in self.segments)

    def choose(self, debtor: SnapDebtor, open_total: Decimal, amount: Decimal | None, days_overdue: int | None) -> CompiledSegment:
        for segment in self.segments:
            if segment.test is None or segment.test(debtor, open_total, amount, days_overdue):
                return segment
        return self.segments[-1]  # the schema guarantees a default last

    def for_debtor(self, debtor: SnapDebtor, open_total: Decimal) -> tuple[list[CompiledSegment], CompiledSegment]:
        """(item-level segments to try per item, in order; the segment when none of them matches).

        The debtor-level segments are decided once per debtor: the first that matches ends the
        list, and only the item-level segments before it are left to test for each item. Same
        answer as :meth:`choose`, fewer calls in the hot loop.
        """
        before: list[CompiledSegment] = []
        for segment in self.segments:
            if segment.item_level:
                before.append(segment)
            elif segment.test is None or segment.test(debtor, open_total, None, None):
                return before, segment
        return before, self.segments[-1]


def _compile(segment: Segment) -> CompiledSegment:
    test = None if segment.when is None else compile_condition(segment.when)
    item_level = segment.when is not None and segment.when.uses_item_fields()
    return CompiledSegment(segment.name, segment.profile, test, item_level)
