"""Registering reviews: loading and saving Review aggregates through RIO.

Registering is idempotent, as loading a scenario twice must be: the same details again
record nothing; different details are recorded as a revision of the one registration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from rio.aggregates.review import Review, ReviewKind, checked_details, review_id
from rio.aggregates.topics import stored_topics
from rio.application.service import RIO
from rio.domain.errors import VersionConflict

REVIEW_TOPICS = stored_topics(Review.Registered, Review.Revised)


class Registration(StrEnum):
    """What registering a review did."""

    REGISTERED = "registered"
    REVISED = "revised"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, kw_only=True)
class RegisterReview:
    key: str
    title: str
    kind: str = ReviewKind.REVIEW.value
    sponsor: str | None = None
    published: date | None = None
    response_days: int | None = None
    themes: Mapping[int | str, str] = field(default_factory=dict)
    recorded_by: str


class Reviews:
    """The store's reviews: register one, or read one back by its key."""

    def __init__(self, rio: RIO) -> None:
        self.rio = rio

    def register(self, command: RegisterReview) -> tuple[Review, Registration]:
        review, outcome = self.prepare(command)
        if outcome is not Registration.UNCHANGED and not self.rio.commit(review):
            raise VersionConflict(
                f"review {command.key!r} was registered or changed by someone else meanwhile: "
                "try again"
            )
        return review, outcome

    def prepare(self, command: RegisterReview) -> tuple[Review, Registration]:
        """The review with the registration's events pending, not yet saved: a scenario load
        records them in the transaction of its recommendations (RIO.record_batch's `also`)."""
        stored = self.get(command.key)
        if stored is None:
            review = Review.register(
                key=command.key,
                title=command.title,
                kind=command.kind,
                sponsor=command.sponsor,
                published=command.published,
                response_days=command.response_days,
                themes=command.themes,
                recorded_by=command.recorded_by,
            )
            outcome = Registration.REGISTERED
        else:
            review = stored
            details = checked_details(
                title=command.title,
                kind=command.kind,
                sponsor=command.sponsor,
                published=command.published,
                response_days=command.response_days,
                themes=command.themes,
            )
            if not review.revise(details, recorded_by=command.recorded_by):
                return review, Registration.UNCHANGED
            outcome = Registration.REVISED
        return review, outcome

    def get(self, key: str) -> Review | None:
        return self.rio.load(Review, review_id(key))
