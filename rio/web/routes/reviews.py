"""The list of reviews and one review's board: a row per recommendation the viewer reads."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from rio.api.deps import ServicesDep
from rio.domain import clock
from rio.projections.reviews import index
from rio.web.board import board, board_of
from rio.web.pages import render
from rio.web.routes.common import (
    PREFIX,
    asked_when,
    canonical_dates,
    page_context,
    readable_scope_of,
    require_review,
)
from rio.web.session import CurrentViewer

router = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(canonical_dates)])


@router.get("")
@router.get("/")
def reviews(request: Request, viewer: CurrentViewer, services: ServicesDep) -> Response:
    when = asked_when(request, services, viewer)
    services.catch_up()
    rows = index(
        services.read_model,
        services.runtime.review_register,
        when.as_at,
        when.known_at,
        policy=services.policy,
        scope=readable_scope_of(services, viewer),
    )
    return render(
        request,
        "index.html",
        page_context(viewer, reviews=rows, when=when, now=clock.now()),
    )


@router.get("/{review}")
def board_page(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    when = asked_when(request, services, viewer, public=True)
    services.catch_up()
    numbers = require_review(services, viewer, review)
    if when.public_at is not None:  # only the fold knows when sources were published
        programme = services.programme(when.as_at, when.known_at, public_at=when.public_at)
        rows = board_of(programme, review, numbers=numbers, policy=services.policy)
    else:
        rows = board(
            services.read_model,
            review,
            when.as_at,
            when.known_at,
            numbers=numbers,
            policy=services.policy,
        )
    info = services.runtime.review_register.info(review)
    return render(
        request,
        "board.html",
        page_context(viewer, review=review, review_title=info.title, when=when, rows=rows),
    )
