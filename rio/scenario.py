"""Scenario files (scenarios/README.md): a review's history as YAML, loaded all or nothing.

Every problem is reported as FILE:LINE with what is wrong, before anything is recorded.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rio import scenario_yaml
from rio.aggregates.review import checked_details
from rio.application.batch import (
    Labelled,
    RecommendationBatch,
    in_valid_time_order,
    review_wide_batch,
)
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
    ReportStatus,
    ReviseCommitment,
    WithdrawCommitment,
)
from rio.application.corrections import CorrectReferencedEvent
from rio.application.reviews import RegisterReview
from rio.domain.errors import DomainError
from rio.domain.references import reference
from rio.domain.values import REVIEW_WIDE, Source, not_among

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
    """An event of one recommendation (`recommendation: N`), or of the review as a whole
    (`recommendations: all` or `[1, 3]`: recorded once, in the review's own stream)."""

    recommendation: int | None = None
    recommendations: Literal["all"] | list[int] | None = None
    ref: str | None = Field(default=None, min_length=1)  # a slug a correction may name

    @model_validator(mode="after")
    def _one_home(self) -> EventSpec:
        if (self.recommendation is None) == (self.recommendations is None):
            raise ValueError(
                "give either recommendation: N, or recommendations: all (or a list of "
                "numbers) for a promise of the review as a whole"
            )
        if isinstance(self.recommendations, list) and not self.recommendations:
            raise ValueError("recommendations is an empty list: name them, or say all")
        return self

    @property
    def stream(self) -> int:
        """The stream it is recorded in: its recommendation, or the review's own."""
        return REVIEW_WIDE if self.recommendation is None else self.recommendation

    @property
    def serves(self) -> list[int] | None:
        return self.recommendations if isinstance(self.recommendations, list) else None

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
    inferred: bool = False  # reconstructed from loose wording ("could include")
    supersedes: str | None = None  # the earlier stage this next stage replaces

    _due_as_text = field_validator("due", mode="before")(lambda v: _as_phrase(v))

    def command(self, source: Source, recorded_by: str) -> MakeCommitment:
        return MakeCommitment(
            commitment=self.commitment,
            deliverable=self.deliverable,
            due=self.due,
            owner=self.owner,
            action=self.action,
            inferred=self.inferred,
            serves=self.serves,
            supersedes=self.supersedes,
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


class StatusReported(EventSpec):
    """Where a commitment, an action or the recommendation stands, as its owner reports it;
    the quote is the source's own words."""

    type: Literal["status_reported"]
    status: Literal["not_started", "in_progress", "reported_complete", "reported_not_delivered"]
    commitment: str | None = None
    action: str | None = None

    def command(self, source: Source, recorded_by: str) -> ReportStatus:
        return ReportStatus(
            status=self.status,
            commitment=self.commitment,
            action=self.action,
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


# --- corrections (issue 14 item 7): a recorded fact is changed by a correction, never by
# editing the file. `corrects:` names the target by what it says, or by another entry's `ref:`.


class EventCorrected(EventSpec):
    type: Literal["event_corrected"]
    corrects: dict[str, Any] | str
    changes: dict[str, Any] | None = None
    retracted: bool = False
    reason: str = Field(min_length=1)

    _due_as_text = field_validator("changes", mode="before")(
        lambda v: (
            {k: _as_phrase(x) if k == "due" else x for k, x in v.items()}
            if isinstance(v, dict)
            else v
        )
    )

    @model_validator(mode="after")
    def _changes_or_retracted(self) -> EventCorrected:
        if bool(self.changes) == self.retracted:
            raise ValueError("a correction gives changes: (field: new value) or retracted: true")
        return self

    def command(self, source: Source, recorded_by: str) -> CorrectReferencedEvent:
        if isinstance(self.corrects, str):  # resolved by `_resolved` before commands are made
            raise ScenarioError(f"the correction's ref {self.corrects!r} was not resolved")
        return CorrectReferencedEvent(
            event=reference(self.corrects),
            changes=self.changes,
            retract=self.retracted,
            reason=self.reason,
            occurred=self.occurred,
            source=source,
            recorded_by=recorded_by,
        )


def _correction_problems(scenario: Scenario, lines: dict[Path_, int], name: str) -> list[str]:
    """Refs unique in the file; each correction's `ref` and new `source` known."""
    problems = []
    refs: dict[str, int] = {}
    for index, event in enumerate(scenario.events):
        if event.ref is not None and event.ref in refs:
            problems.append(
                f"{name}:{lines[('events', index, 'ref')]}: ref {event.ref!r} is already used "
                f"by events.{refs[event.ref]}; a ref names one event"
            )
        elif event.ref is not None:
            refs[event.ref] = index
    for index, event in enumerate(scenario.events):
        if not isinstance(event, EventCorrected):
            continue
        if isinstance(event.corrects, str):
            target = refs.get(event.corrects)
            where = f"{name}:{lines[('events', index, 'corrects')]}"
            if target is None:
                known = ", ".join(sorted(refs)) or "none in this file"
                problems.append(f"{where}: no event has ref {event.corrects!r} (refs: {known})")
            elif scenario.events[target].stream != event.stream:
                theirs = _stream_words(scenario.events[target])
                problems.append(
                    f"{where}: ref {event.corrects!r} is an event of {theirs}, "
                    f"not {_stream_words(event)}"
                )
        new_source = (event.changes or {}).get("source")
        if new_source is not None and new_source not in scenario.sources:
            problems.append(
                f"{name}:{lines[('events', index, 'changes', 'source')]}: source "
                f"{new_source!r} is not among the sources of this file"
            )
    return problems


def _resolved(scenario: Scenario) -> Scenario:
    """Corrections with `corrects:` as a reference and a changed `source:` as a document."""
    refs = {e.ref: e for e in scenario.events if e.ref is not None}
    events: list[Any] = []
    for event in scenario.events:
        if isinstance(event, EventCorrected):
            update: dict[str, Any] = {}
            if isinstance(event.corrects, str):
                target = refs[event.corrects]
                named = {"type": target.type, "occurred": target.occurred, "quote": target.quote}
                for key in ("commitment", "action"):
                    if getattr(target, key, None) is not None:
                        named[key] = getattr(target, key)
                update["corrects"] = named
            if event.changes and "source" in event.changes:
                doc = scenario.sources[event.changes["source"]]
                document = {"document": doc.document, "date": doc.date, "url": doc.url}
                update["changes"] = {**event.changes, "source": {**document, "file": doc.file}}
            event = event.model_copy(update=update)
        events.append(event)
    return scenario.model_copy(update={"events": events})


AnyEvent = Annotated[
    EventCorrected
    | DecisionRecorded
    | OwnerAssigned
    | CommitmentMade
    | CommitmentRevised
    | CommitmentWithdrawn
    | MilestoneDelivered
    | ProgressNoted
    | StatusReported
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
        named = [event.recommendation] if event.recommendation is not None else event.serves
        key = "recommendation" if event.recommendation is not None else "recommendations"
        where = lines.get(("events", index, key), lines[("events", index)])
        problems += [
            f"{name}:{where}: events.{index}: {problem}"
            for problem in not_among(named or (), numbers, "this file")
        ]
        problems += _unknown_sources([(("events", index), event)], scenario, lines, name)
    problems += _correction_problems(scenario, lines, name)
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
    scenario = _resolved(scenario)

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
            if event.stream == rec.number
        )
        result.append(
            RecommendationBatch(
                Labelled(registration, f"{name}:{lines[('recommendations', index)]}"),
                [*actions, *events],
            )
        )
    wide = [(p, e) for p, e in enumerate(scenario.events) if e.stream == REVIEW_WIDE]
    if wide:
        result.insert(0, _review_wide_batch(scenario, lines, name, recorded_by, wide, cite))
    return result


def _stream_words(event: EventSpec) -> str:
    return (
        "the review as a whole" if event.stream == REVIEW_WIDE else f"recommendation {event.stream}"
    )


def _review_wide_batch(
    scenario: Scenario,
    lines: dict[Path_, int],
    name: str,
    recorded_by: str,
    events: Sequence[tuple[int, AnyEvent]],
    cite: Callable[[Cited], Source],
) -> RecommendationBatch:
    """What a file says about the review as a whole, in the review's own stream."""
    commands = [
        Labelled(
            event.command(cite(event), recorded_by),
            f"{name}:{lines[('events', position)]}: {event.type}",
        )
        for position, event in events
    ]
    return review_wide_batch(scenario.review.key, scenario.review.title, commands, recorded_by)
