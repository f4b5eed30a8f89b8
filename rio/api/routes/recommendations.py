"""One recommendation: its state as at a date, its history, its slippage timeline.

An owner key reads only the recommendations its owner is accountable for or owns a
commitment of; any other is answered exactly as a recommendation that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from rio.aggregates.recommendation import Recommendation, recommendation_id
from rio.api.commands import etag
from rio.api.deps import (
    AsAt,
    CurrentPrincipal,
    KnownAt,
    PagingDep,
    PublicAt,
    Replay,
    ServicesDep,
    Target,
    TargetDep,
    require,
)
from rio.api.params import DIGITS_ONLY
from rio.api.problems import documented
from rio.api.schemas import EventOut, HistoryPage, RecommendationOut, TimelinesOut
from rio.api.services import Services
from rio.application.keys import Principal
from rio.domain import access
from rio.domain.access import READERS
from rio.domain.errors import NotFound
from rio.domain.rag import rate_commitment, rate_recommendation
from rio.domain.state import Programme, RecommendationState
from rio.domain.values import REVIEW_WIDE
from rio.reports.answers import timelines, to_json
from rio.reports.history import event_row

router = APIRouter(
    prefix="/reviews/{review}/recommendations/{number}",
    tags=["recommendations"],
    dependencies=[Depends(require(*READERS))],
    responses=documented(401, 403, 404, 422, 429, 503),
)

_ETAG = {
    "ETag": {"description": "The recommendation's current version.", "schema": {"type": "string"}}
}


def readable(services: Services, principal: Principal, target: Target) -> Recommendation:
    """The stored recommendation, if it exists and this principal may read it."""
    if not access.reads_all(principal.role):
        current = _state(services.current(only=target.id), target)
        if current is None or not access.may_read(
            principal.role, principal.owner, access.owners_of(current)
        ):
            raise NotFound(f"review {target.review!r} has no recommendation {target.number}")
    return services.rio.find(target.review, target.number)


def _state(programme: Programme, target: Target) -> RecommendationState | None:
    for rec in programme.recommendations:
        if rec.id == target.id:
            return rec
    return None


def state_as_at(
    services: Services,
    target: Target,
    as_at: date,
    known_at: datetime | None,
    replay: bool,
    public_at: date | None = None,
) -> RecommendationState:
    programme = services.programme(
        as_at, known_at, replay=replay, only=target.id, public_at=public_at
    )
    state = _state(programme, target)
    if state is None:
        known = f", as RIO knew it at {known_at.isoformat()}" if known_at else ""
        known += f", as the public record stood on {public_at}" if public_at else ""
        raise NotFound(
            f"recommendation {target.number} of review {target.review!r} was not yet "
            f"registered as at {as_at}{known}"
        )
    return state


@router.get(
    "",
    response_model=RecommendationOut,
    responses={200: {"headers": _ETAG}},
    summary="A recommendation as at a date, as known at a moment, with its RAG and why",
)
def get_recommendation(
    target: TargetDep,
    principal: CurrentPrincipal,
    services: ServicesDep,
    as_at: AsAt,
    known_at: KnownAt,
    replay: Replay,
    response: Response,
) -> dict[str, Any]:
    stored = readable(services, principal, target)
    state = state_as_at(services, target, as_at, known_at, replay)
    # The review-wide promises that serve it are judged for it as `status` judges them.
    wide = services.programme(
        as_at, known_at, replay=replay, only=recommendation_id(target.review, REVIEW_WIDE)
    )
    shared = Programme(as_at, known_at, (*wide.recommendations, state)).shared_with(state)
    rating, _ = rate_recommendation(state, as_at, services.policy, shared)
    data: dict[str, Any] = to_json(state)
    data.pop("id", None)
    data["commitments"] = [
        {
            **to_json(c),
            "slip_days": c.slip_days,
            "rating": to_json(rate_commitment(c, as_at, services.policy)),
        }
        for c in state.commitments
    ]
    response.headers["ETag"] = etag(stored.version)
    return {
        **data,
        "rating": to_json(rating),
        "version": stored.version,
        "as_at": as_at,
        "known_at": known_at,
    }


@router.get(
    "/history",
    response_model=HistoryPage,
    responses={200: {"headers": _ETAG}},
    summary="Every recorded event: both times, who recorded it, what it says",
)
def get_history(
    target: TargetDep,
    principal: CurrentPrincipal,
    services: ServicesDep,
    paging: PagingDep,
    response: Response,
) -> dict[str, Any]:
    stored = readable(services, principal, target)
    events = stored.history[paging.offset : paging.offset + paging.page_size]
    response.headers["ETag"] = etag(stored.version)
    return {
        "review": stored.review,
        "number": stored.number,
        "version": stored.version,
        "page": paging.page,
        "page_size": paging.page_size,
        "total": len(stored.history),
        "next_page": paging.next_page(len(stored.history)),
        "events": [event_row(e) for e in events],
    }


@router.get(
    "/history/{version}",
    response_model=EventOut,
    responses={200: {"headers": _ETAG}},
    summary="One recorded event",
)
def get_event(
    target: TargetDep,
    version: Annotated[int, Path(ge=1, le=1_000_000_000), DIGITS_ONLY],
    principal: CurrentPrincipal,
    services: ServicesDep,
    response: Response,
) -> dict[str, Any]:
    stored = readable(services, principal, target)
    if version > stored.version:
        raise NotFound(
            f"recommendation {target.number} has events 1 to {stored.version}, not {version}"
        )
    response.headers["ETag"] = etag(stored.version)
    return event_row(stored.history[version - 1])


@router.get(
    "/timeline",
    response_model=TimelinesOut,
    responses={200: {"headers": _ETAG}},
    summary="How each promised date drifted, revision by revision, against the first promise",
)
def get_timeline(
    target: TargetDep,
    principal: CurrentPrincipal,
    services: ServicesDep,
    as_at: AsAt,
    known_at: KnownAt,
    replay: Replay,
    response: Response,
    public_at: PublicAt = None,
) -> dict[str, Any]:
    stored = readable(services, principal, target)
    state = state_as_at(services, target, as_at, known_at, replay, public_at)
    response.headers["ETag"] = etag(stored.version)
    return {
        "review": state.review,
        "number": state.number,
        "as_at": as_at,
        "known_at": known_at,
        "public_at": public_at,
        "timelines": to_json(timelines(state)),
    }
