"""The Review aggregate: what a review is (its title, who issued it, when, what kind of
report it is, and when a response is due), apart from its recommendations.

A store holds many reviews; before this, a review was only a key on its recommendations.
Registering one gives every door its title and the facts a portfolio is filtered by. A
review never registered still works: its title falls back to its key. Topics follow
`rio.aggregates.topics` (`rio:Review.Registered`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from rio.aggregates.topics import Stored
from rio.domain import bounds, clock
from rio.domain.errors import InvalidCommand


class ReviewKind(StrEnum):
    """What kind of report a review is: it decides what a response is owed, and when."""

    REVIEW = "review"  # an independent or commissioned review
    INQUIRY = "inquiry"  # a public or statutory inquiry
    CORONERS_REPORT = "coroners_report"  # a Prevention of Future Deaths report
    COMMITTEE_REPORT = "committee_report"  # a select committee's report
    AUDIT_REPORT = "audit_report"  # an audit body's report (NAO, internal audit)

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: Mapping[ReviewKind, str] = {
    ReviewKind.REVIEW: "review",
    ReviewKind.INQUIRY: "inquiry",
    ReviewKind.CORONERS_REPORT: "coroner's report",
    ReviewKind.COMMITTEE_REPORT: "committee report",
    ReviewKind.AUDIT_REPORT: "audit report",
}

# Where the law sets the response deadline, a review of that kind takes it unless told
# otherwise: a coroner's Prevention of Future Deaths report must be answered within 56 days
# of the report being sent (Coroners (Investigations) Regulations 2013, reg. 29).
STATUTORY_RESPONSE_DAYS: Mapping[ReviewKind, int] = {ReviewKind.CORONERS_REPORT: 56}
MAX_RESPONSE_DAYS = 3650


def review_id(key: str) -> UUID:
    """Identity from the review's key, so registering a review twice finds the first."""
    return uuid5(NAMESPACE_URL, f"rio:review:{key.strip().casefold()}")


@dataclass(frozen=True)
class ReviewDetails:
    """Everything a registration says about a review, so a second registration can be
    compared with what is recorded."""

    title: str
    kind: str
    sponsor: str | None
    published: date | None
    response_days: int | None
    themes: Mapping[str, str]  # recommendation number (as text) -> its theme

    @classmethod
    def read_from(cls, source: Any, *, themes: Mapping[str, str] | None = None) -> ReviewDetails:
        """The details as an event or a stored row carries them, under these same names (a
        row stores its themes as text, so it passes them decoded)."""
        values = {f.name: getattr(source, f.name) for f in fields(cls)}
        values["themes"] = dict(values["themes"] if themes is None else themes)
        return cls(**values)

    def as_fields(self) -> dict[str, Any]:
        """The details as an event's keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"themes": dict(self.themes)}

    @property
    def response_due(self) -> date | None:
        """When a response is due, where a deadline rule applies and the date is known."""
        if self.published is None or self.response_days is None:
            return None
        return self.published + timedelta(days=self.response_days)

    def theme_of(self, number: int) -> str | None:
        return self.themes.get(str(number))


class Review(Stored, Aggregate):
    """One review, inquiry or report whose recommendations a store tracks."""

    class Event(Stored, Aggregate.Event):
        recorded_by: str

        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Registered(Event, Aggregate.Created):
        class_version: ClassVar[int] = 1
        key: str
        title: str
        kind: str
        sponsor: str | None
        published: date | None
        response_days: int | None
        themes: dict[str, str]

        def apply(self, aggregate: Review) -> None:
            aggregate.key = self.key
            aggregate.details = ReviewDetails.read_from(self)

    class Revised(Event):
        """The registration's details, restated in full (a title corrected, a theme added)."""

        class_version: ClassVar[int] = 1
        title: str
        kind: str
        sponsor: str | None
        published: date | None
        response_days: int | None
        themes: dict[str, str]

        def apply(self, aggregate: Review) -> None:
            aggregate.details = ReviewDetails.read_from(self)

    def __init__(self) -> None:
        # Registered.apply fills these in; declared here so their types are known.
        self.key = ""
        self.details = ReviewDetails("", ReviewKind.REVIEW.value, None, None, None, {})

    @classmethod
    def register(
        cls,
        *,
        key: str,
        title: str,
        kind: str = ReviewKind.REVIEW.value,
        sponsor: str | None = None,
        published: date | None = None,
        response_days: int | None = None,
        themes: Mapping[int | str, str] | None = None,
        recorded_by: str,
    ) -> Review:
        details = checked_details(
            title=title,
            kind=kind,
            sponsor=sponsor,
            published=published,
            response_days=response_days,
            themes=themes,
        )
        return cls._create(
            cls.Registered,
            id=review_id(_text("key", key)),
            key=key.strip(),
            recorded_by=_text("recorded_by", recorded_by),
            **details.as_fields(),
        )

    def revise(self, details: ReviewDetails, *, recorded_by: str) -> bool:
        """Record `details` (checked by `checked_details`) if they differ from those on
        record; False, and nothing recorded, when they are the same."""
        if details == self.details:
            return False
        self.trigger_event(
            self.Revised, recorded_by=_text("recorded_by", recorded_by), **details.as_fields()
        )
        return True


def checked_details(
    *,
    title: str,
    kind: str = ReviewKind.REVIEW.value,
    sponsor: str | None = None,
    published: date | None = None,
    response_days: int | None = None,
    themes: Mapping[int | str, str] | None = None,
) -> ReviewDetails:
    """A registration's details, checked; a kind with a statutory deadline takes it when
    no other is given."""
    checked_kind = _kind(kind)
    if published is not None:
        if not isinstance(published, date) or isinstance(published, datetime):
            raise InvalidCommand(f"published must be a date (YYYY-MM-DD), not {published!r}")
        if published > clock.today():
            raise InvalidCommand(
                f"published {published.isoformat()} is in the future: register a review "
                "once it is published"
            )
        bound = bounds.outside(published)
        if bound is not None:
            raise InvalidCommand(f"published {bound}: check the year")
    if response_days is None:
        response_days = STATUTORY_RESPONSE_DAYS.get(checked_kind)
    elif isinstance(response_days, bool) or not 1 <= response_days <= MAX_RESPONSE_DAYS:
        raise InvalidCommand(
            f"response_days must be a whole number of days from 1 to {MAX_RESPONSE_DAYS}, "
            f"not {response_days!r}"
        )
    return ReviewDetails(
        title=_text("title", title),
        kind=checked_kind.value,
        sponsor=None if sponsor is None or not sponsor.strip() else sponsor.strip(),
        published=published,
        response_days=response_days,
        themes=_themes(themes or {}),
    )


def _themes(themes: Mapping[int | str, str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for number, theme in themes.items():
        try:
            n = int(number)
        except (TypeError, ValueError):
            raise InvalidCommand(f"themes: {number!r} is not a recommendation number") from None
        if n < 1:
            raise InvalidCommand(f"themes: recommendation number must be 1 or more, not {n}")
        result[str(n)] = _text(f"themes.{n}", theme)
    return dict(sorted(result.items(), key=lambda item: int(item[0])))


def _kind(kind: str) -> ReviewKind:
    try:
        return ReviewKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in ReviewKind)
        raise InvalidCommand(f"review kind {kind!r} is not one of: {allowed}") from None


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCommand(f"{name} is empty: give a value")
    return value.strip()
