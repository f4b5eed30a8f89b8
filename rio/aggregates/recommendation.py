"""The Recommendation aggregate: every promise, slip and delivery against one review recommendation.

Events are immutable facts with two times: `occurred` (valid time, from the source) and the
library's `timestamp` (recorded time, set by RIO). Commands validate first, then trigger one
event; an event's `apply` only appends it, so replaying history can never fail or diverge.
The facts' data shapes (and their stored versions) are the domain's (`rio.domain.facts`);
this module adds the commands that check them and how each changes the aggregate. Topics
follow `rio.aggregates.topics`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from rio.aggregates.topics import Stored
from rio.domain import bounds, clock, facts
from rio.domain.due_window import DueWindow, parse_due
from rio.domain.errors import InvalidCommand
from rio.domain.history import check_history
from rio.domain.values import REVIEW_WIDE, OwnerRole, RatingScale, ReportedStatus, Source

_TICK = timedelta(microseconds=1)


def recommendation_id(review: str, number: int) -> UUID:
    """Identity from the natural key, so loading a review twice records nothing new."""
    return uuid5(NAMESPACE_URL, f"rio:recommendation:{review.strip().casefold()}:{number}")


class Recommendation(Stored, Aggregate):
    """One review recommendation; its events are the facts of `rio.domain.facts`."""

    class Event(Stored, facts.Fact):
        def apply(self, aggregate: Recommendation) -> None:
            aggregate.history.append(self)

        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Registered(Event, facts.Registered, Aggregate.Created):
        def apply(self, aggregate: Recommendation) -> None:
            aggregate.review = self.review
            aggregate.number = self.number
            aggregate.history = [self]

    class ActionAdded(Event, facts.ActionAdded):
        pass

    class OwnerAssigned(Event, facts.OwnerAssigned):
        pass

    class DecisionRecorded(Event, facts.DecisionRecorded):
        pass

    class CommitmentMade(Event, facts.CommitmentMade):
        pass

    class CommitmentRevised(Event, facts.CommitmentRevised):
        pass

    class CommitmentWithdrawn(Event, facts.CommitmentWithdrawn):
        pass

    class MilestoneDelivered(Event, facts.MilestoneDelivered):
        pass

    class ProgressNoted(Event, facts.ProgressNoted):
        pass

    class StatusReported(Event, facts.StatusReported):
        pass

    class StatusAssessed(Event, facts.StatusAssessed):
        pass

    class EventCorrected(Event, facts.EventCorrected):
        pass

    def __init__(self) -> None:
        # Registered.apply fills these in; declared here so their types are known.
        self.review = ""
        self.number = 0
        self.history: list[Recommendation.Event] = []

    def __deepcopy__(self, memo: dict[int, Any]) -> Recommendation:
        """Events are immutable, so a copy needs only its own lists: eventsourcing copies a
        cached aggregate for every command, and a generic deep copy cost as much as replay."""
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__)
        copied.history = list(self.history)
        copied._pending_events = list(self._pending_events)
        return copied

    # Fields a correction may change: identities (commitment and action ids) stay fixed.
    FIXED_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"originator_id", "originator_version", "timestamp", "originator_topic", "recorded_by"}
        | {"commitment", "action", "review", "number"}
    )

    @classmethod
    def register(
        cls,
        *,
        review: str,
        number: int,
        title: str,
        text: str,
        occurred: date,
        source: Source,
        recorded_by: str,
        review_wide: bool = False,
    ) -> Recommendation:
        """`review_wide`: the review's own stream (number `REVIEW_WIDE`), where promises about
        the review as a whole are recorded once (see docs/architecture.md)."""
        if number < 1 and not (number == REVIEW_WIDE and review_wide):
            raise InvalidCommand(f"recommendation number must be 1 or more, not {number}")
        _not_in_future(occurred)
        return cls._create(
            cls.Registered,
            id=recommendation_id(review, number),
            review=_text("review", review),
            number=number,
            title=_text("title", title),
            text=text.strip(),
            occurred=occurred,
            source=source,
            recorded_by=_text("recorded_by", recorded_by),
        )

    def add_action(
        self, *, action: str, text: str, occurred: date, source: Source, recorded_by: str
    ) -> None:
        self._record(
            self.ActionAdded,
            action=_text("action", action),
            text=_text("text", text),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def assign_owner(
        self,
        *,
        owner: str,
        role: str = OwnerRole.ACCOUNTABLE,
        commitment: str | None = None,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> None:
        self._record(
            self.OwnerAssigned,
            owner=_text("owner", owner),
            role=_role(role),
            commitment=_optional_text("commitment", commitment),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def record_decision(
        self,
        *,
        decision: str,
        decided_by: str | None = None,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> None:
        self._record(
            self.DecisionRecorded,
            decision=_text("decision", decision),
            decided_by=_optional_text("decided_by", decided_by),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def make_commitment(
        self,
        *,
        commitment: str,
        deliverable: str,
        due: str | None = None,
        owner: str | None = None,
        action: str | None = None,
        inferred: bool = False,
        serves: list[int] | None = None,
        supersedes: str | None = None,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> None:
        """`serves`: the recommendations a review-wide promise serves (None: all); only the
        review's own stream takes it. `supersedes`: the open commitment this is the next
        stage of (it closes there, and its slip is its own)."""
        if serves is not None and self.number != REVIEW_WIDE:
            raise InvalidCommand(
                f"commitment {commitment!r} names the recommendations it serves, but only a "
                "promise of the review as a whole does; record it on the review"
            )
        self._record(
            self.CommitmentMade,
            commitment=_text("commitment", commitment),
            deliverable=_text("deliverable", deliverable),
            due=_due(due, occurred),
            owner=_optional_text("owner", owner),
            action=_optional_text("action", action),
            inferred=_flag("inferred", inferred),
            serves=_numbers(serves),
            supersedes=_optional_text("supersedes", supersedes),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def revise_commitment(
        self,
        *,
        commitment: str,
        due: str | None = None,
        deliverable: str | None = None,
        reason: str | None = None,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> None:
        if due is None and deliverable is None:
            raise InvalidCommand("a revision must give a new due date, a new deliverable, or both")
        self._record(
            self.CommitmentRevised,
            commitment=_text("commitment", commitment),
            due=_due(due, occurred),
            deliverable=_optional_text("deliverable", deliverable),
            reason=_optional_text("reason", reason),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def withdraw_commitment(
        self, *, commitment: str, reason: str, occurred: date, source: Source, recorded_by: str
    ) -> None:
        self._record(
            self.CommitmentWithdrawn,
            commitment=_text("commitment", commitment),
            reason=_text("reason", reason),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def record_delivery(
        self, *, commitment: str, evidence: str, occurred: date, source: Source, recorded_by: str
    ) -> None:
        self._record(
            self.MilestoneDelivered,
            commitment=_text("commitment", commitment),
            evidence=_text("evidence", evidence),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def note_progress(
        self,
        *,
        note: str,
        commitment: str | None = None,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> None:
        self._record(
            self.ProgressNoted,
            note=_text("note", note),
            commitment=_optional_text("commitment", commitment),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def report_status(
        self,
        *,
        status: str,
        commitment: str | None = None,
        action: str | None = None,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> None:
        """Where a commitment, an action or the recommendation stands, as its owner says."""
        if commitment is not None and action is not None:
            raise InvalidCommand(
                "a reported status is about a commitment or an action (or neither), not both"
            )
        self._record(
            self.StatusReported,
            status=_reported(status),
            commitment=_optional_text("commitment", commitment),
            action=_optional_text("action", action),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def assess_status(
        self,
        *,
        scale: str,
        rating: str,
        rationale: str,
        assessor: str,
        commitment: str | None = None,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> None:
        rating_scale = _scale(scale)
        self._record(
            self.StatusAssessed,
            scale=rating_scale.value,
            rating=rating_scale.canonical(rating),
            rationale=_text("rationale", rationale),
            assessor=_text("assessor", assessor),
            commitment=_optional_text("commitment", commitment),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def correct_event(
        self,
        *,
        version: int,
        changes: Mapping[str, Any] | None = None,
        retract: bool = False,
        reason: str,
        occurred: date,
        source: Source,
        recorded_by: str,
    ) -> None:
        target = self._event_at(version)
        if retract and changes:
            raise InvalidCommand("a correction either retracts an event or changes it, not both")
        if not retract and not changes:
            raise InvalidCommand("a correction must change at least one field, or retract")
        if retract and isinstance(target, self.Registered):
            raise InvalidCommand("a registration cannot be retracted; correct its fields instead")
        self._record(
            self.EventCorrected,
            corrects=version,
            changes=_correction_changes(target, dict(changes or {})),
            retracted=retract,
            reason=_text("reason", reason),
            occurred=occurred,
            source=source,
            recorded_by=recorded_by,
        )

    def _event_at(self, version: int) -> Recommendation.Event:
        for event in self.history:
            if event.originator_version == version:
                if isinstance(event, self.EventCorrected):
                    raise InvalidCommand(
                        f"event {version} is itself a correction; correct event "
                        f"{event.corrects} again instead"
                    )
                return event
        raise InvalidCommand(
            f"recommendation {self.number} has no event {version} "
            f"(it has events 1 to {self.version})"
        )

    def _record(self, event_class: type[Recommendation.Event], **fields: Any) -> None:
        """Check the event against the whole valid-time history, then trigger it."""
        fields["recorded_by"] = _text("recorded_by", fields["recorded_by"])
        _not_in_future(fields["occurred"])
        provisional = event_class(
            originator_id=self.id,
            originator_version=self.version + 1,
            # Recorded times never run backwards within a recommendation, even across
            # writers whose clocks disagree, so "known at T" is always a prefix of history.
            timestamp=max(event_class.create_timestamp(), self.modified_on + _TICK),
            **fields,
        )
        self._checked = check_history(
            [*self.history, provisional],
            new_version=provisional.originator_version,
            checked=getattr(self, "_checked", None),
        )
        self.trigger_event(event_class, timestamp=provisional.timestamp, **fields)


def _not_in_future(occurred: date) -> None:
    """A fact is recorded after it happens; a due date may be ahead, the promise may not."""
    if not isinstance(occurred, date) or isinstance(occurred, datetime):
        raise InvalidCommand(f"occurred must be a date (YYYY-MM-DD), not {occurred!r}")
    today = clock.today()
    if occurred > today:
        raise InvalidCommand(
            f"occurred {occurred.isoformat()} is in the future (today is {today.isoformat()}): "
            "record a fact once it has happened"
        )
    bound = bounds.outside(occurred)
    if bound is not None:
        raise InvalidCommand(f"occurred {bound}: check the year")


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(f"{name} is empty: give a value")
    return value.strip()


def _optional_text(name: str, value: str | None) -> str | None:
    return None if value is None else _text(name, value)


def _due(phrase: str | None, said_on: date) -> DueWindow | None:
    return None if phrase is None else parse_due(phrase, said_on)


def _role(role: str) -> str:
    try:
        return OwnerRole(role).value
    except ValueError:
        allowed = ", ".join(r.value for r in OwnerRole)
        raise InvalidCommand(f"owner role {role!r} is not one of: {allowed}") from None


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidCommand(f"{name} must be true or false, not {value!r}")
    return value


def _numbers(serves: list[int] | None) -> list[int] | None:
    if serves is None:
        return None
    if not serves or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in serves):
        raise InvalidCommand(
            f"serves must list recommendation numbers (1 or more), not {serves!r}; "
            "leave it out for all of them"
        )
    return sorted(set(serves))


def _reported(status: str) -> str:
    try:
        return ReportedStatus(status).value
    except ValueError:
        allowed = ", ".join(s.value for s in ReportedStatus)
        raise InvalidCommand(f"reported status {status!r} is not one of: {allowed}") from None


def _scale(scale: str) -> RatingScale:
    try:
        return RatingScale(scale)
    except ValueError:
        allowed = ", ".join(f"{s.value} ({s.label})" for s in RatingScale)
        raise InvalidCommand(f"rating scale {scale!r} is not one of: {allowed}") from None


def _correction_changes(target: Recommendation.Event, changes: dict[str, Any]) -> dict[str, Any]:
    """Turn corrected primitive values into the target's field types; refuse unknown fields."""
    correctable = {f.name for f in dataclasses.fields(target)} - Recommendation.FIXED_FIELDS
    unknown = sorted(set(changes) - correctable)
    if unknown:
        raise InvalidCommand(
            f"cannot correct {', '.join(unknown)} of a {type(target).__name__} event; "
            f"correctable fields are: {', '.join(sorted(correctable))}"
        )
    result: dict[str, Any] = {}
    occurred = target.occurred
    if "occurred" in changes:
        occurred = _as_date("occurred", changes["occurred"])
        result["occurred"] = occurred
    for name, value in changes.items():
        if name == "occurred":
            continue
        if name == "due":
            result[name] = (
                value
                if value is None or isinstance(value, DueWindow)
                else _due(_as_text(name, value), occurred)
            )
        elif name == "source":
            result[name] = value if isinstance(value, Source) else Source.from_dict(value)
        elif name == "role":
            result[name] = _role(value)
        elif name == "scale":
            result[name] = _scale(value).value
        elif name == "status":
            result[name] = _reported(value)
        elif name == "inferred":
            result[name] = _flag(name, value)
        elif name == "serves":
            result[name] = _numbers(value)
        elif name == "retracted" or name == "corrects":
            raise InvalidCommand(f"{name} cannot be corrected")
        else:
            result[name] = _text(name, _as_text(name, value))
    target_due = getattr(target, "due", None)
    if "occurred" in result and "due" not in result and isinstance(target_due, DueWindow):
        # A relative phrase ("early next year") means something else on another day.
        result["due"] = parse_due(target_due.text, occurred)
    return result


def _as_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidCommand(f"{name} must be text, not {type(value).__name__}")
    return value


def _as_date(name: str, value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidCommand(f"{name} {value!r} is not an ISO date (YYYY-MM-DD)") from None


# The event each command records, so a bulk load that names its commands can put them in
# the valid-time order the recorded facts will have.
