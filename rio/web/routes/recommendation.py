"""One recommendation's page: its rating, commitments, slippage chart and what closed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from rio.aggregates.recommendation import recommendation_id
from rio.api.deps import ServicesDep
from rio.domain.errors import NotFound
from rio.domain.rag import rate_commitment, rate_recommendation
from rio.domain.state import Programme
from rio.domain.values import REVIEW_WIDE
from rio.reports.answers import timelines
from rio.web import chart
from rio.web.pages import render
from rio.web.routes.common import PREFIX, asked_when, canonical_dates, page_context
from rio.web.session import CurrentViewer

router = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(canonical_dates)])


@router.get("/{review}/{number}")
def recommendation_page(
    request: Request,
    review: str,
    number: str,
    viewer: CurrentViewer,
    services: ServicesDep,
) -> Response:
    # 0 is the review's own stream (REVIEW_WIDE): its promises about the review as a whole.
    if not number.isdigit() or not 0 <= int(number) <= 100_000:
        raise NotFound(f"there is no page at {request.url.path}")
    n = int(number)
    when = asked_when(request, services, viewer)
    rec_id = recommendation_id(review, n)
    missing = f"review {review!r} has no recommendation {n}"
    current = services.current(only=rec_id).recommendations
    # Whose it is, is decided as things stand now; a recommendation the viewer may not read
    # is answered exactly as one that does not exist.
    if not current or not viewer.may_read(current[0]):
        raise NotFound(missing)
    found = services.programme(when.as_at, when.known_at, only=rec_id).recommendations
    if not found:
        known = f", as RIO knew it at {when.known_at.isoformat()}" if when.known_at else ""
        raise NotFound(
            f"recommendation {n} of review {review!r} was not yet registered as at "
            f"{when.as_at}{known}: it was registered on {current[0].registered_on}"
        )
    state = found[0]
    # The review-wide promises that serve it are judged for it as the board judges them.
    wide = services.programme(
        when.as_at, when.known_at, only=recommendation_id(review, REVIEW_WIDE)
    ).recommendations
    shared = Programme(when.as_at, when.known_at, (*wide, state)).shared_with(state)
    rating, _ = rate_recommendation(state, when.as_at, services.policy, shared)
    lines = timelines(state)
    return render(
        request,
        "recommendation.html",
        page_context(
            viewer,
            review=review,
            when=when,
            rec=state,
            rating=rating,
            commitments=[
                (c, rate_commitment(c, when.as_at, services.policy), state.owner_of(c), line)
                for c, line in zip(state.commitments, lines, strict=True)
            ],
            closed=[c for c in state.commitments if c.delivered or c.withdrawn],
            chart=chart.slippage_chart(lines, when.as_at),
            legend=chart.legend(lines, when.as_at),
        ),
    )
