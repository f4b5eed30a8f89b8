"""Recording many commands at once, all or nothing, without recording anything twice.

Used by bulk loads (scenario files, the API's batch endpoint): each command is first run on
a fresh copy of the recommendation, so every refusal is found before anything is saved;
commands whose event is already in the store (same content) are skipped, so a reload
records nothing new.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from rio.aggregates.recommendation import Recommendation
from rio.application.commands import RecommendationCommand, RegisterRecommendation
from rio.domain.errors import DomainError
from rio.domain.references import as_yaml, describe

# Fields that say who recorded an event and when, not what it says.
_BOOKKEEPING = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "recorded_by",
}

C = TypeVar("C", RegisterRecommendation, RecommendationCommand)


@dataclass(frozen=True)
class Labelled(Generic[C]):
    """A command and where it came from (e.g. 'file.yaml:42'), to name it in a refusal."""

    command: C
    label: str


@dataclass(frozen=True)
class RecommendationBatch:
    """One recommendation's registration and the commands to run on it, in the order given."""

    registration: Labelled[RegisterRecommendation]
    commands: Sequence[Labelled[RecommendationCommand]] = ()


@dataclass
class BatchResult:
    recorded: int = 0
    already_recorded: int = 0
    recommendations: list[int] = field(default_factory=list)  # numbers, in the order given
    versions: list[int] = field(default_factory=list)  # each one's version after the batch


class BatchRefused(DomainError):
    """A command in a batch was refused; nothing in the batch was recorded."""

    def __init__(self, label: str, error: DomainError) -> None:
        super().__init__(f"{label}: {error}")
        self.label = label
        self.error = error


def in_valid_time_order(
    commands: Iterable[Labelled[RecommendationCommand]],
) -> list[Labelled[RecommendationCommand]]:
    """Commands as the facts they record will be ordered: by occurred date, then phase
    (a commitment is made before it is revised, and closed last), then as given."""
    listed = list(commands)
    return [
        labelled
        for _, labelled in sorted(
            enumerate(listed), key=lambda item: item[1].command.order(item[0])
        )
    ]


def review_wide_batch(
    review: str,
    title: str,
    commands: Sequence[Labelled[RecommendationCommand]],
    recorded_by: str,
) -> RecommendationBatch:
    """The review's own stream (`REVIEW_WIDE`) as a batch: registered on (and citing) its
    first fact by date, then given, so that what a scenario file or an API batch says about
    the review as a whole is recorded once, like any recommendation's, and alike by both."""
    first = min(enumerate(commands), key=lambda pc: (pc[1].command.occurred, pc[0]))[1]
    registration = RegisterRecommendation.review_as_whole(review, title, first.command, recorded_by)
    return RecommendationBatch(Labelled(registration, first.label), in_valid_time_order(commands))


def content(event: Recommendation.Event, leave_out: frozenset[str] = frozenset()) -> str:
    """What an event says, without who recorded it or when: equal content means same fact."""
    fields = {
        f.name: getattr(event, f.name)
        for f in dataclasses.fields(event)
        if f.name not in _BOOKKEEPING and f.name not in leave_out
    }
    return f"{type(event).__name__}{sorted(fields.items())!r}"


def plan(
    batch: RecommendationBatch, stored: Recommendation | None
) -> tuple[Recommendation, int, int]:
    """Apply the batch to `stored` (or a new recommendation); return it, new and skipped counts."""
    fresh = _register(batch.registration)
    if stored is not None and content(stored.history[0]) != content(fresh.history[0]):
        raise BatchRefused(
            batch.registration.label,
            DomainError(
                f"recommendation {fresh.number} is already registered with other details; "
                "put them back and record a correction: an event_corrected entry with "
                "corrects: {type: registered} and changes: {field: new value}, or "
                f"`rio correct {fresh.review}:{fresh.number} --event registered "
                "--set FIELD=VALUE --reason ... --source ...`"
            ),
        )
    if stored is None:
        for command in batch.commands:
            _run(command, fresh)
        return fresh, 1 + len(batch.commands), 0
    # Match what the batch would record against what is stored, by content. Corrections
    # recorded elsewhere (the API, `rio correct`) need not be in the input.
    said = [(e, _signature(e, stored)) for e in stored.history[1:]]
    unmatched_stored = Counter(signature for _, signature in said)
    new: list[Labelled[RecommendationCommand]] = []
    for command in batch.commands:
        _run(command, fresh)
        signature = _signature(fresh.history[-1], fresh)
        if unmatched_stored[signature] > 0:
            unmatched_stored[signature] -= 1
        else:
            new.append(command)
    left_over = [
        e
        for e, signature in said
        if not isinstance(e, Recommendation.EventCorrected) and unmatched_stored[signature] > 0
    ]
    if new and left_over:
        raise BatchRefused(
            new[0].label,
            DomainError(
                f"this differs from what is recorded for recommendation {stored.number} "
                f"({len(left_over)} recorded event(s) are not in the input, e.g. "
                f"{correction_hint(left_over[0], stored)}): an edited fact is changed by "
                "recording a correction, never by editing the input"
            ),
        )
    for command in new:
        _run(command, stored)
    return stored, len(new), 1 + len(batch.commands) - len(new)


def _signature(event: Recommendation.Event, recommendation: Recommendation) -> str:
    """What an event says; for a correction, what it says about what it corrects, since
    its target's version differs between a stored history and a file's fresh copy."""
    if not isinstance(event, Recommendation.EventCorrected):
        return content(event)
    target = next(e for e in recommendation.history if e.originator_version == event.corrects)
    return f"{content(event, frozenset({'corrects'}))} of {_signature(target, recommendation)}"


def correction_hint(event: Recommendation.Event, recommendation: Recommendation) -> str:
    """How to change a recorded event without editing the input, concretely."""
    ref = describe(event, recommendation.history)
    return (
        f"event {event.originator_version}, {ref}: put it back as recorded and add an "
        f"event_corrected entry with corrects: {as_yaml(ref)} and changes: (or "
        f"retracted: true) and reason:, or run `rio correct {recommendation.review}:"
        f"{recommendation.number} --event {ref} --set FIELD=VALUE --reason ... --source ...`"
    )


def _register(registration: Labelled[RegisterRecommendation]) -> Recommendation:
    try:
        return registration.command.create()
    except DomainError as error:
        raise BatchRefused(registration.label, error) from None


def _run(labelled: Labelled[RecommendationCommand], recommendation: Recommendation) -> None:
    try:
        labelled.command.apply(recommendation)
    except DomainError as error:
        raise BatchRefused(labelled.label, error) from None
