"""The whole programme: status board, promised-vs-delivered, and the tracker export."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from rio.api.deps import (
    AsAt,
    CurrentPrincipal,
    KnownAt,
    PagingDep,
    Replay,
    ServicesDep,
    log_position,
    require,
)
from rio.api.params import QueryDate
from rio.api.problems import documented, field_problem
from rio.api.schemas import ReportPage, StatusPage
from rio.api.services import Services
from rio.application.keys import Principal
from rio.domain import access, clock
from rio.domain.access import EXPORTERS, READERS
from rio.domain.errors import DatesOutOfOrder
from rio.domain.state import Programme
from rio.reports.answers import promised_vs_delivered, status, to_json
from rio.reports.tracker import file_name, to_csv, to_xlsx
from rio.reports.tracker import rows as tracker_rows

router = APIRouter(tags=["programme"], responses=documented(401, 403, 422, 429, 503))

ReviewFilter = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Only this review's recommendations.",
        examples=["messenger-2022"],
    ),
]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible(
    services: Services, principal: Principal, programme: Programme, review: str | None
) -> Programme:
    """The programme narrowed to one review, and for an owner key to what its owner owns."""
    recs = programme.recommendations
    if review is not None:
        wanted = review.strip().casefold()
        recs = tuple(r for r in recs if r.review.casefold() == wanted)
    if not access.reads_all(principal.role):
        # Whose a recommendation is, is decided as things stand now, whatever the dates asked.
        owned: set[UUID] = {
            r.id
            for r in services.current().recommendations
            if access.may_read(principal.role, principal.owner, access.owners_of(r))
        }
        recs = tuple(r for r in recs if r.id in owned)
    return dataclasses.replace(programme, recommendations=recs)


@router.get(
    "/status",
    response_model=StatusPage,
    dependencies=[Depends(require(*READERS))],
    summary="Every recommendation's RAG as at a date, as known at a moment, with the reason",
)
def get_status(
    principal: CurrentPrincipal,
    services: ServicesDep,
    as_at: AsAt,
    known_at: KnownAt,
    replay: Replay,
    paging: PagingDep,
    review: ReviewFilter = None,
) -> dict[str, Any]:
    programme = _visible(
        services, principal, services.programme(as_at, known_at, replay=replay), review
    )
    rows = status(programme, services.policy)
    page = rows[paging.offset : paging.offset + paging.page_size]
    return {
        "as_at": as_at,
        "known_at": known_at,
        "position": log_position(services, principal.role),
        "page": paging.page,
        "page_size": paging.page_size,
        "total": len(rows),
        "next_page": paging.next_page(len(rows)),
        "recommendations": [
            {
                "review": r.state.review,
                "number": r.state.number,
                "title": r.state.title,
                "rating": to_json(r.rating),
                "commitments": to_json(r.commitments),
                "assessments": to_json(r.state.assessments),
                "accountable_owner": r.state.accountable_owner,
            }
            for r in page
        ],
    }


@router.get(
    "/reports/promised-vs-delivered",
    response_model=ReportPage,
    dependencies=[Depends(require(*READERS))],
    summary="What was promised as at one date against what had happened by another",
)
def get_promised_vs_delivered(
    principal: CurrentPrincipal,
    services: ServicesDep,
    promised_as_at: Annotated[
        QueryDate,
        Query(description="Take promises as they stood on this date.", examples=["2023-11-30"]),
    ],
    known_at: KnownAt,
    replay: Replay,
    paging: PagingDep,
    delivered_as_at: Annotated[
        QueryDate | None,
        Query(
            description="Judge outcomes as at this date (default today).", examples=["2024-10-01"]
        ),
    ] = None,
    review: ReviewFilter = None,
) -> dict[str, Any]:
    delivered = delivered_as_at or clock.today()
    then = _visible(
        services, principal, services.programme(promised_as_at, known_at, replay=replay), review
    )
    later = services.programme(delivered, known_at, replay=replay)
    try:
        report = promised_vs_delivered(then, later)
    except DatesOutOfOrder as error:  # the report's refusal, named as this query's field
        raise field_problem("query.delivered_as_at", str(error)) from None
    data: dict[str, Any] = to_json(report)
    rows = data.pop("rows")
    return {
        **data,
        "review": review,
        "position": log_position(services, principal.role),
        "page": paging.page,
        "page_size": paging.page_size,
        "total": len(rows),
        "next_page": paging.next_page(len(rows)),
        "rows": rows[paging.offset : paging.offset + paging.page_size],
    }


@router.get(
    "/exports/tracker.csv",
    dependencies=[Depends(require(*EXPORTERS))],
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    summary="The tracker (recommendation, actions, source, extent of implementation, notes) as CSV",
)
def export_csv(
    principal: CurrentPrincipal,
    services: ServicesDep,
    as_at: AsAt,
    known_at: KnownAt,
    replay: Replay,
    review: ReviewFilter = None,
) -> Response:
    programme = _visible(
        services, principal, services.programme(as_at, known_at, replay=replay), review
    )
    name = file_name(programme, as_at, "csv", review)
    return Response(
        to_csv(
            tracker_rows(programme, services.policy, services.runtime.review_register.registered())
        ),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/exports/tracker.xlsx",
    dependencies=[Depends(require(*EXPORTERS))],
    response_class=Response,
    responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
    summary="The same tracker as an Excel workbook",
)
def export_xlsx(
    principal: CurrentPrincipal,
    services: ServicesDep,
    as_at: AsAt,
    known_at: KnownAt,
    replay: Replay,
    review: ReviewFilter = None,
) -> Response:
    programme = _visible(
        services, principal, services.programme(as_at, known_at, replay=replay), review
    )
    name = file_name(programme, as_at, "xlsx", review)
    return Response(
        to_xlsx(
            tracker_rows(programme, services.policy, services.runtime.review_register.registered()),
            title=f"Tracker {as_at}",
        ),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
