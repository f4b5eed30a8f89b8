"""One recommendation's valid-time timeline: the runs of days over which its bounded state
(and each commitment's) stays the same, and the append-only facts taken out of it (`parts`),
folded from its events and kept up to date as they come.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rio.aggregates.recommendation import Recommendation
from rio.domain.history import effective, valid_order
from rio.domain.replay import Fold
from rio.domain.state import Commitment
from rio.projections import codec, parts

LAST = 2**62  # sorts after any phase or version in a valid-order key


@dataclass(frozen=True, slots=True)
class Item:
    """One append-only fact's item (a note, a revision...), stored once in its own row."""

    kind: str  # the state's tuple it belongs to (`parts.ITEM_TYPES`)
    commitment: str | None  # a revision's commitment
    occurred: date
    phase: int
    version: int
    value: Any


@dataclass(frozen=True, slots=True)
class DayCommitment:
    name: str
    ordinal: int  # its place in the recommendation
    state: str  # its bounded part, encoded
    owner: str | None  # its own owner, else the accountable one
    unexplained: int  # revisions without a reason so far
    since: int  # the first day of its run of days in this same row
    folded: Commitment  # what it was made from: the fold keeps an unchanged one as it is

    @property
    def row(self) -> tuple[int, str, str | None, int]:
        return (self.ordinal, self.state, self.owner, self.unexplained)


@dataclass(frozen=True, slots=True)
class Day:
    """A day with facts on it, as its recommendation stands at its end."""

    date: date
    state: str  # the bounded part of the recommendation, encoded
    since: int  # the first day of the run of days with this same state
    commitments: tuple[DayCommitment, ...]


@dataclass(frozen=True)
class Span:
    """A row to be: a state that holds from `valid_from` until `valid_to` (exclusive)."""

    valid_from: date
    valid_to: date | None
    state: str
    columns: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Change:
    """What one event changed: version rows ending on or before `boundary` are untouched
    (None: any may have changed); spans from day `first` on are the ones to write."""

    first: int
    boundary: date | None
    corrected: bool  # the facts and days may have changed anywhere: compare them all
    items: tuple[Item, ...] = ()  # otherwise: the new append-only facts
    new_day: date | None = None  # and the day it added, if it added one


@dataclass
class _Folding:
    """The fold, holding only bounded state: each fact's item is taken out as it is applied."""

    fold: Fold = field(default_factory=Fold)
    unexplained: dict[str, int] = field(default_factory=dict)

    def copy(self) -> _Folding:
        return _Folding(self.fold.copy(), dict(self.unexplained))

    def apply(self, fact: Recommendation.Event) -> list[Item]:
        fold = self.fold
        fold.apply(fact)
        assert fold.state is not None
        fold.state, taken = parts.split(fold.state)
        made = [
            Item(kind, None, fact.occurred, fact.phase, fact.originator_version, value)
            for kind, value in taken
        ]
        name = getattr(fact, "commitment", None)
        commitment = fold.commitments.get(name) if name is not None else None
        if commitment is not None and commitment.revisions:
            for revision in commitment.revisions:
                made.append(
                    Item(
                        parts.REVISIONS,
                        commitment.commitment,
                        fact.occurred,
                        fact.phase,
                        fact.originator_version,
                        revision,
                    )
                )
                self.unexplained[commitment.commitment] = (
                    self.unexplained.get(commitment.commitment, 0) + revision.unexplained
                )
            fold.commitments[commitment.commitment] = parts.bounded_commitment(commitment)
        return made


class Timeline:
    """One recommendation's valid-time timeline, kept between events so following is cheap.

    A new fact refolds only from the first day it can change, resuming from the fold as it
    stood at the end of the day before; a correction (which can move any fact) refolds all.
    """

    def __init__(self, history: list[Recommendation.Event]) -> None:
        self.history = history
        self.version = len(history)
        self._encoded: dict[int, tuple[Commitment, str]] = {}
        self._columns: dict[str, tuple[tuple[str, Any], ...]] = {}
        self.facts: list[Recommendation.Event] = []
        self.keys: list[tuple[date, int, int]] = []
        self.items: dict[int, list[Item]] = {}  # each fact's items, by its version
        self.days: list[Day] = []
        self.dates: list[date] = []  # each day's date, for bisecting
        self.folds: list[_Folding] = []  # the fold at the end of each day
        self._refold_from(0, effective(self.history))

    @property
    def fold(self) -> Fold:
        return self.folds[-1].fold if self.folds else Fold()

    def add(self, event: Recommendation.Event) -> Change:
        self.history.append(event)
        self.version = event.originator_version
        if isinstance(event, Recommendation.EventCorrected):
            self._refold_from(0, effective(self.history))
            return Change(0, None, corrected=True)
        key = valid_order(event)
        at = bisect.bisect_left(self.keys, key)
        self.facts.insert(at, event)
        self.keys.insert(at, key)
        first = bisect.bisect_left(self.dates, event.occurred)
        new_day = first == len(self.dates) or self.dates[first] != event.occurred
        self._refold_from(first)
        return Change(
            first,
            self.day_before(event.occurred),
            corrected=False,
            items=tuple(self.items.get(event.originator_version, ())),
            new_day=event.occurred if new_day else None,
        )

    def day_before(self, occurred: date) -> date | None:
        """The last day before `occurred` with facts on it: rows ending by then are beyond
        the reach of a new fact on `occurred` (`Change.boundary`)."""
        index = bisect.bisect_left(self.dates, occurred)
        return self.dates[index - 1] if index > 0 else None

    def _refold_from(self, first_day: int, facts: list[Recommendation.Event] | None = None) -> None:
        """Keep days before `first_day`; fold the facts of the rest (or all of `facts`) again."""
        if facts is not None:
            self.facts = facts
            self.keys = [valid_order(f) for f in facts]
            self.items = {}
        del self.days[first_day:]
        del self.folds[first_day:]
        del self.dates[first_day:]
        folding = self.folds[-1].copy() if self.folds else _Folding()
        start = bisect.bisect_right(self.keys, (self.dates[-1], LAST, LAST)) if self.dates else 0
        open_day = False  # whether `folding` holds a day not yet in self.days
        for fact in itertools.islice(self.facts, start, None):
            if open_day and fact.occurred != folding.fold.day:
                self._keep(folding.copy())
            items = folding.apply(fact)
            if items:
                self.items[fact.originator_version] = items
            else:
                self.items.pop(fact.originator_version, None)
            open_day = True
        if open_day:
            self._keep(folding)

    def _keep(self, folding: _Folding) -> None:
        """Close the day `folding` ends: its rows' encoded state, its date and the fold."""
        fold = folding.fold
        assert fold.day is not None and fold.state is not None
        state = fold.state  # its commitments are in the fold, and out of the row's state
        before = self.days[-1] if self.days else None
        index = len(self.days)
        text = codec.dumps(parts.bounded(state))
        commitments = []
        for ordinal, c in enumerate(fold.commitments.values()):
            owner = state.owner_of(c)
            unexplained = folding.unexplained.get(c.commitment, 0)
            earlier = _same_place(before, c.commitment, ordinal)
            if (
                earlier is not None
                and earlier.folded is c
                and earlier.owner == owner
                and earlier.unexplained == unexplained
            ):
                commitments.append(earlier)  # a fact touches one commitment: the rest stay
                continue
            row = (ordinal, self._encode(c, state.review_wide), owner, unexplained)
            since = earlier.since if earlier is not None and earlier.row == row else index
            commitments.append(DayCommitment(c.commitment, *row, since, c))
        since = before.since if before is not None and before.state == text else index
        self.days.append(Day(fold.day, text, since, tuple(commitments)))
        self.dates.append(fold.day)
        self.folds.append(folding)

    def _encode(self, c: Commitment, review_wide: bool) -> str:
        cached = self._encoded.get(id(c))
        if cached is not None and cached[0] is c:
            return cached[1]
        text = codec.dumps(c)
        self._encoded[id(c)] = (c, text)
        self._columns[text] = _commitment_columns(c, review_wide)
        return text

    def all_items(self) -> list[Item]:
        return [item for items in self.items.values() for item in items]

    def recommendation_spans(self, first: int = 0) -> list[Span]:
        """The runs of days with one bounded state that include a day from `first - 1` on:
        the rows an event that changed days from `first` on can have changed."""
        state = self.fold.state
        identity = () if state is None else (("review", state.review), ("number", state.number))
        runs: dict[int, int] = {}  # first day -> last day, of each run
        for index in range(max(first - 1, 0), len(self.days)):
            runs[self.days[index].since] = index
        return [
            Span(self.dates[since], self._until(end), self.days[since].state, identity)
            for since, end in runs.items()
        ]

    def commitment_spans(self, first: int = 0) -> list[Span]:
        """As `recommendation_spans`, for the commitments' rows."""
        state = self.fold.state
        assert state is not None
        identity = (("review", state.review), ("number", state.number))
        runs: dict[tuple[str, int], tuple[DayCommitment, int]] = {}
        for index in range(max(first - 1, 0), len(self.days)):
            for entry in self.days[index].commitments:
                runs[(entry.name, entry.since)] = (entry, index)
        return [
            Span(
                self.dates[entry.since],
                self._until(end),
                entry.state,
                (
                    *identity,
                    ("commitment", entry.name),
                    ("ordinal", entry.ordinal),
                    ("owner", entry.owner),
                    ("unexplained_slips", entry.unexplained),
                    *self._columns[entry.state],
                ),
            )
            for entry, end in runs.values()
        ]

    def _until(self, index: int) -> date | None:
        return self.dates[index + 1] if index + 1 < len(self.dates) else None


def _same_place(day: Day | None, name: str, ordinal: int) -> DayCommitment | None:
    """The same commitment on the day before, if it was there (ordinals only ever grow)."""
    if day is None or ordinal >= len(day.commitments):
        return None
    earlier = day.commitments[ordinal]
    return earlier if earlier.name == name else None


def _commitment_columns(c: Commitment, review_wide: bool) -> tuple[tuple[str, Any], ...]:
    """Columns for SQL questions across the portfolio (owners' alerts, overdue counts)."""
    return (
        ("last_update", c.last_update or c.made_on),
        ("due_text", c.due.text if c.due else None),
        ("due_latest", c.due.latest if c.due else None),
        ("baseline_latest", c.baseline.latest if c.baseline else None),
        ("delivered_on", c.delivered.occurred if c.delivered else None),
        ("withdrawn_on", c.withdrawn.occurred if c.withdrawn else None),
        ("superseded_on", c.superseded.occurred if c.superseded else None),
        ("serves", serves_column(c, review_wide)),
    )


def serves_column(c: Commitment, review_wide: bool) -> str | None:
    """What the `serves` column holds for `c` (see `tables.commitment_versions`)."""
    if not review_wide:
        return None
    return "all" if c.serves is None else ",".join(str(n) for n in c.serves)
