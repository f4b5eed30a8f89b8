"""Request and response bodies. Requests forbid unknown fields, so nothing is mass-assigned.

Request models only shape and bound the input; what a command means (a due phrase, an
occurred date in the future, a commitment that does not exist) is the aggregate's to judge.
"""

from __future__ import annotations

import re
from abc import abstractmethod
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
    ReviseCommitment,
    WithdrawCommitment,
)
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
    model_config = _examples(
        commitment="induction",
        deliverable="National induction scheme launched",
        due="April 2024",
        owner="NHS England",
        action="1.1",
    )
    commitment: Name = Field(description="Its id within the recommendation.")
    deliverable: Line
    due: Name | None = Field(
        None, description='The deadline in the source\'s words: "Spring 2025", "by March 2024".'
    )
    owner: Name | None = None
    action: Name | None = None

    def command(self, recorded_by: str) -> MakeCommitment:
        return MakeCommitment(
            commitment=self.commitment,
            deliverable=self.deliverable,
            due=self.due,
            owner=self.owner,
            action=self.action,
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
    model_config = _examples(
        version=3, changes={"due": "May 2024"}, reason="The answer said May, not April"
    )
    version: Annotated[int, Field(ge=1, le=1_000_000_000)] = Field(
        description="The version (history position) of the event being corrected."
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

    def command(self, recorded_by: str) -> CorrectEvent:
        return CorrectEvent(
            version=self.version,
            changes=None
            if self.changes is None
            else {
                name: value.to_source() if isinstance(value, SourceIn) else value
                for name, value in self.changes.items()
            },
            retract=self.retract,
            reason=self.reason,
            occurred=self.occurred,
            source=self.source.to_source(),
            recorded_by=recorded_by,
        )


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


BatchEvent = Annotated[
    OwnerAssignedIn
    | DecisionRecordedIn
    | CommitmentMadeIn
    | CommitmentRevisedIn
    | CommitmentWithdrawnIn
    | MilestoneDeliveredIn
    | ProgressNotedIn
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
                    ]
                }
            ]
        }
    )
    recommendations: list[BatchRecommendationIn] = Field(min_length=1, max_length=1000)


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


class FieldError(BaseModel):
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
    document: str
    date: IsoDay | None = None
    quote: str | None = None
    url: str | None = None
    file: str | None = None


class DueOut(BaseModel):
    text: str
    earliest: date
    latest: date
    edtf: str


class RatingOut(BaseModel):
    rating: str
    rule: str
    reason: str
    facts: dict[str, str]
    policy: str


class EventOut(BaseModel):
    version: int
    type: str
    occurred: date = Field(description="Valid time: when it happened, as its source says.")
    recorded: datetime = Field(description="Transaction time: when RIO recorded it.")
    recorded_by: str
    source: SourceOut
    data: dict[str, Any]


class CommandResult(BaseModel):
    review: str
    number: int
    version: int = Field(description="The recommendation's version now; also the ETag.")
    event: EventOut


class BatchRecommendationOut(BaseModel):
    number: int
    version: int


class BatchResultOut(BaseModel):
    review: str
    recorded: int
    already_recorded: int
    recommendations: list[BatchRecommendationOut]


class RevisionOut(BaseModel):
    occurred: date
    due: DueOut | None
    deliverable: str | None
    reason: str | None
    unexplained: bool
    source: SourceOut


class ClosureOut(BaseModel):
    occurred: date
    detail: str
    source: SourceOut


class CommitmentOut(BaseModel):
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
    action: str
    text: str
    occurred: date


class DecisionOut(BaseModel):
    occurred: date
    decision: str
    decided_by: str | None
    source: SourceOut


class NoteOut(BaseModel):
    occurred: date
    text: str
    commitment: str | None
    source: SourceOut


class AssessmentOut(BaseModel):
    occurred: date
    scale: str
    rating: str
    rationale: str
    assessor: str
    commitment: str | None
    source: SourceOut


class RecommendationOut(BaseModel):
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
    page: int
    page_size: int
    total: int
    next_page: int | None


class StatusRow(BaseModel):
    review: str
    number: int
    title: str
    rating: RatingOut
    commitments: dict[str, RatingOut]
    assessments: list[AssessmentOut]
    accountable_owner: str | None


class StatusPage(Page):
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
    review: str
    number: int
    version: int
    events: list[EventOut]


class TimelineStepOut(BaseModel):
    occurred: date
    kind: str
    due: DueOut | None
    slip_days: int | None
    reason: str | None
    unexplained: bool
    source: SourceOut


class TimelineOut(BaseModel):
    recommendation: int
    commitment: str
    deliverable: str
    baseline: DueOut | None
    steps: list[TimelineStepOut]


class TimelinesOut(BaseModel):
    review: str
    number: int
    as_at: date
    known_at: datetime | None
    timelines: list[TimelineOut]


class OutcomeRow(BaseModel):
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


class ReportPage(Page):
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
    key: str = Field(description="The key itself. It is shown this once and never stored.")


class KeyPage(Page):
    keys: list[KeyOut]


class Health(BaseModel):
    status: Literal["ok"]
