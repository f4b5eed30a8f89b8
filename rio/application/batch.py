"""Recording many commands at once, all or nothing, without recording anything twice.

Used by bulk loads (scenario files): each command is first run on a fresh copy of the
recommendation, so every refusal is found before anything is saved; commands whose event
is already in the store (same content) are skipped, so a reload records nothing new.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rio.aggregates.recommendation import Recommendation
from rio.domain.errors import DomainError

# Fields that say who recorded an event and when, not what it says.
_BOOKKEEPING = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "recorded_by",
}


@dataclass(frozen=True)
class Command:
    """One aggregate method call; `label` says where it came from (e.g. 'file.yaml:42')."""

    method: str
    arguments: Mapping[str, Any]
    label: str


@dataclass(frozen=True)
class RecommendationBatch:
    registration: Command
    commands: Sequence[Command] = ()


@dataclass
class BatchResult:
    recorded: int = 0
    already_recorded: int = 0
    recommendations: list[int] = field(default_factory=list)


class BatchRefused(DomainError):
    """A command in a batch was refused; nothing in the batch was recorded."""

    def __init__(self, label: str, error: DomainError) -> None:
        super().__init__(f"{label}: {error}")
        self.label = label
        self.error = error


def content(event: Recommendation.Event) -> str:
    """What an event says, without who recorded it or when: equal content means same fact."""
    fields = {
        f.name: getattr(event, f.name)
        for f in dataclasses.fields(event)
        if f.name not in _BOOKKEEPING
    }
    return f"{type(event).__name__}{sorted(fields.items())!r}"


def plan(
    batch: RecommendationBatch, stored: Recommendation | None
) -> tuple[Recommendation, int, int]:
    """Apply the batch to `stored` (or a new recommendation); return it, new and skipped counts."""
    fresh = _run(batch.registration, None)
    if stored is not None and content(stored.history[0]) != content(fresh.history[0]):
        raise BatchRefused(
            batch.registration.label,
            DomainError(
                f"recommendation {fresh.number} is already registered with other details; "
                "record a correction to change them"
            ),
        )
    if stored is None:
        for command in batch.commands:
            _run(command, fresh)
        return fresh, 1 + len(batch.commands), 0
    # Match what the batch would record against what is stored, by content.
    unmatched_stored = Counter(
        content(e) for e in stored.history[1:] if not isinstance(e, Recommendation.EventCorrected)
    )
    new: list[Command] = []
    for command in batch.commands:
        _run(command, fresh)
        signature = content(fresh.history[-1])
        if unmatched_stored[signature] > 0:
            unmatched_stored[signature] -= 1
        else:
            new.append(command)
    left_over = +unmatched_stored
    if new and left_over:
        raise BatchRefused(
            new[0].label,
            DomainError(
                f"this differs from what is recorded for recommendation {stored.number} "
                f"({sum(left_over.values())} recorded event(s) are not in the input): an edited "
                "fact is changed by recording a correction, never by editing the input"
            ),
        )
    for command in new:
        _run(command, stored)
    return stored, len(new), 1 + len(batch.commands) - len(new)


def _run(command: Command, recommendation: Recommendation | None) -> Recommendation:
    try:
        if recommendation is None:
            return Recommendation.register(**command.arguments)
        getattr(recommendation, command.method)(**command.arguments)
        return recommendation
    except DomainError as error:
        raise BatchRefused(command.label, error) from None
