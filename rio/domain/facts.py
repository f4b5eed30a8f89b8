"""What a recommendation's history is made of: each kind of fact, as data.

The Recommendation aggregate (`rio.aggregates.recommendation`) records these facts: each of
its event classes is one of these shapes plus how it changes the aggregate. The domain's
rules (valid-time order, contradictions, the fold) read only these shapes, so the domain
depends on nothing outside itself and the aggregate depends on it, never the other way.

A shape is what is stored: changing one changes stored events, so it bumps `class_version`
and adds an upcaster (`upcast_v1_v2`, ...) for what is already stored, and a golden fixture
(tests/fixtures/events) for the new version.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, ClassVar, TypeVar

from eventsourcing.domain import Aggregate

from rio.domain.due_window import DueWindow
from rio.domain.values import Source

# Where a fact falls among the facts of its own day (see `rio.domain.history.day_order`):
# a recommendation is registered first, then what it is made of is created, then changed,
# and a commitment is closed last.
REGISTRATION = 0
CREATION = 1
CHANGE = 2
CLOSURE = 3


class Fact(Aggregate.Event):
    """A dated, cited fact about one recommendation."""

    phase: ClassVar[int] = CHANGE
    occurred: date
    source: Source
    recorded_by: str

    @property
    def event_id(self) -> str:
        """Stable public id of the event: the aggregate id and its version."""
        return f"{self.originator_id}/{self.originator_version}"


F = TypeVar("F", bound=Fact)


class Registered(Fact):
    class_version: ClassVar[int] = 1
    phase: ClassVar[int] = REGISTRATION
    review: str
    number: int
    title: str
    text: str


class ActionAdded(Fact):
    class_version: ClassVar[int] = 1
    phase: ClassVar[int] = CREATION
    action: str
    text: str


class OwnerAssigned(Fact):
    class_version: ClassVar[int] = 1
    owner: str
    role: str
    commitment: str | None


class DecisionRecorded(Fact):
    class_version: ClassVar[int] = 1
    decision: str
    decided_by: str | None


class CommitmentMade(Fact):
    """A promise. Version 2 (issue 14) added: `inferred` (reconstructed from loose wording),
    `serves` (a review-wide promise's recommendations; None: all of them, or its own
    recommendation's) and `supersedes` (the commitment whose next stage this is)."""

    class_version: ClassVar[int] = 2
    phase: ClassVar[int] = CREATION
    commitment: str
    deliverable: str
    due: DueWindow | None
    owner: str | None
    action: str | None
    inferred: bool
    serves: list[int] | None
    supersedes: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["inferred"] = False
        state["serves"] = None
        state["supersedes"] = None


class CommitmentRevised(Fact):
    class_version: ClassVar[int] = 1
    commitment: str
    due: DueWindow | None
    deliverable: str | None
    reason: str | None

    @property
    def unexplained(self) -> bool:
        """DAO 02/20: every moved date must be explained; one that wasn't is a finding."""
        return self.due is not None and not self.reason


class CommitmentWithdrawn(Fact):
    class_version: ClassVar[int] = 1
    phase: ClassVar[int] = CLOSURE
    commitment: str
    reason: str


class MilestoneDelivered(Fact):
    class_version: ClassVar[int] = 1
    phase: ClassVar[int] = CLOSURE
    commitment: str
    evidence: str


class StatusReported(Fact):
    """Where a commitment, an action or the recommendation stands, as its owner reports it:
    evidence, but not evidence of delivery (the source's own words are its quote)."""

    class_version: ClassVar[int] = 1
    status: str
    commitment: str | None
    action: str | None


class ProgressNoted(Fact):
    class_version: ClassVar[int] = 1
    note: str
    commitment: str | None


class StatusAssessed(Fact):
    class_version: ClassVar[int] = 1
    scale: str
    rating: str
    rationale: str
    assessor: str
    commitment: str | None


class EventCorrected(Fact):
    """Supersedes an earlier event from this event's recorded time on; never edits it."""

    class_version: ClassVar[int] = 1
    corrects: int
    changes: dict[str, Any]
    retracted: bool
    reason: str

    def corrected(self, target: F) -> F:
        return dataclasses.replace(target, **self.changes)
