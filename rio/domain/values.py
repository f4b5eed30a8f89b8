"""Value objects every event carries: where a fact comes from, and the scales people rate on."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from rio.domain.errors import InvalidCommand


@dataclass(frozen=True)
class Source:
    """The document a fact rests on: an auditor must be able to go and read it."""

    document: str
    date: date | None = None
    quote: str | None = None
    url: str | None = None
    file: str | None = None

    def __post_init__(self) -> None:
        if not self.document.strip():
            raise InvalidCommand("source.document is empty: name the document the fact rests on")

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "date": self.date.isoformat() if self.date else None,
            "quote": self.quote,
            "url": self.url,
            "file": self.file,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Source:
        raw_date = data.get("date")
        return cls(
            document=str(data["document"]),
            date=date.fromisoformat(raw_date) if raw_date else None,
            quote=data.get("quote"),
            url=data.get("url"),
            file=data.get("file"),
        )

    def cite(self) -> str:
        """One line for reports: 'Document (2023-11-20)'."""
        return f"{self.document} ({self.date.isoformat()})" if self.date else self.document


REVIEW_WIDE = 0
"""The number of a review's own stream: promises about the review as a whole (or several of
its recommendations) are recorded there once, with the same machinery as any commitment."""


def not_among(numbers: Iterable[int], known: Collection[int], whose: str) -> list[str]:
    """Why each of `numbers`, the recommendations a fact names (a review-wide promise's
    `serves`, a scenario entry's `recommendation`), is refused: it is not one of `known`,
    the recommendations of `whose` ("this file", "review 'messenger-2022'"). Every door
    that lets a fact name recommendations asks this, so they refuse alike."""
    return [
        f"recommendation {n} is not among the recommendations of {whose}"
        for n in dict.fromkeys(numbers)
        if n not in known
    ]


class ReportedStatus(StrEnum):
    """Where a thing stands as its owner reports it (a status report, not a delivery)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    REPORTED_COMPLETE = "reported_complete"
    REPORTED_NOT_DELIVERED = "reported_not_delivered"

    @property
    def words(self) -> str:
        return self.value.replace("_", " ").removeprefix("reported ")


class OwnerRole(StrEnum):
    ACCOUNTABLE = "accountable"
    SENIOR = "senior"


class RatingScale(StrEnum):
    """Scales are data: a replay rates with the scale that was in force when the rating was made."""

    RAG3 = "rag3"
    DCS5 = "dcs5"
    HSCC4 = "hscc4"

    @property
    def ratings(self) -> tuple[str, ...]:
        return _SCALE_RATINGS[self]

    @property
    def label(self) -> str:
        return _SCALE_TITLES[self]

    def canonical(self, rating: str) -> str:
        """The scale's own spelling of `rating`, or a refusal that lists what the scale allows."""
        wanted = " ".join(rating.split()).casefold()
        for allowed in self.ratings:
            if allowed.casefold() == wanted:
                return allowed
        raise InvalidCommand(
            f"rating {rating!r} is not on the {self.label} scale; "
            f"use one of: {', '.join(self.ratings)}"
        )


_SCALE_RATINGS: dict[RatingScale, tuple[str, ...]] = {
    RatingScale.RAG3: ("Green", "Amber", "Red"),
    RatingScale.DCS5: ("Green", "Amber/Green", "Amber", "Amber/Red", "Red"),
    RatingScale.HSCC4: ("Outstanding", "Good", "Requires improvement", "Inadequate"),
}

_SCALE_TITLES: dict[RatingScale, str] = {
    RatingScale.RAG3: "three-point RAG",
    RatingScale.DCS5: "five-point delivery confidence (major projects, until 2021)",
    RatingScale.HSCC4: "Health and Social Care Committee expert panel",
}
