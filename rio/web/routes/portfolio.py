"""The portfolio page: every review's counts, the oldest overdue promises and the longest
unexplained slips across the store, narrowed by owner, kind and theme."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from rio.aggregates.review import ReviewKind
from rio.api.deps import ServicesDep
from rio.api.problems import field_problem
from rio.projections.reviews import Filters, portfolio
from rio.web.pages import render
from rio.web.routes.common import PREFIX, asked_when, page_context, readable_scope_of
from rio.web.session import CurrentViewer

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _text(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    if len(value) > 200:
        raise field_problem(f"query.{name}", "is longer than 200 characters")
    return value or None


@router.get("/portfolio")
def portfolio_page(request: Request, viewer: CurrentViewer, services: ServicesDep) -> Response:
    when = asked_when(request, services, viewer)
    kind = _text(request, "kind")
    if kind is not None and kind not in set(ReviewKind):
        raise field_problem("query.kind", f"{kind!r} is not one of: {', '.join(ReviewKind)}")
    filters = Filters(owner=_text(request, "owner"), kind=kind, theme=_text(request, "theme"))
    services.catch_up()
    view = portfolio(
        services.read_model,
        services.runtime.review_register,
        when.as_at,
        when.known_at,
        policy=services.policy,
        filters=filters,
        readable=readable_scope_of(services, viewer),
    )
    return render(
        request,
        "portfolio.html",
        page_context(viewer, when=when, view=view, kinds=list(ReviewKind)),
    )
