"""Scenario files (scenarios/README.md): a review's history as YAML, loaded all or nothing.

Every problem is reported as FILE:LINE with what is wrong, before anything is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rio.application.batch import Command, RecommendationBatch
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
    METHOD: ClassVar[str]
    recommendation: int

    def arguments(self) -> dict[str, Any]:
        common = {"type", "recommendation", "occurred", "source", "quote"}
        return self.model_dump(exclude=common)


class DecisionRecorded(EventSpec):
    METHOD = "record_decision"
    type: Literal["decision_recorded"]
    decision: str
    decided_by: str | None = None


class OwnerAssigned(EventSpec):
    METHOD = "assign_owner"
    type: Literal["owner_assigned"]
    owner: str
    role: Literal["accountable", "senior"] = "accountable"
    commitment: str | None = None


class CommitmentMade(EventSpec):
    METHOD = "make_commitment"
    type: Literal["commitment_made"]
    commitment: str
    deliverable: str
    due: str | None = None
    owner: str | None = None
    action: str | None = None

    _due_as_text = field_validator("due", mode="before")(lambda v: _as_phrase(v))


class CommitmentRevised(EventSpec):
    METHOD = "revise_commitment"
    type: Literal["commitment_revised"]
    commitment: str
    due: str | None = None
    deliverable: str | None = None
    reason: str | None = None

    _due_as_text = field_validator("due", mode="before")(lambda v: _as_phrase(v))


class CommitmentWithdrawn(EventSpec):
    METHOD = "withdraw_commitment"
    type: Literal["commitment_withdrawn"]
    commitment: str
    reason: str


class MilestoneDelivered(EventSpec):
    METHOD = "record_delivery"
    type: Literal["milestone_delivered"]
    commitment: str
    evidence: str


class ProgressNoted(EventSpec):
    METHOD = "note_progress"
    type: Literal["progress_noted"]
    note: str
    commitment: str | None = None


class StatusAssessed(EventSpec):
    METHOD = "assess_status"
    type: Literal["status_assessed"]
    scale: str
    rating: str
    rationale: str
    assessor: str
    commitment: str | None = None


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
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{name}: cannot read the file: {error.strerror}") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        # An unclosed bracket is found at the end of the file; name the line that opened it.
        unclosed = error.context is not None and "flow" in error.context
        mark = error.context_mark if unclosed else error.problem_mark
        line = mark.line + 1 if mark else 1
        raise ScenarioError(f"{name}:{line}: not valid YAML: {error.problem}") from None
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
    return scenario, lines


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

    def common(item: Cited) -> dict[str, Any]:
        return {"occurred": item.occurred, "source": cite(item), "recorded_by": recorded_by}

    result = []
    for index, rec in enumerate(scenario.recommendations):
        registration = Command(
            "register",
            {
                "review": scenario.review.key,
                "number": rec.number,
                "title": rec.title,
                "text": rec.text,
                **common(rec),
            },
            f"{name}:{lines[('recommendations', index)]}",
        )
        commands = [
            Command(
                "add_action",
                {"action": action.id, "text": action.text, **common(action)},
                f"{name}:{lines[('recommendations', index, 'actions', i)]}",
            )
            for i, action in enumerate(rec.actions)
        ]
        events = [
            (event.occurred, position, event)
            for position, event in enumerate(scenario.events)
            if event.recommendation == rec.number
        ]
        for _, position, event in sorted(
            events, key=lambda item: (item[0], _phase(item[2]), item[1])
        ):
            commands.append(
                Command(
                    event.METHOD,
                    {**event.arguments(), **common(event)},
                    f"{name}:{lines[('events', position)]}: {event.type}",
                )
            )
        result.append(RecommendationBatch(registration, commands))
    return result


def _phase(event: EventSpec) -> int:
    """Within one day a commitment is made before it is revised, and closed last."""
    if isinstance(event, CommitmentMade):
        return 0
    if isinstance(event, MilestoneDelivered | CommitmentWithdrawn):
        return 2
    return 1
