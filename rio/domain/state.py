"""The programme's state as the fold builds it: plain frozen values, no rules but derived ones.

Everything that reads the programme (RAG, alerts, reports, the read model, the doors) reads
these types; only the fold (`rio.domain.replay`) makes them from facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from rio.domain import slip
from rio.domain.due_window import DueWindow
from rio.domain.values import REVIEW_WIDE, ReportedStatus, Source


@dataclass(frozen=True)
class Revision:
    occurred: date
    due: DueWindow | None
    deliverable: str | None
    reason: str | None
    unexplained: bool
    source: Source


@dataclass(frozen=True)
class Closure:
    """A delivery (with its evidence) or a withdrawal (with its reason)."""

    occurred: date
    detail: str
    source: Source


@dataclass(frozen=True)
class Note:
    occurred: date
    text: str
    commitment: str | None
    source: Source


@dataclass(frozen=True)
class Assessment:
    occurred: date
    scale: str
    rating: str
    rationale: str
    assessor: str
    commitment: str | None
    source: Source


@dataclass(frozen=True)
class StatusReport:
    """A dated, cited statement of where something stands, as its owner reports it."""

    occurred: date
    status: str  # a `rio.domain.values.ReportedStatus`
    commitment: str | None
    action: str | None
    source: Source

    def words(self, quoted: bool = True) -> str:
        """'reported not delivered as of 2024-10-01 (Tracker (2024-10-01)): "…"'."""
        quote = f': "{self.source.quote}"' if quoted and self.source.quote else ""
        return (
            f"reported {ReportedStatus(self.status).words} as of {self.occurred} "
            f"({self.source.cite()}){quote}"
        )


@dataclass(frozen=True)
class Decision:
    occurred: date
    decision: str
    decided_by: str | None
    source: Source


@dataclass(frozen=True)
class Action:
    action: str
    text: str
    occurred: date


@dataclass(frozen=True)
class Commitment:
    commitment: str
    deliverable: str
    action: str | None
    owner: str | None
    made_on: date
    source: Source
    baseline: DueWindow | None
    due: DueWindow | None
    revisions: tuple[Revision, ...] = ()
    delivered: Closure | None = None
    withdrawn: Closure | None = None
    last_update: date | None = None
    inferred: bool = False  # reconstructed from loose wording ("could include")
    serves: tuple[int, ...] | None = None  # a review-wide promise's recommendations (None: all)
    supersedes: str | None = None  # the earlier stage this one replaced
    superseded: Closure | None = None  # replaced by its next stage (detail: that stage's name)

    @property
    def is_open(self) -> bool:
        return self.delivered is None and self.withdrawn is None and self.superseded is None

    def serves_number(self, number: int) -> bool:
        """Whether a review-wide promise serves recommendation `number`."""
        return self.serves is None or number in self.serves

    @property
    def slip_days(self) -> int:
        """How far the current due date has moved past the first promise (0 if not later)."""
        return slip.slip_days(
            self.due.latest if self.due else None, self.baseline.latest if self.baseline else None
        )


@dataclass(frozen=True)
class RecommendationState:
    id: UUID
    review: str
    number: int
    title: str
    text: str
    registered_on: date
    source: Source
    accountable_owner: str | None = None
    senior_owner: str | None = None
    actions: tuple[Action, ...] = ()
    decisions: tuple[Decision, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    notes: tuple[Note, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    statuses: tuple[StatusReport, ...] = ()
    last_update: date | None = None

    @property
    def review_wide(self) -> bool:
        """The review's own stream (`REVIEW_WIDE`), not one of its recommendations."""
        return self.number == REVIEW_WIDE

    def reported(self, commitment: Commitment) -> StatusReport | None:
        """The latest status reported for `commitment`: on it by name, else on its action."""
        named = [s for s in self.statuses if s.commitment == commitment.commitment]
        if not named and commitment.action is not None:
            named = [
                s for s in self.statuses if s.commitment is None and s.action == commitment.action
            ]
        return named[-1] if named else None

    def stages(self, commitment: Commitment) -> tuple[Commitment, ...]:
        """The line of work `commitment` belongs to, first stage first."""
        by_name = {c.commitment: c for c in self.commitments}
        first, seen = commitment, {commitment.commitment}
        while first.supersedes in by_name and first.supersedes not in seen:
            first = by_name[first.supersedes]
            seen.add(first.commitment)
        line = [first]
        successors = {c.supersedes: c for c in self.commitments if c.supersedes is not None}
        while line[-1].commitment in successors and len(line) <= len(self.commitments):
            following = successors[line[-1].commitment]
            if following in line:
                break
            line.append(following)
        return tuple(line)

    def commitment(self, commitment: str) -> Commitment:
        for candidate in self.commitments:
            if candidate.commitment == commitment:
                return candidate
        raise KeyError(commitment)

    def owner_of(self, commitment: Commitment) -> str | None:
        return commitment.owner or self.accountable_owner


@dataclass(frozen=True)
class Programme:
    as_at: date
    known_at: datetime | None
    recommendations: tuple[RecommendationState, ...] = field(default_factory=tuple)

    def recommendation(self, review: str, number: int) -> RecommendationState:
        for rec in self.recommendations:
            if rec.review == review and rec.number == number:
                return rec
        raise KeyError((review, number))

    def review_wide(self, review: str) -> RecommendationState | None:
        """The review's own stream (promises about the review as a whole), if it has one."""
        for rec in self.recommendations:
            if rec.review == review and rec.review_wide:
                return rec
        return None

    def shared_with(self, rec: RecommendationState) -> tuple[Commitment, ...]:
        """The review-wide commitments that serve `rec` (none for the review's own stream)."""
        wide = None if rec.review_wide else self.review_wide(rec.review)
        if wide is None:
            return ()
        return tuple(c for c in wide.commitments if c.serves_number(rec.number))


T = TypeVar("T")


def replace(value: T, **changes: Any) -> T:
    """dataclasses.replace without re-running __init__: these frozen states have no checks to run,
    and the fold makes this call for every fact."""
    twin = object.__new__(type(value))
    twin.__dict__.update(value.__dict__)
    twin.__dict__.update(changes)
    return twin
