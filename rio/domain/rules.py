"""A tiny language for rules over a commitment's dates, and its Python interpreter.

Rules are data so that two interpreters can read the same definition: this one, used by
the pure replay, and the SQL compiler in `rio.projections.sql_rules`, used by portfolio
and board queries. The evaluator follows SQL's three-valued logic (a comparison with a
missing date is *unknown*, and a rule holds only when its condition is *true*) so the two
interpreters agree on every combination of missing dates, not only on the usual ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Fact:
    """A date the rules read by name: a commitment's fact, or `as_at`."""

    name: str


@dataclass(frozen=True)
class Flag:
    """A yes-or-no fact the rules read by name: how a commitment is being judged (for a
    recommendation it serves, as a promise of the review as a whole)."""

    name: str


@dataclass(frozen=True)
class DaysBefore:
    """A date moved back by a threshold the policy names (`as_at` less `stale_after_days`)."""

    date: Fact
    days: str


@dataclass(frozen=True)
class DaysAfter:
    """A date moved forward by a threshold the policy names."""

    date: Fact
    days: str


Term = Fact | DaysBefore | DaysAfter


@dataclass(frozen=True)
class IsSet:
    fact: Fact


@dataclass(frozen=True)
class IsNull:
    fact: Fact


@dataclass(frozen=True)
class After:
    """`left` is strictly later than `right`."""

    left: Term
    right: Term


@dataclass(frozen=True)
class Before:
    """`left` is strictly earlier than `right`."""

    left: Term
    right: Term


@dataclass(frozen=True)
class IsTrue:
    flag: Flag


@dataclass(frozen=True)
class AllOf:
    """Every condition holds; `AllOf()` always holds."""

    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


Condition = IsSet | IsNull | IsTrue | After | Before | AllOf | AnyOf | Not

ALWAYS = AllOf()

# The facts every rule may read. `as_at` is the date asked about; the others are one
# commitment's, named as the read model's commitment columns are.
AS_AT = Fact("as_at")
WITHDRAWN_ON = Fact("withdrawn_on")
DELIVERED_ON = Fact("delivered_on")
BASELINE_LATEST = Fact("baseline_latest")
DUE_LATEST = Fact("due_latest")
LAST_UPDATE = Fact("last_update")  # the last event about it, else the day it was made
SUPERSEDED_ON = Fact("superseded_on")  # the day its next stage replaced it
COMMITMENT_FACTS = (
    WITHDRAWN_ON,
    DELIVERED_ON,
    BASELINE_LATEST,
    DUE_LATEST,
    LAST_UPDATE,
    SUPERSEDED_ON,
)
# Judged for a recommendation it serves, as a promise of the review as a whole. Not a
# column: the question decides it (a review-wide row is judged once on its own, and again
# for each recommendation it serves).
FROM_REVIEW = Flag("from_review")
FLAGS = (FROM_REVIEW,)

Facts = Mapping[str, date | bool | None]
Limits = Mapping[str, int]  # thresholds in days, by name


def shift(day: date, days: int) -> date:
    """`day` moved by `days`, held at the calendar's ends rather than overflowing.

    Clamping is exact for the strict comparisons the rules make: no date is before
    `date.min` or after `date.max`, just as none is before or after a date beyond them.
    """
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.min if days < 0 else date.max


def value(term: Term, facts: Facts, limits: Limits) -> date | None:
    """The date a term names; None when the fact is missing."""
    if isinstance(term, Fact):
        return _date(facts, term)
    day = _date(facts, term.date)
    if day is None:
        return None
    days = limits[term.days]
    return shift(day, -days if isinstance(term, DaysBefore) else days)


def _date(facts: Facts, fact: Fact) -> date | None:
    day = facts[fact.name]
    if isinstance(day, bool):
        raise TypeError(f"{fact.name!r} is a yes-or-no fact, not a date")
    return day


def truth(condition: Condition, facts: Facts, limits: Limits) -> bool | None:
    """True, False, or None for unknown, exactly as SQL judges the compiled condition."""
    match condition:
        case IsSet(fact):
            return facts[fact.name] is not None
        case IsNull(fact):
            return facts[fact.name] is None
        case IsTrue(flag):
            known = facts.get(flag.name, False)  # a flag not asked about is not so
            return None if known is None else bool(known)
        case After(left, right) | Before(left, right):
            a, b = value(left, facts, limits), value(right, facts, limits)
            if a is None or b is None:
                return None
            return a > b if isinstance(condition, After) else a < b
        case AllOf(conditions):
            results = [truth(c, facts, limits) for c in conditions]
            if False in results:
                return False
            return None if None in results else True
        case AnyOf(conditions):
            results = [truth(c, facts, limits) for c in conditions]
            if True in results:
                return True
            return None if None in results else False
        case Not(inner):
            result = truth(inner, facts, limits)
            return None if result is None else not result
    raise TypeError(f"not a rule condition: {condition!r}")


def holds(condition: Condition, facts: Facts, limits: Limits) -> bool:
    """Whether the condition is true (unknown is not true, as in a SQL WHEN)."""
    return truth(condition, facts, limits) is True
