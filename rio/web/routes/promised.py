"""The promised-vs-delivered page: the API's report, narrowed to what the viewer reads."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from rio.api.deps import ServicesDep
from rio.api.problems import field_problem
from rio.domain.errors import DatesOutOfOrder
from rio.reports.answers import promised_vs_delivered
from rio.web.chart import long_date
from rio.web.pages import render
from rio.web.routes.common import (
    PREFIX,
    asked_when,
    canonical_dates,
    narrow,
    page_context,
    query_date,
    require_review,
)
from rio.web.session import CurrentViewer

router = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(canonical_dates)])


@router.get("/{review}/promised-vs-delivered")
def promised_page(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    promised_as_at = query_date(request, "promised_as_at")
    # A link from the board carries its `as_at`: the outcomes are judged as at that date.
    when = asked_when(request, services, viewer, as_at_name="delivered_as_at", or_else="as_at")
    services.catch_up()
    numbers = require_review(services, viewer, review)
    report = None
    if promised_as_at is not None:
        then = narrow(services.programme(promised_as_at, when.known_at), review, numbers)
        later = services.programme(when.as_at, when.known_at)
        try:
            report = promised_vs_delivered(then, later, review)
        except DatesOutOfOrder:  # the report's refusal, in this page's own words
            raise field_problem(
                "query.delivered_as_at",
                f"Outcomes as at ({long_date(when.as_at)}) must be on or after Promises as at "
                f"({long_date(promised_as_at)}): outcomes are judged after the promises were "
                "taken",
            ) from None
    return render(
        request,
        "promised.html",
        page_context(
            viewer,
            review=review,
            when=when,
            promised_as_at=promised_as_at,
            report=report,
            export_query=when.query(),
        ),
    )
