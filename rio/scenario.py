"""Scenario files (scenarios/README.md): a review's history as YAML, loaded all or nothing.

Every problem is reported as FILE:LINE with what is wrong, before anything is recorded.
"""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
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
        return RegisterReview(**self.model_dump(), recorded_by=recorded_by)


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
        if isinstance(self.corrects, str):  # resolved before commands are made (_Commands)
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
#
# A file is read as a stream of parts (rio.scenario_yaml.parts): the header's values whole,
# each recommendation and each event alone. Each item is validated as it comes; what the
# items say about each other (numbers, sources, refs) is kept in small indexes and checked
# as soon as it can be; the valid items wait, grouped by recommendation, in a sink: a list
# for `read` (small files, tests), a temporary SQLite file for `opened` (files of any size).

Path_ = tuple[str | int, ...]

ITEMISED = ("recommendations", "events")
MAX_PROBLEMS = 50  # shown of a file's problems; the rest are counted

_RECOMMENDATION = TypeAdapter(RecommendationSpec)
_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


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


@dataclass(frozen=True)
class _Rec:
    """A valid recommendation and the lines its commands are named by."""

    index: int
    spec: RecommendationSpec
    line: int
    action_lines: tuple[int, ...]


@dataclass(frozen=True)
class _Event:
    position: int
    spec: AnyEvent
    line: int


@dataclass(frozen=True)
class _Ref:
    """What a correction's `corrects: <ref>` resolves to: the named event's own words."""

    index: int
    stream: int
    words: str
    named: dict[str, Any]


class _Sink(Protocol):
    """Where valid items wait to be recorded; `lines` are the item's own (a sink that keeps
    the whole file in memory keeps them too)."""

    def recommendation(self, rec: _Rec, lines: dict[Path_, int]) -> None: ...
    def event(self, event: _Event, lines: dict[Path_, int]) -> None: ...


class _Checker:
    """Checks a file's parts as they come: each item alone, then what the items say about
    each other, every problem with its line. Valid items go to `sink`."""

    def __init__(self, name: str, sink: _Sink) -> None:
        self.name = name
        self.sink = sink
        self.invalid: list[str] = []  # what pydantic refused
        self.problems: list[str] = []  # what the items say about each other
        self.header: dict[str, Any] = {}
        self.lines: dict[Path_, int] = {}  # the header's
        self.numbers: dict[int, int] = {}  # recommendation number -> its `number:` line
        self.repeated: set[int] = set()
        self.sources: set[str] | None = None  # once `sources:` has been read
        self.unchecked_sources: list[tuple[str, int]] = []  # cited before `sources:`
        self.unchecked_numbers: list[tuple[int, str]] = []  # named before being listed
        self.refs: dict[str, _Ref] = {}
        self.corrections: list[tuple[EventCorrected, int, dict[Path_, int]]] = []
        self.recommendation_count = 0
        self.review_wide = False  # whether any event is of the review as a whole

    def take(self, part: scenario_yaml.Part) -> None:
        if part.index is None:
            self.header[part.key] = part.data
            _lines(part.node, (part.key,), self.lines)
            self.lines[(part.key,)] = part.line
            self.lines.setdefault((), part.line)
            if part.key == "sources" and isinstance(part.data, dict):
                self.sources = {str(key) for key in part.data}
            return
        path: Path_ = (part.key, part.index)
        lines = _lines(part.node, path, {(part.key,): part.line})
        try:
            if part.key == "recommendations":
                self._recommendation(part.index, _RECOMMENDATION.validate_python(part.data), lines)
            else:
                self._event(part.index, _EVENT.validate_python(part.data), lines)
        except ValidationError as error:
            self.invalid += _problems(error, path, lines, self.name)

    def _recommendation(self, index: int, rec: RecommendationSpec, lines: dict[Path_, int]) -> None:
        path: Path_ = ("recommendations", index)
        where = lines[(*path, "number")]
        if rec.number in self.numbers:
            first = self.numbers[rec.number]
            if rec.number not in self.repeated:
                self.problems.append(self._listed_twice(first, rec.number))
                self.repeated.add(rec.number)
            self.problems.append(self._listed_twice(where, rec.number))
        else:
            self.numbers[rec.number] = where
        self._cited(rec.source, lines[(*path, "source")])
        for i, action in enumerate(rec.actions):
            self._cited(action.source, lines[(*path, "actions", i, "source")])
        actions = tuple(lines[(*path, "actions", i)] for i in range(len(rec.actions)))
        self.recommendation_count += 1
        if self._clean():
            self.sink.recommendation(_Rec(index, rec, lines[path], actions), lines)

    def _listed_twice(self, line: int, number: int) -> str:
        return f"{self.name}:{line}: recommendation {number} is listed twice"

    def _event(self, index: int, event: AnyEvent, lines: dict[Path_, int]) -> None:
        path: Path_ = ("events", index)
        named = [event.recommendation] if event.recommendation is not None else event.serves
        key = "recommendation" if event.recommendation is not None else "recommendations"
        where = f"{self.name}:{lines.get((*path, key), lines[path])}: events.{index}"
        for number in named or ():
            if number not in self.numbers:
                self.unchecked_numbers.append((number, where))
        self._cited(event.source, lines[(*path, "source")])
        if event.ref is not None and event.ref in self.refs:
            self.problems.append(
                f"{self.name}:{lines[(*path, 'ref')]}: ref {event.ref!r} is already used "
                f"by events.{self.refs[event.ref].index}; a ref names one event"
            )
        elif event.ref is not None:
            self.refs[event.ref] = _Ref(index, event.stream, _stream_words(event), _named(event))
        if isinstance(event, EventCorrected):
            self.corrections.append((event, index, lines))
        self.review_wide = self.review_wide or event.stream == REVIEW_WIDE
        if self._clean():
            self.sink.event(_Event(index, event, lines[path]), lines)

    def _cited(self, source: str, line: int) -> None:
        if self.sources is None:
            self.unchecked_sources.append((source, line))
        elif source not in self.sources:
            self.problems.append(self._unknown_source(source, line))

    def _unknown_source(self, source: str, line: int) -> str:
        known = ", ".join(sorted(self.sources or ()))
        return (
            f"{self.name}:{line}: source {source!r} is not among the sources of this file ({known})"
        )

    def _clean(self) -> bool:
        """Nothing found wrong yet: once something is, the rest is only checked."""
        return not self.invalid and not self.problems

    def finish(self) -> Scenario:
        """The header (its lists empty), once every problem of the file has been named;
        raises ScenarioError naming them."""
        try:  # the lists were read item by item: here they are empty
            scenario = Scenario.model_validate(self.header)
        except ValidationError as error:
            self.invalid[:0] = _problems(error, (), self.lines, self.name)
            scenario = None
        if self.invalid:
            raise ScenarioError(_joined(self.invalid))
        assert scenario is not None
        self.problems += [
            self._unknown_source(source, line)
            for source, line in self.unchecked_sources
            if source not in scenario.sources
        ]
        self.problems += [
            f"{where}: {problem}"
            for number, where in self.unchecked_numbers
            for problem in not_among([number], self.numbers, "this file")
        ]
        self.problems += self._correction_problems(scenario)
        if self.problems:
            raise ScenarioError(_joined(self.problems))
        _check_review(scenario, self.lines, self.name)
        return scenario

    def _correction_problems(self, scenario: Scenario) -> list[str]:
        """Each correction's `ref` and new `source` known."""
        problems = []
        for event, index, lines in self.corrections:
            if isinstance(event.corrects, str):
                target = self.refs.get(event.corrects)
                where = f"{self.name}:{lines[('events', index, 'corrects')]}"
                if target is None:
                    known = ", ".join(sorted(self.refs)) or "none in this file"
                    problems.append(f"{where}: no event has ref {event.corrects!r} (refs: {known})")
                elif target.stream != event.stream:
                    problems.append(
                        f"{where}: ref {event.corrects!r} is an event of {target.words}, "
                        f"not {_stream_words(event)}"
                    )
            new_source = (event.changes or {}).get("source")
            if new_source is not None and new_source not in scenario.sources:
                problems.append(
                    f"{self.name}:{lines[('events', index, 'changes', 'source')]}: source "
                    f"{new_source!r} is not among the sources of this file"
                )
        return problems


def _problems(
    error: ValidationError, prefix: Path_, lines: dict[Path_, int], name: str
) -> list[str]:
    """pydantic's refusals of the part at `prefix`, each at its line."""
    problems = []
    for problem in error.errors():
        loc = (*prefix, *problem["loc"])
        if problem["type"] == "union_tag_invalid":
            loc = (*loc, "type")
        where = ".".join(str(p) for p in loc)
        problems.append(f"{name}:{_line_of(lines, loc)}: {where}: {problem['msg']}")
    return problems


def _joined(problems: list[str]) -> str:
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    return "\n".join(shown) + (f"\n... and {more:,} more problems" if more else "")


def _named(event: AnyEvent) -> dict[str, Any]:
    named: dict[str, Any] = {"type": event.type, "occurred": event.occurred, "quote": event.quote}
    for key in ("commitment", "action"):
        if getattr(event, key, None) is not None:
            named[key] = getattr(event, key)
    return named


def _stream_words(event: EventSpec) -> str:
    return (
        "the review as a whole" if event.stream == REVIEW_WIDE else f"recommendation {event.stream}"
    )


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


def _check(
    path: Path,
    sink: _Sink,
    progress: Callable[[int], None] | None = None,
) -> _Checker:
    """Every part of the file through a checker; raises ScenarioError naming the problems."""
    name = str(path)
    checker = _Checker(name, sink)
    try:
        for part in scenario_yaml.parts(path, ITEMISED, progress):
            checker.take(part)
    except OSError as error:
        raise ScenarioError(f"{name}: cannot read the file: {error.strerror}") from None
    except scenario_yaml.NotAMapping:
        raise ScenarioError(f"{name}:1: a scenario is a mapping with format: {FORMAT}") from None
    except scenario_yaml.YamlRefused as refused:
        where = name if refused.line is None else f"{name}:{refused.line}"
        raise ScenarioError(f"{where}: {refused.message}") from None
    return checker


class _InMemory:
    """The whole file's valid items and the line of every part of it."""

    def __init__(self) -> None:
        self.recommendations: list[RecommendationSpec] = []
        self.events: list[AnyEvent] = []
        self.lines: dict[Path_, int] = {}

    def recommendation(self, rec: _Rec, lines: dict[Path_, int]) -> None:
        self.recommendations.append(rec.spec)
        self.lines.update(lines)

    def event(self, event: _Event, lines: dict[Path_, int]) -> None:
        self.events.append(event.spec)
        self.lines.update(lines)


def read(path: Path) -> tuple[Scenario, dict[Path_, int]]:
    """The whole file in memory, checked, with the line of every part of it: for small
    files and tests (`batches` turns it into commands). `opened` reads a file of any size."""
    sink = _InMemory()
    checker = _check(path, sink)
    header = checker.finish()
    scenario = header.model_copy(
        update={"recommendations": sink.recommendations, "events": sink.events}
    )
    return scenario, {**checker.lines, **sink.lines}


# --- turning a scenario into commands -------------------------------------------------------


class _Commands:
    """A file's items as the commands that record them, citing its sources."""

    def __init__(
        self, header: Scenario, refs: dict[str, _Ref], name: str, recorded_by: str
    ) -> None:
        self.review = header.review
        self.sources = header.sources
        self.refs = refs
        self.name = name
        self.recorded_by = recorded_by

    def cite(self, item: Cited) -> Source:
        doc = self.sources[item.source]
        return Source(
            document=doc.document, date=doc.date, quote=item.quote, url=doc.url, file=doc.file
        )

    def recommendation(self, rec: _Rec, events: Sequence[_Event]) -> RecommendationBatch:
        """One recommendation's batch: its events in valid-time order, file order within a day."""
        spec = rec.spec
        registration = RegisterRecommendation(
            review=self.review.key,
            number=spec.number,
            title=spec.title,
            text=spec.text,
            occurred=spec.occurred,
            source=self.cite(spec),
            recorded_by=self.recorded_by,
        )
        actions: list[Labelled[RecommendationCommand]] = [
            Labelled(
                AddAction(
                    action=action.id,
                    text=action.text,
                    occurred=action.occurred,
                    source=self.cite(action),
                    recorded_by=self.recorded_by,
                ),
                f"{self.name}:{line}",
            )
            for action, line in zip(spec.actions, rec.action_lines, strict=True)
        ]
        return RecommendationBatch(
            Labelled(registration, f"{self.name}:{rec.line}"),
            [*actions, *self._events(events)],
        )

    def review_wide(self, events: Sequence[_Event]) -> RecommendationBatch:
        """What a file says about the review as a whole, in the review's own stream (made
        as an API batch makes it: rio.application.batch.review_wide_batch)."""
        return review_wide_batch(
            self.review.key, self.review.title, self._labelled(events), self.recorded_by
        )

    def _events(self, events: Sequence[_Event]) -> list[Labelled[RecommendationCommand]]:
        return in_valid_time_order(self._labelled(events))

    def _labelled(self, events: Sequence[_Event]) -> list[Labelled[RecommendationCommand]]:
        """The events' commands in the file's order, each labelled with its line."""
        return [
            Labelled(
                self._resolved(event.spec).command(self.cite(event.spec), self.recorded_by),
                f"{self.name}:{event.line}: {event.spec.type}",
            )
            for event in events
        ]

    def _resolved(self, event: AnyEvent) -> AnyEvent:
        """A correction with `corrects:` as a reference and a changed `source:` as a document."""
        if not isinstance(event, EventCorrected):
            return event
        update: dict[str, Any] = {}
        if isinstance(event.corrects, str):
            update["corrects"] = self.refs[event.corrects].named
        if event.changes and "source" in event.changes:
            doc = self.sources[event.changes["source"]]
            document = {"document": doc.document, "date": doc.date, "url": doc.url}
            update["changes"] = {**event.changes, "source": {**document, "file": doc.file}}
        return event.model_copy(update=update)


def batches(
    scenario: Scenario, lines: dict[Path_, int], name: str, recorded_by: str
) -> list[RecommendationBatch]:
    """One batch per recommendation (the review's own first, if it has events), from `read`."""
    refs = {
        e.ref: _Ref(i, e.stream, _stream_words(e), _named(e))
        for i, e in enumerate(scenario.events)
        if e.ref is not None
    }
    commands = _Commands(scenario, refs, name, recorded_by)
    streams: dict[int, list[_Event]] = {}
    for position, event in enumerate(scenario.events):
        streams.setdefault(event.stream, []).append(
            _Event(position, event, lines[("events", position)])
        )
    result = []
    if streams.get(REVIEW_WIDE):
        result.append(commands.review_wide(streams[REVIEW_WIDE]))
    for index, rec in enumerate(scenario.recommendations):
        path: Path_ = ("recommendations", index)
        actions = tuple(lines[(*path, "actions", i)] for i in range(len(rec.actions)))
        result.append(
            commands.recommendation(
                _Rec(index, rec, lines[path], actions), streams.get(rec.number, [])
            )
        )
    return result


# --- files of any size ----------------------------------------------------------------------


class _Spilled:
    """Valid items kept on disk, grouped by recommendation, until they are recorded: a
    temporary SQLite file, so memory holds one recommendation's items at a time."""

    FLUSH = 100  # items written at a time

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "items.db", isolation_level=None)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
            "CREATE TABLE recommendations (rank INTEGER PRIMARY KEY, number INTEGER, item BLOB);"
            "CREATE TABLE events (stream INTEGER, position INTEGER, item BLOB, "
            "PRIMARY KEY (stream, position)) WITHOUT ROWID;"
            "BEGIN;"
        )
        self.recs: list[tuple[int, bytes]] = []
        self.events: list[tuple[int, int, bytes]] = []

    def recommendation(self, rec: _Rec, lines: dict[Path_, int]) -> None:
        self.recs.append((rec.spec.number, pickle.dumps(rec, pickle.HIGHEST_PROTOCOL)))
        if len(self.recs) >= self.FLUSH:
            self.flush()

    def event(self, event: _Event, lines: dict[Path_, int]) -> None:
        item = pickle.dumps(event, pickle.HIGHEST_PROTOCOL)
        self.events.append((event.spec.stream, event.position, item))
        if len(self.events) >= self.FLUSH:
            self.flush()

    def flush(self) -> None:
        self.db.executemany("INSERT INTO recommendations (number, item) VALUES (?, ?)", self.recs)
        self.db.executemany("INSERT INTO events VALUES (?, ?, ?)", self.events)
        self.recs, self.events = [], []

    def stream(self, number: int) -> list[_Event]:
        rows = self.db.execute(
            "SELECT item FROM events WHERE stream = ? ORDER BY position", (number,)
        )
        return [pickle.loads(item) for (item,) in rows]

    def recommendations(self) -> Iterator[_Rec]:
        for (item,) in self.db.execute("SELECT item FROM recommendations ORDER BY rank"):
            yield pickle.loads(item)

    def close(self) -> None:
        self.db.close()


@dataclass
class Opened:
    """A checked scenario file, ready to record: its review and its batches, read back from
    disk one recommendation at a time."""

    name: str
    header: Scenario
    recommendations: int
    streams: int  # batches `batches` gives: the recommendations and the review's own stream
    _spilled: _Spilled
    _refs: dict[str, _Ref]

    @property
    def review(self) -> ReviewSpec:
        return self.header.review

    def batches(self, recorded_by: str) -> Iterator[RecommendationBatch]:
        """As `batches` gives them, one at a time."""
        commands = _Commands(self.header, self._refs, self.name, recorded_by)
        wide = self._spilled.stream(REVIEW_WIDE)
        if wide:
            yield commands.review_wide(wide)
        for rec in self._spilled.recommendations():
            yield commands.recommendation(rec, self._spilled.stream(rec.spec.number))


@contextmanager
def opened(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[Opened]:
    """The file read and checked to its end before anything is recorded (ScenarioError
    names every problem), its items kept on disk: memory stays flat whatever the file's
    size. `progress` is told the bytes read so far."""
    with tempfile.TemporaryDirectory(prefix="rio-scenario-") as folder:
        spilled = _Spilled(Path(folder))
        try:
            checker = _check(path, spilled, progress)
            header = checker.finish()
            spilled.flush()
            yield Opened(
                str(path),
                header,
                checker.recommendation_count,
                checker.recommendation_count + checker.review_wide,
                spilled,
                checker.refs,
            )
        finally:
            spilled.close()
