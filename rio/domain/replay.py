"""The pure replay: a fold from facts to the programme as at a date, as known at a moment.

This is the reference every read model is tested against (DESIGN.md invariant 4), so it
stays a plain function of its inputs: no store, no clock, no cache. It folds the domain's
facts (`rio.domain.facts`), which the Recommendation aggregate's events are, so the domain
never needs the aggregate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from uuid import UUID

from rio.domain import facts as R
from rio.domain.public_record import effective
from rio.domain.state import (
    Action,
    Assessment,
    Closure,
    Commitment,
    Decision,
    Note,
    Programme,
    RecommendationState,
    Revision,
    StatusReport,
    replace,
)
from rio.domain.values import OwnerRole


def replay(
    events: Iterable[R.Fact],
    as_at: date,
    known_at: datetime | None = None,
    public_at: date | None = None,
) -> Programme:
    """The programme as it stood on `as_at`, from what RIO had recorded by `known_at` (and,
    with `public_at`, only what was on the public record then: `rio.domain.public_record`)."""
    by_recommendation: dict[UUID, list[R.Fact]] = defaultdict(list)
    for event in events:
        by_recommendation[event.originator_id].append(event)
    states = []
    for history in by_recommendation.values():
        facts = [f for f in effective(history, known_at, public_at) if f.occurred <= as_at]
        if facts and isinstance(facts[0], R.Registered):
            states.append(fold(facts))
    states.sort(key=lambda s: (s.review, s.number))
    return Programme(as_at=as_at, known_at=known_at, recommendations=tuple(states))


def fold(facts: Iterable[R.Fact]) -> RecommendationState:
    """Fold one recommendation's effective facts, already in valid-time order."""
    final = None
    for _, state in states(facts):
        final = state
    if final is None:
        raise ValueError("no registration in this history")
    return final


def states(facts: Iterable[R.Fact]) -> Iterator[tuple[date, RecommendationState]]:
    """The state after each day's facts: valid from that day until the next one yielded."""
    folding = Fold()
    for fact in facts:
        if folding.day is not None and fact.occurred != folding.day:
            yield folding.day, folding.snapshot()
        folding.apply(fact)
    if folding.day is not None:
        yield folding.day, folding.snapshot()


class Fold:
    """A fold in progress, so a follower can resume it when a fact arrives in valid-time order."""

    def __init__(self) -> None:
        self.state: RecommendationState | None = None
        self.commitments: dict[str, Commitment] = {}
        self.day: date | None = None

    def apply(self, fact: R.Fact) -> None:
        if isinstance(fact, R.Registered):
            self.state = RecommendationState(
                id=fact.originator_id,
                review=fact.review,
                number=fact.number,
                title=fact.title,
                text=fact.text,
                registered_on=fact.occurred,
                source=fact.source,
            )
        if self.state is None:
            raise ValueError("a recommendation's history must start with its registration")
        self.state = replace(_apply(self.state, self.commitments, fact), last_update=fact.occurred)
        self.day = fact.occurred

    def snapshot(self) -> RecommendationState:
        if self.state is None:
            raise ValueError("nothing folded yet")
        return replace(self.state, commitments=tuple(self.commitments.values()))

    def copy(self) -> Fold:
        twin = Fold()
        twin.state, twin.commitments, twin.day = self.state, dict(self.commitments), self.day
        return twin


def _apply(
    state: RecommendationState, commitments: dict[str, Commitment], fact: R.Fact
) -> RecommendationState:
    match fact:
        case R.ActionAdded():
            action = Action(fact.action, fact.text, fact.occurred)
            return replace(state, actions=(*state.actions, action))
        case R.DecisionRecorded():
            decision = Decision(fact.occurred, fact.decision, fact.decided_by, fact.source)
            return replace(state, decisions=(*state.decisions, decision))
        case R.OwnerAssigned() if fact.commitment is not None:
            _touch(commitments, fact, owner=fact.owner)
        case R.OwnerAssigned() if fact.role == OwnerRole.SENIOR:
            return replace(state, senior_owner=fact.owner)
        case R.OwnerAssigned():
            return replace(state, accountable_owner=fact.owner)
        case R.CommitmentMade():
            commitments[fact.commitment] = Commitment(
                commitment=fact.commitment,
                deliverable=fact.deliverable,
                action=fact.action,
                owner=fact.owner,
                made_on=fact.occurred,
                source=fact.source,
                baseline=fact.due,
                due=fact.due,
                last_update=fact.occurred,
                inferred=fact.inferred,
                serves=None if fact.serves is None else tuple(fact.serves),
                supersedes=fact.supersedes,
            )
            if fact.supersedes is not None and fact.supersedes in commitments:
                # The earlier stage ends where its successor begins: slips are per stage.
                closure = Closure(fact.occurred, fact.commitment, fact.source)
                _touch_named(commitments, fact.supersedes, fact.occurred, superseded=closure)
        case R.CommitmentRevised():
            current = commitments[fact.commitment]
            revision = Revision(
                occurred=fact.occurred,
                due=fact.due,
                deliverable=fact.deliverable,
                reason=fact.reason,
                unexplained=fact.unexplained,
                source=fact.source,
            )
            _touch(
                commitments,
                fact,
                revisions=(*current.revisions, revision),
                due=fact.due if fact.due is not None else current.due,
                # A date set where there was none becomes the baseline: the first promise.
                baseline=current.baseline or fact.due,
                deliverable=fact.deliverable or current.deliverable,
            )
        case R.MilestoneDelivered():
            _touch(commitments, fact, delivered=Closure(fact.occurred, fact.evidence, fact.source))
        case R.CommitmentWithdrawn():
            _touch(commitments, fact, withdrawn=Closure(fact.occurred, fact.reason, fact.source))
        case R.ProgressNoted():
            note = Note(fact.occurred, fact.note, fact.commitment, fact.source)
            if fact.commitment is not None:
                _touch(commitments, fact)
            return replace(state, notes=(*state.notes, note))
        case R.StatusReported():
            report = StatusReport(
                fact.occurred, fact.status, fact.commitment, fact.action, fact.source
            )
            if fact.commitment is not None:
                _touch(commitments, fact)
            return replace(state, statuses=(*state.statuses, report))
        case R.StatusAssessed():
            assessment = Assessment(
                occurred=fact.occurred,
                scale=fact.scale,
                rating=fact.rating,
                rationale=fact.rationale,
                assessor=fact.assessor,
                commitment=fact.commitment,
                source=fact.source,
            )
            if fact.commitment is not None:
                _touch(commitments, fact)
            return replace(state, assessments=(*state.assessments, assessment))
    return state


def _touch(commitments: dict[str, Commitment], fact: R.Fact, **changes: object) -> None:
    name: str = getattr(fact, "commitment")  # noqa: B009
    _touch_named(commitments, name, fact.occurred, **changes)


def _touch_named(
    commitments: dict[str, Commitment], name: str, occurred: date, **changes: object
) -> None:
    commitments[name] = replace(commitments[name], last_update=occurred, **changes)
