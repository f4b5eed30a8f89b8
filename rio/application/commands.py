"""The commands a recommendation accepts, as typed values.

Every door (the API, the CLI, scenario files, tests) builds one of these and hands it to
`RIO`; a command's fields are the aggregate method's arguments, so mypy checks each door
against the aggregate, and a batch is simply a list of them. Each command knows the fact it
records (`records`), which puts a bulk load in valid-time order without naming methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

from rio.aggregates.recommendation import Recommendation, recommendation_id
from rio.domain.history import day_order
from rio.domain.values import REVIEW_WIDE, OwnerRole, Source


@dataclass(frozen=True, kw_only=True)
class Cited:
    """What every command carries: when it happened, on whose word, and who records it."""

    occurred: date
    source: Source
    recorded_by: str


@dataclass(frozen=True, kw_only=True)
class RegisterRecommendation(Cited):
    review: str
    number: int
    title: str
    text: str
    review_wide: bool = False  # the review's own stream, number REVIEW_WIDE

    @property
    def id(self) -> UUID:
        return recommendation_id(self.review, self.number)

    @classmethod
    def review_as_whole(
        cls, review: str, title: str, first: Cited, recorded_by: str
    ) -> RegisterRecommendation:
        """The registration of `review`'s own stream (`REVIEW_WIDE`), made on (and citing)
        its first fact, by every door alike: a scenario's review-wide entries and the API's
        writes to recommendation 0 register it the same way, so either can follow the other."""
        return cls(
            review=review,
            number=REVIEW_WIDE,
            title=f"{title} (the review as a whole)",
            text="Promises about the review as a whole, or several of its recommendations.",
            occurred=first.occurred,
            source=first.source,
            recorded_by=recorded_by,
            review_wide=True,
        )

    def create(self) -> Recommendation:
        return Recommendation.register(
            review=self.review,
            number=self.number,
            title=self.title,
            text=self.text,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
            review_wide=self.review_wide,
        )


@dataclass(frozen=True, kw_only=True)
class RecommendationCommand(Cited, ABC):
    """A change to a registered recommendation."""

    records: ClassVar[type[Recommendation.Event]]

    @abstractmethod
    def apply(self, recommendation: Recommendation) -> None:
        """Run the aggregate's command (which checks it, then records its fact)."""

    def order(self, position: int) -> tuple[date, int, int]:
        """Where this command falls in valid-time order among one recommendation's commands
        (`rio.domain.history.day_order`); `position` breaks ties as given."""
        return day_order(self.occurred, self.records.phase, position)


@dataclass(frozen=True, kw_only=True)
class AddAction(RecommendationCommand):
    records = Recommendation.ActionAdded
    action: str
    text: str

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.add_action(
            action=self.action,
            text=self.text,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class AssignOwner(RecommendationCommand):
    records = Recommendation.OwnerAssigned
    owner: str
    role: str = OwnerRole.ACCOUNTABLE
    commitment: str | None = None

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.assign_owner(
            owner=self.owner,
            role=self.role,
            commitment=self.commitment,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class RecordDecision(RecommendationCommand):
    records = Recommendation.DecisionRecorded
    decision: str
    decided_by: str | None = None

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.record_decision(
            decision=self.decision,
            decided_by=self.decided_by,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class MakeCommitment(RecommendationCommand):
    records = Recommendation.CommitmentMade
    commitment: str
    deliverable: str
    due: str | None = None
    owner: str | None = None
    action: str | None = None
    inferred: bool = False
    serves: list[int] | None = None
    supersedes: str | None = None

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.make_commitment(
            commitment=self.commitment,
            deliverable=self.deliverable,
            due=self.due,
            owner=self.owner,
            action=self.action,
            inferred=self.inferred,
            serves=self.serves,
            supersedes=self.supersedes,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class ReviseCommitment(RecommendationCommand):
    records = Recommendation.CommitmentRevised
    commitment: str
    due: str | None = None
    deliverable: str | None = None
    reason: str | None = None

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.revise_commitment(
            commitment=self.commitment,
            due=self.due,
            deliverable=self.deliverable,
            reason=self.reason,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class WithdrawCommitment(RecommendationCommand):
    records = Recommendation.CommitmentWithdrawn
    commitment: str
    reason: str

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.withdraw_commitment(
            commitment=self.commitment,
            reason=self.reason,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class RecordDelivery(RecommendationCommand):
    records = Recommendation.MilestoneDelivered
    commitment: str
    evidence: str

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.record_delivery(
            commitment=self.commitment,
            evidence=self.evidence,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class NoteProgress(RecommendationCommand):
    records = Recommendation.ProgressNoted
    note: str
    commitment: str | None = None

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.note_progress(
            note=self.note,
            commitment=self.commitment,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class ReportStatus(RecommendationCommand):
    """Record where something stands as its owner reports it (not a delivery)."""

    records = Recommendation.StatusReported
    status: str
    commitment: str | None = None
    action: str | None = None

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.report_status(
            status=self.status,
            commitment=self.commitment,
            action=self.action,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class AssessStatus(RecommendationCommand):
    records = Recommendation.StatusAssessed
    scale: str
    rating: str
    rationale: str
    assessor: str
    commitment: str | None = None

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.assess_status(
            scale=self.scale,
            rating=self.rating,
            rationale=self.rationale,
            assessor=self.assessor,
            commitment=self.commitment,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )


@dataclass(frozen=True, kw_only=True)
class CorrectEvent(RecommendationCommand):
    """Supersede (or retract) the event at `version`; the corrected fields stay primitive
    here (text, ISO dates, a Source) and the aggregate turns them into the target's types."""

    records = Recommendation.EventCorrected
    version: int
    changes: Mapping[str, Any] | None = None
    retract: bool = False
    reason: str

    def apply(self, recommendation: Recommendation) -> None:
        recommendation.correct_event(
            version=self.version,
            changes=self.changes,
            retract=self.retract,
            reason=self.reason,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        )
