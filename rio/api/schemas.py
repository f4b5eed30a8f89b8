"""Request and response bodies. Requests forbid unknown fields, so nothing is mass-assigned.

Request models only shape and bound the input; what a command means (a due phrase, an
occurred date in the future, a commitment that does not exist) is the aggregate's to judge.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from rio.application.commands import (
    AddAction,
    AssessStatus,
    AssignOwner,
    CorrectEvent,
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
from rio.domain.references import named
from rio.domain.values import Source


def _storable(value: str) -> str:
    """Text both stores can keep: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it has a lone surrogate)") from None
    return value


Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_storable)
]  # ids, owners, names
Line = Annotated[
    str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_storable)
]  # a sentence or a paragraph
Prose = Annotated[
    str, StringConstraints(min_length=0, max_length=100_000), AfterValidator(_storable)
]  # a recommendation's full text, a quoted passage


def _iso_date(value: Any) -> Any:
    """Only the ISO form: a number or a timestamp is not a date someone wrote down."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD")
    if not isinstance(value, str | date) or isinstance(value, datetime):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date), Field(description="An ISO date, YYYY-MM-DD.")]
Number = Annotated[int, Field(ge=1, le=100_000)]
IsoDay = date  # for fields themselves named `date`

EXAMPLE_SOURCE: Any = {
    "document": "Written answer UIN 4567",
    "date": "2023-11-20",
    "quote": "The national induction scheme will be launched in April 2024.",
    "url": "https://questions-statements.parliament.uk/written-questions/detail/2023-11-20/4567",
}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceIn(_Request):
    """The document a fact rests on: an auditor must be able to go and read it."""

    document: Line
    date: IsoDate | None = None
    quote: Prose | None = None
    url: Line | None = None

    def to_source(self) -> Source:
        return Source(document=self.document, date=self.date, quote=self.quote, url=self.url)


class Cited(_Request):
    """What every command carries: when it happened in the world, and on whose word.

    Each body turns itself into its application command (`rio.application.commands`);
    `recorded_by` is the key's holder, added by the API."""

    occurred: IsoDate = Field(description="When it happened, as its source says (valid time).")
    source: SourceIn


def _examples(**fields: Any) -> ConfigDict:
    example = {"occurred": "2023-11-20", "source": EXAMPLE_SOURCE, **fields}
    return ConfigDict(json_schema_extra={"examples": [example]})


class RegisterIn(Cited):
    model_config = _examples(
        number=1, title="Targeted interventions", text="A national induction scheme ..."
    )
    number: Number
    title: Line
    text: Prose = ""

    def command(self, review: str, recorded_by: str) -> RegisterRecommendation:
        return RegisterRecommendation(
            review=review,
            number=self.number,
            title=self.title,
            text=self.text,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class ActionIn(Cited):
    model_config = _examples(action="1.1", text="Develop a national induction scheme")
    action: Name
    text: Line

    def command(self, recorded_by: str) -> AddAction:
        return AddAction(
            action=self.action,
            text=self.text,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class OwnerIn(Cited):
    model_config = _examples(owner="NHS England", role="accountable")
    owner: Name
    role: Literal["accountable", "senior"] = "accountable"
    commitment: Name | None = Field(None, description="Owner of one commitment only.")

    def command(self, recorded_by: str) -> AssignOwner:
        return AssignOwner(
            owner=self.owner,
            role=self.role,
            commitment=self.commitment,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class DecisionIn(Cited):
    model_config = _examples(decision="accepted", decided_by="Secretary of State")
    decision: Line
    decided_by: Name | None = None

    def command(self, recorded_by: str) -> RecordDecision:
        return RecordDecision(
            decision=self.decision,
            decided_by=self.decided_by,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class CommitmentIn(Cited):
    """A promise of one recommendation, or (at recommendation 0) of the review as a whole."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "occurred": "2023-11-20",
                    "source": EXAMPLE_SOURCE,
                    "commitment": "induction",
                    "deliverable": "National induction scheme launched",
                    "due": "April 2024",
                    "owner": "NHS England",
                    "action": "1.1",
                },
                {
                    "occurred": "2022-06-08",
                    "source": {
                        "document": "Government response to the Messenger review",
                        "date": "2022-06-08",
                        "quote": "A delivery plan with clear timelines will follow.",
                    },
                    "commitment": "delivery-plan",
                    "deliverable": "A delivery plan with clear timelines, published",
                    "owner": "Department of Health and Social Care",
                    "serves": [1, 2, 3],
                },
            ]
        }
    )
    commitment: Name = Field(description="Its id within the recommendation.")
    deliverable: Line
    due: Name | None = Field(
        None, description='The deadline in the source\'s words: "Spring 2025", "by March 2024".'
    )
    owner: Name | None = None
    action: Name | None = None
    inferred: bool = Field(
        False, description='Reconstructed from loose wording ("could include"); counted apart.'
    )
    supersedes: Name | None = Field(
        None, description="The open commitment this is the next stage of (it closes there)."
    )
    serves: list[Number] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="For a promise of the review as a whole (recommendation 0): the "
        "recommendations it serves; null for all of them. A scenario file's "
        "`recommendations: [1, 3]` (`all`: null).",
    )

    def command(self, recorded_by: str) -> MakeCommitment:
        return MakeCommitment(
            commitment=self.commitment,
            deliverable=self.deliverable,
            due=self.due,
            owner=self.owner,
            action=self.action,
            inferred=self.inferred,
            supersedes=self.supersedes,
            serves=self.serves,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class RevisionIn(Cited):
    model_config = _examples(due="later in 2024", reason="Further engagement with the sector")
    due: Name | None = None
    deliverable: Line | None = None
    reason: Line | None = Field(
        None, description="Why the date moved; a move without one is marked unexplained."
    )

    def of(self, commitment: str, recorded_by: str) -> ReviseCommitment:
        """The revision of `commitment` (named by the route's path)."""
        return ReviseCommitment(
            commitment=commitment,
            due=self.due,
            deliverable=self.deliverable,
            reason=self.reason,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class WithdrawalIn(Cited):
    model_config = _examples(reason="Superseded by the workforce plan")
    reason: Line

    def of(self, commitment: str, recorded_by: str) -> WithdrawCommitment:
        return WithdrawCommitment(
            commitment=commitment,
            reason=self.reason,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class DeliveryIn(Cited):
    model_config = _examples(evidence="Scheme launched; announcement of 2 September 2024")
    evidence: Line

    def of(self, commitment: str, recorded_by: str) -> RecordDelivery:
        return RecordDelivery(
            commitment=commitment,
            evidence=self.evidence,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class NoteIn(Cited):
    model_config = _examples(note="Pilot running in three regions", commitment="induction")
    note: Line
    commitment: Name | None = None

    def command(self, recorded_by: str) -> NoteProgress:
        return NoteProgress(
            note=self.note,
            commitment=self.commitment,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class StatusIn(Cited):
    """Where a commitment, an action or the recommendation stands, as its owner reports it
    (the source's own words in `source.quote`): not evidence of delivery."""

    model_config = _examples(status="in_progress", action="2.1")
    status: Literal["not_started", "in_progress", "reported_complete", "reported_not_delivered"]
    commitment: Name | None = None
    action: Name | None = None

    def command(self, recorded_by: str) -> ReportStatus:
        return ReportStatus(
            status=self.status,
            commitment=self.commitment,
            action=self.action,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class AssessmentIn(Cited):
    model_config = _examples(
        scale="rag3", rating="Amber", rationale="Pilot late", assessor="RIO secretariat"
    )
    scale: Literal["rag3", "dcs5", "hscc4"]
    rating: Name
    rationale: Line
    assessor: Name
    commitment: Name | None = None

    def command(self, recorded_by: str) -> AssessStatus:
        return AssessStatus(
            scale=self.scale,
            rating=self.rating,
            rationale=self.rationale,
            assessor=self.assessor,
            commitment=self.commitment,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


class CorrectionIn(Cited):
    """Names the event to correct by what it says (`event`, as a scenario file's `corrects:`
    or `rio correct --event`), or by its version; the original is kept."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "occurred": "2023-11-20",
                    "source": EXAMPLE_SOURCE,
                    "event": {"type": "commitment_made", "commitment": "induction"},
                    "changes": {"due": "May 2024"},
                    "reason": "The answer said May, not April",
                },
                {
                    "occurred": "2023-11-20",
                    "source": EXAMPLE_SOURCE,
                    "event": "commitment_made:induction",
                    "retract": True,
                    "reason": "Recorded against the wrong recommendation",
                },
                {
                    "occurred": "2023-11-20",
                    "source": EXAMPLE_SOURCE,
                    "version": 3,
                    "changes": {"due": "May 2024"},
                    "reason": "The answer said May, not April",
                },
            ]
        }
    )
    event: dict[Name, Line] | Name | None = Field(
        None,
        description="The event, by what it says: its type and fields "
        '({"type": "commitment_made", "commitment": "induction"}), or the same written as '
        "`rio correct --event` takes it (commitment_made:induction, "
        "commitment_made:commitment=induction,occurred=2023-11-20). It must name exactly one "
        "event; a refusal lists the candidates.",
    )
    version: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = Field(
        None, description="Or the version (history position) of the event being corrected."
    )
    changes: dict[Name, Line | SourceIn | None] | None = Field(
        None, description="Corrected field values; `source` takes a source object."
    )
    retract: bool = Field(False, description="Retract the event instead of changing it.")
    reason: Line

    @field_validator("changes")
    @classmethod
    def _sources_are_objects(
        cls, changes: dict[str, str | SourceIn | None] | None
    ) -> dict[str, str | SourceIn | None] | None:
        for name, value in (changes or {}).items():
            if (name == "source") != isinstance(value, SourceIn):
                kind = "a source object" if name == "source" else "text (or null)"
                raise ValueError(f"changes.{name} must be {kind}")
        return changes

    @model_validator(mode="after")
    def _one_target(self) -> CorrectionIn:
        if (self.event is None) == (self.version is None):
            raise ValueError(
                "name the event to correct once: event (what it says, e.g. "
                '{"type": "commitment_made", "commitment": "induction"}) or version'
            )
        return self

    def command(self, recorded_by: str) -> RecommendationCommand:
        changes = (
            None
            if self.changes is None
            else {
                name: value.to_source() if isinstance(value, SourceIn) else value
                for name, value in self.changes.items()
            }
        )
        source = self.source.to_source()
        said: dict[str, Any] = {
            "changes": changes,
            "retract": self.retract,
            "reason": self.reason,
            "occurred": self.occurred,
            "source": source,
            "recorded_by": recorded_by,
        }
        if self.version is not None:
            return CorrectEvent(version=self.version, **said)
        return CorrectReferencedEvent(event=named(self.event or {}), **said)


# --- a whole review in one call -------------------------------------------------------------


# A batch entry is a command body with a `type` (and, where a route's path names the
# commitment, a `commitment` field); each turns into the same command as its route's body.


class _BatchEvent(Cited):
    @abstractmethod
    def command(self, recorded_by: str) -> RecommendationCommand:
        """The command this entry records."""


class OwnerAssignedIn(OwnerIn, _BatchEvent):
    type: Literal["owner_assigned"]


class DecisionRecordedIn(DecisionIn, _BatchEvent):
    type: Literal["decision_recorded"]


class CommitmentMadeIn(CommitmentIn, _BatchEvent):
    type: Literal["commitment_made"]


class CommitmentRevisedIn(RevisionIn, _BatchEvent):
    type: Literal["commitment_revised"]
    commitment: Name

    def command(self, recorded_by: str) -> ReviseCommitment:
        return self.of(self.commitment, recorded_by)


class CommitmentWithdrawnIn(WithdrawalIn, _BatchEvent):
    type: Literal["commitment_withdrawn"]
    commitment: Name

    def command(self, recorded_by: str) -> WithdrawCommitment:
        return self.of(self.commitment, recorded_by)


class MilestoneDeliveredIn(DeliveryIn, _BatchEvent):
    type: Literal["milestone_delivered"]
    commitment: Name

    def command(self, recorded_by: str) -> RecordDelivery:
        return self.of(self.commitment, recorded_by)


class ProgressNotedIn(NoteIn, _BatchEvent):
    type: Literal["progress_noted"]


class StatusAssessedIn(AssessmentIn, _BatchEvent):
    type: Literal["status_assessed"]


class StatusReportedIn(StatusIn, _BatchEvent):
    type: Literal["status_reported"]


BatchEvent = Annotated[
    OwnerAssignedIn
    | DecisionRecordedIn
    | CommitmentMadeIn
    | CommitmentRevisedIn
    | CommitmentWithdrawnIn
    | MilestoneDeliveredIn
    | ProgressNotedIn
    | StatusReportedIn
    | StatusAssessedIn,
    Field(discriminator="type"),
]


class BatchRecommendationIn(RegisterIn):
    actions: list[ActionIn] = Field(default_factory=list, max_length=1000)
    events: list[BatchEvent] = Field(
        default_factory=list,
        max_length=10_000,
        description="Recorded in valid-time order: by occurred date, then as listed.",
    )


class BatchIn(_Request):
    """Every recommendation of a review, recorded all or nothing; a reload records nothing new."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recommendations": [
                        {
                            "number": 1,
                            "title": "Targeted interventions",
                            "occurred": "2022-06-08",
                            "source": {"document": "Messenger review", "date": "2022-06-08"},
                            "actions": [],
                            "events": [
                                {
                                    "type": "commitment_made",
                                    "commitment": "induction",
                                    "deliverable": "National induction scheme",
                                    "due": "April 2024",
                                    "occurred": "2023-11-20",
                                    "source": EXAMPLE_SOURCE,
                                }
                            ],
                        }
                    ],
                    "review_wide": [
                        {
                            "type": "commitment_made",
                            "commitment": "delivery-plan",
                            "deliverable": "A delivery plan with clear timelines, published",
                            "serves": [1],
                            "occurred": "2022-06-08",
                            "source": {
                                "document": "Government response to the Messenger review",
                                "date": "2022-06-08",
                                "quote": "A delivery plan with clear timelines will follow.",
                            },
                        },
                        {
                            "type": "status_reported",
                            "status": "reported_not_delivered",
                            "commitment": "delivery-plan",
                            "occurred": "2024-10-01",
                            "source": {
                                "document": "Messenger Review: Table of Recommendations",
                                "date": "2024-10-01",
                                "quote": "The delivery plan is not yet published.",
                            },
                        },
                    ],
                }
            ]
        }
    )
    recommendations: list[BatchRecommendationIn] = Field(min_length=1, max_length=1000)
    review_wide: list[BatchEvent] = Field(
        default_factory=list,
        max_length=10_000,
        description="Events of the review as a whole (recommendation 0), as a scenario "
        "file's entries with `recommendations: all` (or a list: a commitment's `serves`): "
        "recorded once, in the review's own stream, opened by the first by date.",
    )


class KeyIn(_Request):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Jo Bloggs", "role": "secretariat"}]}
    )
    name: Name
    role: Literal["secretariat", "auditor", "owner", "admin"]
    owner: Name | None = Field(None, description="Owner keys only: whose items the key reads.")


class RevokeIn(_Request):
    reason: Line | None = None


# --- responses ------------------------------------------------------------------------------
# Each answer's schema carries an example of it, built from the pieces below, so a reader of
# /docs sees real shapes (tests/api/test_openapi_docs.py validates each against its model).


def _api_models(base: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """The models defined in rio.api (here and beside the routes), with an example to keep."""
    for model in base.__subclasses__():
        extra = model.model_config.get("json_schema_extra")
        if model.__module__.startswith("rio.api.") and isinstance(extra, dict):
            yield model
        yield from _api_models(model)


def _shows(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


def keep_example_nulls(schema: dict[str, Any]) -> None:
    """Put each of the API's models' examples back into `schema` as written: FastAPI drops
    every null from the document, and an example without its required null fields is not one."""
    components = schema.get("components", {}).get("schemas", {})
    for model in _api_models(BaseModel):
        own = model.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        for name, part in {model.__name__: own, **own.get("$defs", {})}.items():
            if "examples" in part and name in components:
                components[name]["examples"] = part["examples"]


SOURCE_OUT: dict[str, Any] = {**EXAMPLE_SOURCE, "file": None}
DUE_OUT: dict[str, Any] = {
    "text": "April 2024",
    "earliest": "2024-04-01",
    "latest": "2024-04-30",
    "edtf": "2024-04",
}
LATER_OUT: dict[str, Any] = {
    "text": "later in 2024",
    "earliest": "2024-05-01",
    "latest": "2024-12-31",
    "edtf": "2024-05-01/2024-12-31",
}
RATING_OUT: dict[str, Any] = {
    "rating": "Red",
    "rule": "overdue",
    "reason": "'National induction scheme, launched', due 'April 2024' (by 2024-04-30), has "
    "no delivery recorded by 2024-06-01: 32 days overdue",
    "facts": {"commitment": "national-induction", "as_at": "2024-06-01"},
    "policy": "rio-default/2",
}
EVENT_OUT: dict[str, Any] = {
    "version": 7,
    "type": "CommitmentMade",
    "occurred": "2023-11-20",
    "recorded": "2024-06-01T09:30:00+00:00",
    "recorded_by": "secretariat:jo",
    "source": SOURCE_OUT,
    "data": {
        "commitment": "national-induction",
        "deliverable": "National induction scheme, launched",
        "due": DUE_OUT,
        "owner": "NHS England",
        "action": "1.1",
    },
}
REVISION_OUT: dict[str, Any] = {
    "occurred": "2024-05-15",
    "due": LATER_OUT,
    "deliverable": None,
    "reason": None,
    "unexplained": True,
    "source": SOURCE_OUT,
}
CLOSURE_OUT: dict[str, Any] = {
    "occurred": "2024-09-02",
    "detail": "Scheme launched; announcement of 2 September 2024",
    "source": SOURCE_OUT,
}
COMMITMENT_OUT: dict[str, Any] = {
    "commitment": "national-induction",
    "deliverable": "National induction scheme, launched",
    "action": "1.1",
    "owner": "NHS England",
    "made_on": "2023-11-20",
    "source": SOURCE_OUT,
    "baseline": DUE_OUT,
    "due": LATER_OUT,
    "revisions": [REVISION_OUT],
    "delivered": None,
    "withdrawn": None,
    "last_update": "2024-05-15",
    "slip_days": 245,
    "rating": RATING_OUT,
}
ACTION_OUT: dict[str, Any] = {
    "action": "1.1",
    "text": "A new, national entry-level induction for all who join health and social care.",
    "occurred": "2022-06-08",
}
DECISION_OUT: dict[str, Any] = {
    "occurred": "2022-06-08",
    "decision": "accepted",
    "decided_by": "Secretary of State for Health and Social Care",
    "source": SOURCE_OUT,
}
NOTE_OUT: dict[str, Any] = {
    "occurred": "2024-03-01",
    "text": "Pilot running in three regions",
    "commitment": "national-induction",
    "source": SOURCE_OUT,
}
ASSESSMENT_OUT: dict[str, Any] = {
    "occurred": "2024-06-01",
    "scale": "IPA DCA",
    "rating": "Amber/Red",
    "rationale": "Launch slipped without a stated reason",
    "assessor": "Review Implementation Office",
    "commitment": "national-induction",
    "source": SOURCE_OUT,
}
PAGE: dict[str, Any] = {"page": 1, "page_size": 50, "total": 1, "next_page": None}
STEP_OUT: dict[str, Any] = {
    "occurred": "2024-05-15",
    "kind": "revised",
    "due": LATER_OUT,
    "slip_days": 245,
    "reason": None,
    "unexplained": True,
    "source": SOURCE_OUT,
}
TIMELINE_OUT: dict[str, Any] = {
    "recommendation": 1,
    "commitment": "national-induction",
    "deliverable": "National induction scheme, launched",
    "baseline": DUE_OUT,
    "steps": [STEP_OUT],
}
OUTCOME_ROW: dict[str, Any] = {
    "recommendation": 1,
    "title": "Targeted interventions on collaborative leadership",
    "commitment": "national-induction",
    "deliverable": "National induction scheme, launched",
    "owner": "NHS England",
    "promised": DUE_OUT,
    "promised_in": SOURCE_OUT,
    "outcome": "slipped",
    "detail": "now due later in 2024, 245 days later; the move was never explained",
    "days": 245,
    "now_due": LATER_OUT,
    "unexplained_slips": 1,
}
KEY_OUT: dict[str, Any] = {
    "key_id": "5e42cb336220",
    "name": "Jo Bloggs",
    "role": "secretariat",
    "owner": None,
    "granted_at": "2024-06-01T09:00:00+00:00",
    "granted_by": "admin:ops",
    "revoked_at": None,
    "revoked_by": None,
    "revoke_reason": None,
    "version": 1,
}


class FieldError(BaseModel):
    model_config = _shows(
        {
            "field": "body.due",
            "message": "cannot understand the due date 'soonish'",
            "type": "invalid_due_date",
        }
    )

    field: str
    message: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, served as application/problem+json."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:rio:problem:invalid-due-date",
                    "title": "Due date not understood",
                    "status": 422,
                    "detail": "cannot understand the due date 'soonish': ...",
                    "instance": "/reviews/messenger-2022/recommendations/1/commitments",
                }
            ]
        }
    )
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class SourceOut(BaseModel):
    model_config = _shows(SOURCE_OUT)

    document: str
    date: IsoDay | None = None
    quote: str | None = None
    url: str | None = None
    file: str | None = None


class DueOut(BaseModel):
    model_config = _shows(DUE_OUT)

    text: str
    earliest: date
    latest: date
    edtf: str


class RatingOut(BaseModel):
    model_config = _shows(RATING_OUT)

    rating: str
    rule: str
    reason: str
    facts: dict[str, str]
    policy: str


class EventOut(BaseModel):
    model_config = _shows(EVENT_OUT)

    version: int
    type: str
    occurred: date = Field(description="Valid time: when it happened, as its source says.")
    recorded: datetime = Field(description="Transaction time: when RIO recorded it.")
    recorded_by: str
    source: SourceOut
    data: dict[str, Any]


class CommandResult(BaseModel):
    model_config = _shows(
        {"review": "messenger-2022", "number": 1, "version": 7, "event": EVENT_OUT}
    )

    review: str
    number: int
    version: int = Field(description="The recommendation's version now; also the ETag.")
    event: EventOut


class BatchRecommendationOut(BaseModel):
    model_config = _shows({"number": 1, "version": 12})

    number: int
    version: int


class BatchResultOut(BaseModel):
    model_config = _shows(
        {
            "review": "messenger-2022",
            "recorded": 11,
            "already_recorded": 1,
            "recommendations": [{"number": 1, "version": 12}],
        }
    )

    review: str
    recorded: int
    already_recorded: int
    recommendations: list[BatchRecommendationOut]


class RevisionOut(BaseModel):
    model_config = _shows(REVISION_OUT)

    occurred: date
    due: DueOut | None
    deliverable: str | None
    reason: str | None
    unexplained: bool
    source: SourceOut


class ClosureOut(BaseModel):
    model_config = _shows(CLOSURE_OUT)

    occurred: date
    detail: str
    source: SourceOut


class CommitmentOut(BaseModel):
    model_config = _shows(COMMITMENT_OUT)

    commitment: str
    deliverable: str
    action: str | None
    owner: str | None
    made_on: date
    source: SourceOut
    baseline: DueOut | None
    due: DueOut | None
    revisions: list[RevisionOut]
    delivered: ClosureOut | None
    withdrawn: ClosureOut | None
    last_update: date | None
    slip_days: int
    rating: RatingOut


class ActionOut(BaseModel):
    model_config = _shows(ACTION_OUT)

    action: str
    text: str
    occurred: date


class DecisionOut(BaseModel):
    model_config = _shows(DECISION_OUT)

    occurred: date
    decision: str
    decided_by: str | None
    source: SourceOut


class NoteOut(BaseModel):
    model_config = _shows(NOTE_OUT)

    occurred: date
    text: str
    commitment: str | None
    source: SourceOut


class AssessmentOut(BaseModel):
    model_config = _shows(ASSESSMENT_OUT)

    occurred: date
    scale: str
    rating: str
    rationale: str
    assessor: str
    commitment: str | None
    source: SourceOut


class RecommendationOut(BaseModel):
    model_config = _shows(
        {
            "review": "messenger-2022",
            "number": 1,
            "title": "Targeted interventions on collaborative leadership",
            "text": "A new, national entry-level induction for all who join health and care.",
            "registered_on": "2022-06-08",
            "source": SOURCE_OUT,
            "accountable_owner": "NHS England",
            "senior_owner": "Department of Health and Social Care",
            "actions": [ACTION_OUT],
            "decisions": [DECISION_OUT],
            "commitments": [COMMITMENT_OUT],
            "notes": [NOTE_OUT],
            "assessments": [ASSESSMENT_OUT],
            "last_update": "2024-06-01",
            "rating": RATING_OUT,
            "version": 12,
            "as_at": "2024-06-01",
            "known_at": None,
        }
    )

    review: str
    number: int
    title: str
    text: str
    registered_on: date
    source: SourceOut
    accountable_owner: str | None
    senior_owner: str | None
    actions: list[ActionOut]
    decisions: list[DecisionOut]
    commitments: list[CommitmentOut]
    notes: list[NoteOut]
    assessments: list[AssessmentOut]
    last_update: date | None
    rating: RatingOut = Field(description="Computed RAG, with the rule that fired and why.")
    version: int = Field(description="The recommendation's version now; also the ETag.")
    as_at: date
    known_at: datetime | None


class Page(BaseModel):
    model_config = _shows(PAGE)

    page: int
    page_size: int
    total: int
    next_page: int | None


class StatusRow(BaseModel):
    model_config = _shows(
        {
            "review": "messenger-2022",
            "number": 1,
            "title": "Targeted interventions on collaborative leadership",
            "rating": RATING_OUT,
            "commitments": {"national-induction": RATING_OUT},
            "assessments": [ASSESSMENT_OUT],
            "accountable_owner": "NHS England",
        }
    )

    review: str
    number: int
    title: str
    rating: RatingOut
    commitments: dict[str, RatingOut]
    assessments: list[AssessmentOut]
    accountable_owner: str | None


class StatusPage(Page):
    model_config = _shows(
        {
            **PAGE,
            "as_at": "2024-06-01",
            "known_at": None,
            "position": 412,
            "recommendations": [
                {
                    "review": "messenger-2022",
                    "number": 1,
                    "title": "Targeted interventions on collaborative leadership",
                    "rating": RATING_OUT,
                    "commitments": {"national-induction": RATING_OUT},
                    "assessments": [],
                    "accountable_owner": "NHS England",
                }
            ],
        }
    )

    as_at: date
    known_at: datetime | None
    public_at: date | None = Field(
        default=None,
        description="Only facts whose source was published by this date, when asked.",
    )
    position: int | None = Field(
        description="The event log position the answer was read at; null for owner keys "
        "(the log counts everyone's records)."
    )
    recommendations: list[StatusRow]


class HistoryPage(Page):
    model_config = _shows(
        {**PAGE, "review": "messenger-2022", "number": 1, "version": 12, "events": [EVENT_OUT]}
    )

    review: str
    number: int
    version: int
    events: list[EventOut]


class TimelineStepOut(BaseModel):
    model_config = _shows(STEP_OUT)

    occurred: date
    kind: str
    due: DueOut | None
    slip_days: int | None
    reason: str | None
    unexplained: bool
    source: SourceOut


class TimelineOut(BaseModel):
    model_config = _shows(TIMELINE_OUT)

    recommendation: int
    commitment: str
    deliverable: str
    baseline: DueOut | None
    steps: list[TimelineStepOut]


class TimelinesOut(BaseModel):
    model_config = _shows(
        {
            "review": "messenger-2022",
            "number": 1,
            "as_at": "2024-06-01",
            "known_at": None,
            "timelines": [TIMELINE_OUT],
        }
    )

    review: str
    number: int
    as_at: date
    known_at: datetime | None
    public_at: date | None = Field(
        default=None,
        description="Only facts whose source was published by this date, when asked.",
    )
    timelines: list[TimelineOut]


class OutcomeRow(BaseModel):
    model_config = _shows(OUTCOME_ROW)

    recommendation: int
    title: str
    commitment: str
    deliverable: str
    owner: str | None
    promised: DueOut | None
    promised_in: SourceOut
    outcome: str
    detail: str
    days: int | None
    now_due: DueOut | None
    unexplained_slips: int
    owner_when_promised: str | None = None
    review_wide: bool = False
    serves: list[int] | None = None
    inferred: bool = False
    now_deliverable: str | None = None


class ReportPage(Page):
    model_config = _shows(
        {
            **PAGE,
            "review": "messenger-2022",
            "promised_as_at": "2023-11-30",
            "delivered_as_at": "2024-10-01",
            "known_at": None,
            "position": 412,
            "page_size": 1,
            "total": 12,
            "next_page": 2,
            "summary": "12 commitments as promised at 2023-11-30, outcome as at 2024-10-01: "
            "3 delivered on time, 9 slipped",
            "rows": [OUTCOME_ROW],
        }
    )

    review: str | None
    promised_as_at: date
    delivered_as_at: date
    known_at: datetime | None
    public_at: date | None = Field(
        default=None,
        description="Only facts whose source was published by this date, when asked.",
    )
    position: int | None = Field(
        description="The event log position the answer was read at; null for owner keys "
        "(the log counts everyone's records)."
    )
    summary: str
    rows: list[OutcomeRow]


class KeyOut(BaseModel):
    model_config = _shows(KEY_OUT)

    key_id: str
    name: str
    role: str
    owner: str | None
    granted_at: datetime
    granted_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    version: int


class KeyCreated(KeyOut):
    model_config = _shows(
        {**KEY_OUT, "key": "rio_5e42cb336220_Zm9yIGV4YW1wbGUgb25seTogbm90IGEga2V5"}
    )

    key: str = Field(description="The key itself. It is shown this once and never stored.")


class KeyPage(Page):
    model_config = _shows({**PAGE, "keys": [KEY_OUT]})

    keys: list[KeyOut]


class Health(BaseModel):
    model_config = _shows({"status": "ok"})

    status: Literal["ok"]
