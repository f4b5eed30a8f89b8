"""What every board page shares: its address, the dates and viewer it answers for, and
which recommendations of a review the viewer may read."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from typing import Any

from fastapi import Request

from rio.api.deps import known_at_for, public_at_for
from rio.api.problems import field_problem
from rio.api.services import Services
from rio.domain import clock
from rio.domain.errors import NotFound
from rio.domain.state import Programme
from rio.projections.reviews import Scope, readable_scope
from rio.web.board import owned, owned_by_review, review_exists
from rio.web.date_fields import Canonical, canonical_url
from rio.web.pages import When
from rio.web.session import CurrentViewer, Viewer

PREFIX = "/board"
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def canonical_dates(request: Request, viewer: CurrentViewer) -> None:
    """A page dependency: a date asked in day, month and year boxes is redirected to the
    page's one address for it (after the viewer, so a problem page has its header)."""
    url = canonical_url(request.url.path, request.query_params, request.query_params.multi_items())
    if url is not None:
        raise Canonical(url)


def query_date(request: Request, name: str) -> date | None:
    """The query parameter `name` as a date, strictly YYYY-MM-DD; None when not given."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise field_problem(
            f"query.{name}", f"{raw!r} is not a date: use YYYY-MM-DD, for example 2024-06-01"
        ) from None
    if not 1900 <= day.year <= 2999:
        raise field_problem(f"query.{name}", f"{raw} is out of range: use a year from 1900 to 2999")
    return day


def asked_when(
    request: Request,
    services: Services,
    viewer: Viewer,
    as_at_name: str = "as_at",
    *,
    or_else: str | None = None,
    public: bool = False,
) -> When:
    """The page's time coordinates: `as_at_name` (else `or_else`, else today) and, for those
    who may ask it, `known_at` (refused as the API refuses it); with `public`, a page that
    answers it, `public_at` (refused as the API refuses it)."""
    as_at = (
        query_date(request, as_at_name)
        or (query_date(request, or_else) if or_else else None)
        or clock.today()
    )
    text = request.query_params.get("known_at", "").strip()
    known_at = known_at_for(viewer.role, "query.known_at", text or None)
    public_at = public_at_for(viewer.role, query_date(request, "public_at")) if public else None
    # The log's head counts everyone's records: shown only to those who read everything.
    position = services.rio.position() if viewer.sees_log_position else None
    return When(as_at, known_at, text, clock.now(), position, public_at)


def require_review(services: Services, viewer: Viewer, review: str) -> set[int] | None:
    """The recommendation numbers of `review` this viewer reads (None: all of them).

    A review the viewer reads nothing of is answered exactly as one that does not exist.
    """
    numbers = readable_numbers(services, viewer, review)
    found = review_exists(services.read_model, review) if numbers is None else bool(numbers)
    if found:
        return numbers
    raise NotFound(f"there is no review {review!r}: see the list of reviews at {PREFIX}")


def readable_reviews(services: Services, viewer: Viewer) -> list[str]:
    """The reviews this viewer reads anything of, in order."""
    if viewer.principal is None or viewer.reads_all:
        return services.read_model.reviews()
    principal = viewer.principal
    return sorted(owned_by_review(services.read_model, principal.role, principal.owner))


def readable_scope_of(services: Services, viewer: Viewer) -> Scope | None:
    """What this viewer reads, review by review (None: everything); the rule is
    `rio.domain.access.may_read`, as for the API."""
    if viewer.principal is None or viewer.reads_all:
        return None
    return readable_scope(services.read_model, viewer.principal.role, viewer.principal.owner)


def readable_numbers(services: Services, viewer: Viewer, review: str) -> set[int] | None:
    """The recommendation numbers this viewer may read, or None for all of them."""
    if viewer.principal is None or viewer.reads_all:
        return None
    principal = viewer.principal
    return owned(services.read_model, review, principal.role, principal.owner)


def narrow(programme: Programme, review: str, numbers: set[int] | None) -> Programme:
    """The programme cut to one review's recommendations (and of those, only `numbers`)."""
    recs = tuple(
        r
        for r in programme.recommendations
        if r.review == review and (numbers is None or r.number in numbers)
    )
    return dataclasses.replace(programme, recommendations=recs)


def page_context(viewer: Viewer, **context: Any) -> dict[str, Any]:
    return {"viewer": viewer, "prefix": PREFIX, **context}
