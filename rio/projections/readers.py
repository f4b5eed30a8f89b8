"""Two ways to ask "the programme as at D, known at T": the read model, or the pure replay."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from rio.domain.replay import replay
from rio.domain.state import Programme


class Reader(Protocol):
    def programme(self, as_at: date, known_at: datetime | None = None) -> Programme: ...


class ReplayReader:
    """Folds every event for each question: the reference the read model is checked against."""

    def __init__(self, app: RIO) -> None:
        self.app = app
        self._events: list[Recommendation.Event] | None = None

    def programme(self, as_at: date, known_at: datetime | None = None) -> Programme:
        if self._events is None:
            self._events = list(self.app.all_events())
        return replay(self._events, as_at, known_at)
