"""Grouping a stream of stored events, ordered by aggregate and version, into histories."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import StoredEvent


@runtime_checkable
class HistoryRecorder(Protocol):
    """RIO's recorders (sqlite and postgres modules) read whole histories in one pass."""

    def select_histories(
        self, stop: int, topic_prefix: str, low: UUID | None = None, high: UUID | None = None
    ) -> Iterator[list[StoredEvent]]: ...


def histories(events: Iterable[StoredEvent]) -> Iterator[list[StoredEvent]]:
    """Consecutive events of one originator, as one list each."""
    current: list[StoredEvent] = []
    for event in events:
        if current and event.originator_id != current[0].originator_id:
            yield current
            current = []
        current.append(event)
    if current:
        yield current
