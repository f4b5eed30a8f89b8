"""The promised-vs-delivered page: the API's report, narrowed to what the viewer reads."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from rio.api.deps import ServicesDep
from rio.api.problems import field_problem
from rio.domain.errors import DatesOutOfOrder
from rio.reports.answers import promised_vs_delivered
from rio.web.pages import render
from rio.web.routes.common import (
    PREFIX,
    asked_when,
    narrow,
    page_context,
    query_date,
    require_review,
)
from rio.web.session import CurrentViewer

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/{review}/promised-vs-delivered")
def promised_page(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    promised_as_at = query_date(request, "promised_as_at")
    when = asked_when(request, services, viewer, as_at_name="delivered_as_at")
    services.catch_up()
    numbers = require_review(services, viewer, review)
    report = None
    if promised_as_at is not None:
        then = narrow(services.programme(promised_as_at, when.known_at), review, numbers)
        later = services.programme(when.as_at, when.known_at)
        try:
            report = promised_vs_delivered(then, later, review)
        except DatesOutOfOrder as error:  # the report's refusal, named as this page's field
            raise field_problem("query.delivered_as_at", str(error)) from None
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
