"""A correction that names its target by what it says (`rio.domain.references`), not by version.

Scenario files and `rio correct` record corrections through this command; it finds the one
event the reference names on the recommendation it is applied to (the stored one, or a
scenario's fresh copy, whose versions may differ), then records the same `EventCorrected`
as `CorrectEvent` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from rio.aggregates.recommendation import Recommendation
from rio.application.commands import CorrectEvent, RecommendationCommand
from rio.domain.facts import CLOSURE
from rio.domain.history import day_order
from rio.domain.references import EventReference, find
from rio.domain.values import Source


@dataclass(frozen=True, kw_only=True)
class CorrectReferencedEvent(RecommendationCommand):
    """Supersede (or retract) the one event `event` names. `changes` are primitive, as for
    `CorrectEvent`; a `quote` among them corrects the quote of the target's source (or of
    the corrected `source`)."""

    records = Recommendation.EventCorrected
    event: EventReference
    changes: Mapping[str, Any] | None = None
    retract: bool = False
    reason: str

    def apply(self, recommendation: Recommendation) -> None:
        target = find(recommendation.history, self.event, recommendation.number)
        CorrectEvent(
            version=target.originator_version,
            changes=_with_quote(self.changes, target.source),
            retract=self.retract,
            reason=self.reason,
            occurred=self.occurred,
            source=self.source,
            recorded_by=self.recorded_by,
        ).apply(recommendation)

    def order(self, position: int) -> tuple[date, int, int]:
        """After every fact of a batch, whatever its date: a correction is not a fact about
        the world (it applies from its recording on), and its target must exist first."""
        return day_order(date.max, CLOSURE + 1, position)


def _with_quote(changes: Mapping[str, Any] | None, current: Source) -> dict[str, Any] | None:
    if changes is None or "quote" not in changes:
        return None if changes is None else dict(changes)
    rest = {k: v for k, v in changes.items() if k != "quote"}
    base = rest.get("source", current)
    source = base if isinstance(base, Source) else Source.from_dict(base)
    return {**rest, "source": {**source.to_dict(), "quote": changes["quote"]}}
