"""A recorded event as a row: what `rio history --json` and the API's history routes show."""

from __future__ import annotations

from typing import Any

from rio.aggregates.recommendation import Recommendation
from rio.reports.answers import to_json

# Shown in their own columns (or not at all), so left out of the event's own data.
_HEADER = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "occurred",
        "source",
        "recorded_by",
    }
)


def event_row(event: Recommendation.Event) -> dict[str, Any]:
    """Both times, who recorded it, its source and what it says: one stable JSON shape."""
    data = {k: to_json(v) for k, v in vars(event).items() if k not in _HEADER}
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "occurred": event.occurred.isoformat(),
        "recorded": event.timestamp.isoformat(),
        "recorded_by": event.recorded_by,
        "source": to_json(event.source),
        "data": data,
    }
