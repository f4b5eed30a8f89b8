"""Reviews and the portfolio across them: register a review, list reviews by title with
their ratings counted, and the portfolio's oldest overdue promises and longest unexplained
slips. An owner key sees only what its owner owns, in every review (rio.domain.access)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from rio.aggregates.review import MAX_RESPONSE_DAYS, ReviewKind
from rio.api.deps import AsAt, CurrentPrincipal, KnownAt, ServicesDep, require
from rio.api.problems import documented
from rio.api.schemas import IsoDate
from rio.application.reviews import RegisterReview, Registration
from rio.domain.access import READERS, WRITERS
from rio.projections.reviews import Filters, PromiseRow, index, portfolio, readable_scope
from rio.reports.answers import to_json

router = APIRouter(tags=["reviews"], responses=documented(401, 403, 422, 429, 503))


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "pfd-2024-0117",
                    "title": "Prevention of future deaths report: discharge from hospital",
                    "kind": "coroners_report",
                    "sponsor": "HM Coroner for the Area of Testshire",
                    "published": "2024-02-01",
                    "themes": {"1": "Discharge"},
                }
            ]
        },
    )

    key: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = Field(min_length=1, max_length=1000)
    kind: ReviewKind = ReviewKind.REVIEW
    sponsor: str | None = Field(default=None, max_length=1000)
    published: IsoDate | None = None  # strict: YYYY-MM-DD, never a Unix timestamp
    response_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_RESPONSE_DAYS,
        description="Days after publication a response is due (a coroner's report: 56).",
    )
    themes: dict[int, str] = Field(
        default_factory=dict, description="Recommendation number -> its theme."
    )


_REVIEW_EXAMPLE: dict[str, Any] = {
    "key": "messenger-2022",
    "title": "Health and social care review: leadership for a collaborative and inclusive future",
    "kind": "review",
    "sponsor": "Department of Health and Social Care",
    "published": "2022-06-08",
    "response_days": None,
    "response_due": None,
    "registered": True,
    "recommendations": 7,
    "ratings": {"Red": 4, "Amber": 1, "Green": 1, "Complete": 1},
    "outcomes": {"overdue": 4, "slipped": 1, "on_track": 1, "delivered_on_time": 4},
}
_PROMISE_EXAMPLE: dict[str, Any] = {
    "review": "messenger-2022",
    "review_title": _REVIEW_EXAMPLE["title"],
    "number": 5,
    "commitment": "aspiring-ceo-cohort",
    "owner": "NHS England",
    "due_text": "June 2024",
    "due_latest": "2024-06-30",
    "baseline_latest": "2024-06-30",
    "unexplained_slips": 0,
    "days": 93,
}


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class ReviewOut(BaseModel):
    model_config = _example(_REVIEW_EXAMPLE)

    key: str
    title: str
    kind: str
    sponsor: str | None
    published: date | None
    response_days: int | None
    response_due: date | None
    registered: bool
    recommendations: int = 0
    ratings: dict[str, int] = {}
    outcomes: dict[str, int] = {}


class RegisteredOut(ReviewOut):
    model_config = _example({**_REVIEW_EXAMPLE, "registration": "registered"})

    registration: str = Field(
        description="What registering did: one of "
        + ", ".join(r.value for r in Registration)
        + " (nothing recorded)."
    )


class ReviewsPage(BaseModel):
    model_config = _example({"as_at": "2024-10-01", "known_at": None, "reviews": [_REVIEW_EXAMPLE]})

    as_at: date
    known_at: str | None
    reviews: list[ReviewOut]


@pydantic_dataclass(frozen=True, config=_example(_PROMISE_EXAMPLE))
class PromiseOut(PromiseRow):
    """A promise of the portfolio as the API answers it: the read model's own row, with an
    example for the schema (its fields are defined once, in rio.projections.reviews)."""


class PortfolioOut(BaseModel):
    model_config = _example(
        {
            "as_at": "2024-10-01",
            "known_at": None,
            "filters": {"owner": None, "kind": None, "theme": None},
            "totals": {"reviews": 1, "recommendations": 7},
            "reviews": [_REVIEW_EXAMPLE],
            "oldest_overdue": [_PROMISE_EXAMPLE],
            "longest_unexplained_slips": [],
        }
    )

    as_at: date
    known_at: str | None
    filters: dict[str, str | None]
    totals: dict[str, int]
    reviews: list[ReviewOut]
    oldest_overdue: list[PromiseOut]
    longest_unexplained_slips: list[PromiseOut]


Text = Annotated[str | None, Query(max_length=200)]


@router.post(
    "/reviews",
    status_code=201,
    response_model=RegisteredOut,
    dependencies=[Depends(require(*WRITERS))],
    responses={
        200: {"description": "Already registered with these details: nothing recorded."},
        **documented(409, 413),
    },
    summary="Register a review (or restate its details); the same details again record nothing",
)
def register_review(
    body: ReviewIn, principal: CurrentPrincipal, services: ServicesDep
) -> JSONResponse:
    command = RegisterReview(**body.model_dump(), recorded_by=principal.recorded_by)
    with services.writing():
        review, outcome = services.runtime.reviews.register(command)
    services.recorded()
    info = services.runtime.review_register.info(review.key)
    return JSONResponse(
        to_json({**info.as_dict(), "registration": outcome.value}),
        status_code=200 if outcome is Registration.UNCHANGED else 201,
    )


@router.get(
    "/reviews",
    response_model=ReviewsPage,
    dependencies=[Depends(require(*READERS))],
    summary="Every review by title, its recommendations counted by rating as at a date",
)
def list_reviews(
    principal: CurrentPrincipal, services: ServicesDep, as_at: AsAt, known_at: KnownAt
) -> dict[str, Any]:
    services.catch_up()
    scope = readable_scope(services.read_model, principal.role, principal.owner)
    rows = index(
        services.read_model,
        services.runtime.review_register,
        as_at,
        known_at,
        policy=services.policy,
        scope=scope,
    )
    return to_json({"as_at": as_at, "known_at": known_at, "reviews": [r.as_dict() for r in rows]})  # type: ignore[no-any-return]


@router.get(
    "/portfolio",
    response_model=PortfolioOut,
    dependencies=[Depends(require(*READERS))],
    summary="Across every review: counts by rating and outcome, oldest overdue promises, "
    "longest unexplained slips",
)
def get_portfolio(
    principal: CurrentPrincipal,
    services: ServicesDep,
    as_at: AsAt,
    known_at: KnownAt,
    owner: Text = None,
    kind: ReviewKind | None = None,
    theme: Text = None,
    review: Text = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 10,
) -> dict[str, Any]:
    services.catch_up()
    view = portfolio(
        services.read_model,
        services.runtime.review_register,
        as_at,
        known_at,
        policy=services.policy,
        filters=Filters(
            owner=owner, kind=None if kind is None else kind.value, theme=theme, review=review
        ),
        readable=readable_scope(services.read_model, principal.role, principal.owner),
        limit=limit,
    )
    return to_json(view.as_dict())  # type: ignore[no-any-return]
