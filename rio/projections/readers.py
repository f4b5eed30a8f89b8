"""Two ways to ask "the programme as at D, known at T": the read model, or the pure replay."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from rio.domain.public_record import undated
from rio.domain.replay import replay
from rio.domain.state import Programme


class Reader(Protocol):
    def programme(self, as_at: date, known_at: datetime | None = None) -> Programme: ...


class ReplayReader:
    """Folds every event for each question: the reference the read model is checked against."""

    def __init__(self, app: RIO) -> None:
        self.app = app
        self._events: list[Recommendation.Event] | None = None

    def programme(
        self, as_at: date, known_at: datetime | None = None, public_at: date | None = None
    ) -> Programme:
        return replay(self.events(), as_at, known_at, public_at)

    def events(self) -> list[Recommendation.Event]:
        """Every recorded event, read once per reader."""
        if self._events is None:
            self._events = list(self.app.all_events())
        return self._events


class PublicRecordReader:
    """As the public record stood on `public_at`: answered by the fold, because the read
    model keeps no publication dates; one rule (`rio.domain.public_record`) either way."""

    def __init__(self, app: RIO, public_at: date) -> None:
        self.replay = ReplayReader(app)
        self.public_at = public_at

    def programme(self, as_at: date, known_at: datetime | None = None) -> Programme:
        return self.replay.programme(as_at, known_at, self.public_at)

    def undated(self, as_at: date, known_at: datetime | None = None) -> int:
        """How many facts such an answer leaves out because their source has no date."""
        return len(undated(self.replay.events(), as_at, known_at))
