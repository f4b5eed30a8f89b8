"""Scenario files (scenarios/README.md): a review's history as YAML, loaded all or nothing.

Every problem is reported as FILE:LINE with what is wrong, before anything is recorded.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rio import scenario_yaml
from rio.aggregates.review import checked_details
from rio.application.batch import Labelled, RecommendationBatch, in_valid_time_order
from rio.application.commands import (
    AddAction,
    AssessStatus,
    AssignOwner,
    MakeCommitment,
    NoteProgress,
    RecommendationCommand,
    RecordDecision,
    RecordDelivery,
    RegisterRecommendation,
    ReviseCommitment,
    WithdrawCommitment,
)
from rio.application.reviews import RegisterReview
from rio.domain.errors import DomainError
from rio.domain.values import Source

FORMAT = "rio-scenario/1"


class ScenarioError(DomainError):
    """A scenario file that cannot be loaded; the message starts with FILE:LINE."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceDocument(_Strict):
    document: str
    date: date
    file: str | None = None
    url: str | None = None
    note: str | None = None


class ReviewSpec(_Strict):
    key: str = Field(min_length=1)
    title: str
    # What registers the review itself (rio.aggregates.review); all optional.
    kind: str = "review"
    sponsor: str | None = None
    published: date | None = None
    response_days: int | None = None
    themes: dict[int, str] = {}

    def command(self, recorded_by: str) -> RegisterReview:
        """The review's registration: its title, kind, sponsor and response deadline."""
        return RegisterReview(
            key=self.key,
            title=self.title,
            kind=self.kind,
            sponsor=self.sponsor,
            published=self.published,
            response_days=self.response_days,
            themes={str(n): t for n, t in self.themes.items()},
            recorded_by=recorded_by,
        )


class Cited(_Strict):
    occurred: date
    source: str
    quote: str = Field(min_length=1)


class ActionSpec(Cited):
    id: str
    text: str


class RecommendationSpec(Cited):
    number: int = Field(ge=1)
    title: str
    text: str
    actions: list[ActionSpec] = []


class EventSpec(Cited):
    recommendation: int

    @abstractmethod
    def command(self, source: Source, recorded_by: str) -> RecommendationCommand:
        """The command this entry records, citing `source` (its document and quote)."""


class DecisionRecorded(EventSpec):
    type: Literal["decision_recorded"]
    decision: str
    decided_by: str | None = None

    def command(self, source: Source, recorded_by: str) -> RecordDecision:
        return RecordDecision(
            decision=self.decision,
            decided_by=self.decided_by,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


class OwnerAssigned(EventSpec):
    type: Literal["owner_assigned"]
    owner: str
    role: Literal["accountable", "senior"] = "accountable"
    commitment: str | None = None

    def command(self, source: Source, recorded_by: str) -> AssignOwner:
        return AssignOwner(
            owner=self.owner,
            role=self.role,
            commitment=self.commitment,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


class CommitmentMade(EventSpec):
    type: Literal["commitment_made"]
    commitment: str
    deliverable: str
    due: str | None = None
    owner: str | None = None
    action: str | None = None

    _due_as_text = field_validator("due", mode="before")(lambda v: _as_phrase(v))

    def command(self, source: Source, recorded_by: str) -> MakeCommitment:
        return MakeCommitment(
            commitment=self.commitment,
            deliverable=self.deliverable,
            due=self.due,
            owner=self.owner,
            action=self.action,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


class CommitmentRevised(EventSpec):
    type: Literal["commitment_revised"]
    commitment: str
    due: str | None = None
    deliverable: str | None = None
    reason: str | None = None

    _due_as_text = field_validator("due", mode="before")(lambda v: _as_phrase(v))

    def command(self, source: Source, recorded_by: str) -> ReviseCommitment:
        return ReviseCommitment(
            commitment=self.commitment,
            due=self.due,
            deliverable=self.deliverable,
            reason=self.reason,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


class CommitmentWithdrawn(EventSpec):
    type: Literal["commitment_withdrawn"]
    commitment: str
    reason: str

    def command(self, source: Source, recorded_by: str) -> WithdrawCommitment:
        return WithdrawCommitment(
            commitment=self.commitment,
            reason=self.reason,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


class MilestoneDelivered(EventSpec):
    type: Literal["milestone_delivered"]
    commitment: str
    evidence: str

    def command(self, source: Source, recorded_by: str) -> RecordDelivery:
        return RecordDelivery(
            commitment=self.commitment,
            evidence=self.evidence,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


class ProgressNoted(EventSpec):
    type: Literal["progress_noted"]
    note: str
    commitment: str | None = None

    def command(self, source: Source, recorded_by: str) -> NoteProgress:
        return NoteProgress(
            note=self.note,
            commitment=self.commitment,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


class StatusAssessed(EventSpec):
    type: Literal["status_assessed"]
    scale: str
    rating: str
    rationale: str
    assessor: str
    commitment: str | None = None

    def command(self, source: Source, recorded_by: str) -> AssessStatus:
        return AssessStatus(
            scale=self.scale,
            rating=self.rating,
            rationale=self.rationale,
            assessor=self.assessor,
            commitment=self.commitment,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


AnyEvent = Annotated[
    DecisionRecorded
    | OwnerAssigned
    | CommitmentMade
    | CommitmentRevised
    | CommitmentWithdrawn
    | MilestoneDelivered
    | ProgressNoted
    | StatusAssessed,
    Field(discriminator="type"),
]


class Scenario(_Strict):
    format: Literal["rio-scenario/1"]
    review: ReviewSpec
    sources: dict[str, SourceDocument]
    recommendations: list[RecommendationSpec]
    events: list[AnyEvent] = []


def _as_phrase(value: Any) -> Any:
    """YAML reads `due: 2025` as a number and `due: 2024-04-30` as a date; both are phrases."""
    if isinstance(value, int | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


# --- reading, with line numbers --------------------------------------------------------------

Path_ = tuple[str | int, ...]


def _lines(
    node: yaml.Node, path: Path_ = (), into: dict[Path_, int] | None = None
) -> dict[Path_, int]:
    lines = {} if into is None else into
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), lines)
            lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), lines)
    return lines


def _line_of(lines: dict[Path_, int], loc: Iterable[str | int]) -> int:
    """The line of the deepest part of `loc` that is in the file (pydantic adds union tags)."""
    path: Path_ = ()
    best = lines.get((), 1)
    for part in loc:
        candidate = (*path, part)
        if candidate in lines:
            path = candidate
            best = lines[path]
    return best


def read(path: Path) -> tuple[Scenario, dict[Path_, int]]:
    name = str(path)
    try:
        node, data = scenario_yaml.load(path)
    except OSError as error:
        raise ScenarioError(f"{name}: cannot read the file: {error.strerror}") from None
    except scenario_yaml.YamlRefused as refused:
        where = name if refused.line is None else f"{name}:{refused.line}"
        raise ScenarioError(f"{where}: {refused.message}") from None
    if node is None or not isinstance(data, dict):
        raise ScenarioError(f"{name}:1: a scenario is a mapping with format: {FORMAT}")
    lines = _lines(node)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            loc = (
                (*problem["loc"], "type")
                if problem["type"] == "union_tag_invalid"
                else problem["loc"]
            )
            where = ".".join(str(p) for p in loc)
            problems.append(f"{name}:{_line_of(lines, loc)}: {where}: {problem['msg']}")
        raise ScenarioError("\n".join(problems)) from None
    _check_references(scenario, lines, name)
    _check_review(scenario, lines, name)
    return scenario, lines


def _check_review(scenario: Scenario, lines: dict[Path_, int], name: str) -> None:
    """The review's registration is checked with the rest, before anything is recorded."""
    spec = scenario.review
    try:
        checked_details(
            title=spec.title,
            kind=spec.kind,
            sponsor=spec.sponsor,
            published=spec.published,
            response_days=spec.response_days,
            themes={str(n): t for n, t in spec.themes.items()},
        )
    except DomainError as error:
        raise ScenarioError(f"{name}:{lines.get(('review',), 1)}: review: {error}") from None


def _check_references(scenario: Scenario, lines: dict[Path_, int], name: str) -> None:
    problems = []
    numbers = [r.number for r in scenario.recommendations]
    for index, rec in enumerate(scenario.recommendations):
        if numbers.count(rec.number) > 1:
            where = lines[("recommendations", index, "number")]
            problems.append(f"{name}:{where}: recommendation {rec.number} is listed twice")
        cited: list[tuple[Path_, Cited]] = [(("recommendations", index), rec)]
        cited += [(("recommendations", index, "actions", i), a) for i, a in enumerate(rec.actions)]
        problems += _unknown_sources(cited, scenario, lines, name)
    for index, event in enumerate(scenario.events):
        if event.recommendation not in numbers:
            where = lines[("events", index, "recommendation")]
            problems.append(
                f"{name}:{where}: events.{index}: recommendation {event.recommendation} "
                "is not among the recommendations of this file"
            )
        problems += _unknown_sources([(("events", index), event)], scenario, lines, name)
    if problems:
        raise ScenarioError("\n".join(problems))


def _unknown_sources(
    cited: list[tuple[Path_, Cited]], scenario: Scenario, lines: dict[Path_, int], name: str
) -> list[str]:
    known = ", ".join(sorted(scenario.sources))
    return [
        f"{name}:{lines[(*path, 'source')]}: source {item.source!r} is not among the sources "
        f"of this file ({known})"
        for path, item in cited
        if item.source not in scenario.sources
    ]


# --- turning a scenario into commands -------------------------------------------------------


def batches(
    scenario: Scenario, lines: dict[Path_, int], name: str, recorded_by: str
) -> list[RecommendationBatch]:
    """One batch per recommendation; its events in valid-time order, file order within a day."""

    def cite(item: Cited) -> Source:
        doc = scenario.sources[item.source]
        return Source(
            document=doc.document, date=doc.date, quote=item.quote, url=doc.url, file=doc.file
        )

    result = []
    for index, rec in enumerate(scenario.recommendations):
        registration = RegisterRecommendation(
            review=scenario.review.key,
            number=rec.number,
            title=rec.title,
            text=rec.text,
            occurred=rec.occurred,
            source=cite(rec),
            recorded_by=recorded_by,
        )
        actions: list[Labelled[RecommendationCommand]] = [
            Labelled(
                AddAction(
                    action=action.id,
                    text=action.text,
                    occurred=action.occurred,
                    source=cite(action),
                    recorded_by=recorded_by,
                ),
                f"{name}:{lines[('recommendations', index, 'actions', i)]}",
            )
            for i, action in enumerate(rec.actions)
        ]
        events = in_valid_time_order(
            Labelled(
                event.command(cite(event), recorded_by),
                f"{name}:{lines[('events', position)]}: {event.type}",
            )
            for position, event in enumerate(scenario.events)
            if event.recommendation == rec.number
        )
        result.append(
            RecommendationBatch(
                Labelled(registration, f"{name}:{lines[('recommendations', index)]}"),
                [*actions, *events],
            )
        )
    return result
