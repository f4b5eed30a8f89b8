"""Restatements: what changed in what is said about one past date, between two knowledge dates.

A monitor that said on 1 November that 120 of 227 recommendations were implemented "as at
1 July", and on 21 November that 143 were, restated its past. RIO answers the same
question of itself: the programme as at D, as known at K1 (recorded, or published by P1)
against as known at K2, listing each answer that changed (a rating, a promised date, a
delivery, a count) and why: the facts recorded, or published, between the two.

Both sides are the fold's (or the read model's) answers; the causes are the events one
side sees and the other does not. A fact dated after D never changes an answer as at D
(DESIGN.md invariant 1), so only those dated by D, and corrections, can be causes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from rio.domain import facts as R
from rio.domain.errors import DatesOutOfOrder
from rio.domain.public_record import is_public
from rio.domain.rag import DEFAULT_POLICY, Policy
from rio.domain.references import describe, kind
from rio.domain.replay import replay
from rio.domain.state import Commitment, Programme
from rio.domain.values import Source
from rio.reports.answers import RecommendationStatus, status

NOT_ON_RECORD = "not on record"


@dataclass(frozen=True)
class Knowledge:
    """One knowledge date: what RIO had recorded by `known_at`, and (or) what had been
    published by `public_at`. Neither: everything RIO knows now."""

    known_at: datetime | None = None
    public_at: date | None = None

    def sees(self, event: R.Fact) -> bool:
        """Whether this knowledge includes `event` (by its own recording and source)."""
        if self.known_at is not None and event.timestamp > self.known_at:
            return False
        return self.public_at is None or is_public(event.source, self.public_at)

    def __str__(self) -> str:
        parts = []
        if self.known_at is not None:
            parts.append(f"as recorded by {self.known_at.isoformat()}")
        if self.public_at is not None:
            parts.append(f"as published by {self.public_at.isoformat()}")
        return ", ".join(parts) or "as known now"


@dataclass(frozen=True)
class Cause:
    """A fact one knowledge date sees and the other does not."""

    event: str  # the event's public id (recommendation id / version)
    reference: str  # how `rio correct` and scenario files name it
    type: str
    occurred: date
    recorded: datetime
    source: Source
    seen_by: str  # "later" (recorded or published between the two) or "earlier only"


@dataclass(frozen=True)
class Change:
    review: str
    recommendation: int
    commitment: str | None
    answer: str  # rating, promised date, deliverable, delivered, withdrawn, on record
    before: str
    after: str
    because: tuple[Cause, ...]


@dataclass(frozen=True)
class CountChange:
    count: str  # e.g. "recommendations Complete"
    before: int
    after: int
    of_before: int
    of_after: int


@dataclass(frozen=True)
class Restatements:
    as_at: date
    earlier: Knowledge
    later: Knowledge
    counts: tuple[CountChange, ...]
    changes: tuple[Change, ...]

    @property
    def summary(self) -> str:
        head = f"As at {self.as_at}, {self.earlier} against {self.later}: "
        if not self.changes:
            return head + "nothing was restated"
        counts = "; ".join(
            f"{c.count} {c.before} of {c.of_before} -> {c.after} of {c.of_after}"
            for c in self.counts
        )
        return head + f"{len(self.changes)} answers restated" + (f"; {counts}" if counts else "")


Ask = Callable[[Knowledge], Programme]


def restatements(
    events: Sequence[R.Fact],
    as_at: date,
    earlier: Knowledge,
    later: Knowledge,
    policy: Policy = DEFAULT_POLICY,
    ask: Ask | None = None,
) -> Restatements:
    """Every answer about `as_at` that differs between `earlier` and `later`, with its causes.

    `events` are every recorded event, to find the causes in; both sides are their fold,
    unless `ask` gives the programme as at `as_at` another way (the read model: it agrees)."""
    _in_order(earlier, later)

    def fold(knowledge: Knowledge) -> Programme:
        return replay(events, as_at, knowledge.known_at, knowledge.public_at)

    asked = ask or fold
    before = {r.state.id: r for r in status(asked(earlier), policy)}
    after = {r.state.id: r for r in status(asked(later), policy)}
    by_rec: dict[UUID, list[R.Fact]] = {}
    for event in events:
        by_rec.setdefault(event.originator_id, []).append(event)
    changes: list[Change] = []
    for rec_id in sorted(set(before) | set(after), key=lambda i: _order(before, after, i)):
        history = by_rec.get(rec_id, [])
        causes = _causes(history, as_at, earlier, later)
        changes += _changed(before.get(rec_id), after.get(rec_id), causes)
    return Restatements(
        as_at, earlier, later, tuple(_counts(before.values(), after.values())), tuple(changes)
    )


def _in_order(earlier: Knowledge, later: Knowledge) -> None:
    for name, first, second in (
        ("known_at", earlier.known_at, later.known_at),
        ("public_at", earlier.public_at, later.public_at),
    ):
        if first is not None and second is not None and second < first:
            raise DatesOutOfOrder(
                f"the later {name} {second.isoformat()} is before the earlier one "
                f"{first.isoformat()}: give the earlier knowledge date first"
            )


def _order(
    before: dict[UUID, RecommendationStatus], after: dict[UUID, RecommendationStatus], rec: UUID
) -> tuple[str, int]:
    state = (after.get(rec) or before[rec]).state
    return state.review, state.number


# --- what changed -----------------------------------------------------------------------------


def _changed(
    before: RecommendationStatus | None,
    after: RecommendationStatus | None,
    causes: list[tuple[str | None, Cause]],
) -> list[Change]:
    either = after or before
    if either is None:
        return []
    state = either.state
    because_all = tuple(c for _, c in causes)

    def change(answer: str, old: str, new: str, commitment: str | None = None) -> Change:
        mine = because_all
        if commitment is not None:
            mine = tuple(c for about, c in causes if about in (None, commitment)) or because_all
        return Change(state.review, state.number, commitment, answer, old, new, mine)

    if before is None:
        return [change("on record", NOT_ON_RECORD, "on record")]
    if after is None:
        return [change("on record", "on record", NOT_ON_RECORD)]
    result: list[Change] = []
    if before.rating.rating != after.rating.rating:
        result.append(change("rating", before.rating.rating, after.rating.rating))
    old_commitments = {c.commitment: c for c in before.state.commitments}
    new_commitments = {c.commitment: c for c in after.state.commitments}
    for name in sorted(set(old_commitments) | set(new_commitments)):
        was, now = old_commitments.get(name), new_commitments.get(name)
        if was is None or now is None:
            result.append(
                change(
                    "on record",
                    NOT_ON_RECORD if was is None else "on record",
                    NOT_ON_RECORD if now is None else "on record",
                    name,
                )
            )
            continue
        old_rating, new_rating = before.commitments[name].rating, after.commitments[name].rating
        for answer, old_text, new_text in (
            ("rating", old_rating, new_rating),
            ("promised date", _due(was), _due(now)),
            ("deliverable", was.deliverable, now.deliverable),
            ("delivered", _closed(was.delivered), _closed(now.delivered)),
            ("withdrawn", _closed(was.withdrawn), _closed(now.withdrawn)),
        ):
            if old_text != new_text:
                result.append(change(answer, old_text, new_text, name))
    return result


def _due(c: Commitment) -> str:
    return f"{c.due.text} (by {c.due.latest})" if c.due else "no date"


def _closed(closure: object) -> str:
    occurred = getattr(closure, "occurred", None)
    return "no" if occurred is None else f"on {occurred}"


def _counts(
    before: Iterable[RecommendationStatus], after: Iterable[RecommendationStatus]
) -> list[CountChange]:
    old, new = list(before), list(after)
    old_ratings = Counter(r.rating.rating for r in old)
    new_ratings = Counter(r.rating.rating for r in new)
    result = [
        CountChange(
            f"recommendations {rating}",
            old_ratings[rating],
            new_ratings[rating],
            len(old),
            len(new),
        )
        for rating in sorted(set(old_ratings) | set(new_ratings))
        if old_ratings[rating] != new_ratings[rating]
    ]
    old_delivered = sum(1 for r in old for c in r.state.commitments if c.delivered)
    new_delivered = sum(1 for r in new for c in r.state.commitments if c.delivered)
    old_total = sum(len(r.state.commitments) for r in old)
    new_total = sum(len(r.state.commitments) for r in new)
    if (old_delivered, old_total) != (new_delivered, new_total):
        result.append(
            CountChange("commitments delivered", old_delivered, new_delivered, old_total, new_total)
        )
    return result


# --- why ---------------------------------------------------------------------------------------


def _causes(
    history: Sequence[R.Fact], as_at: date, earlier: Knowledge, later: Knowledge
) -> list[tuple[str | None, Cause]]:
    """The events of one recommendation that one side sees and the other does not, and could
    change an answer as at `as_at`, each with the commitment it is about (None: the whole
    recommendation)."""
    by_version = {e.originator_version: e for e in history}
    result = []
    for event in history:
        seen_earlier, seen_later = earlier.sees(event), later.sees(event)
        if seen_earlier == seen_later:
            continue
        about: R.Fact = event
        if isinstance(event, R.EventCorrected):
            about = by_version.get(event.corrects, event)
        elif event.occurred > as_at:
            continue
        cause = Cause(
            event=event.event_id,
            reference=describe(event, history)
            if not isinstance(event, R.EventCorrected)
            else f"correction of {describe(about, history)}",
            type=kind(event),
            occurred=event.occurred,
            recorded=event.timestamp,
            source=event.source,
            seen_by="later" if seen_later else "earlier only",
        )
        result.append((getattr(about, "commitment", None), cause))
    return result
