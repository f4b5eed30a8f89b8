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
    PublicAt,
    Replay,
    ServicesDep,
    known_at_for,
    log_position,
    require,
)
from rio.api.params import QueryDate
from rio.api.problems import documented, field_problem
from rio.api.schemas import ReportPage, StatusPage
from rio.api.services import Services
from rio.application.keys import Principal
from rio.audit.stamp import stamp
from rio.domain import access, clock
from rio.domain.access import EXPORTERS, READERS, REPLAYERS
from rio.domain.errors import DatesOutOfOrder
from rio.domain.state import Programme
from rio.reports.answers import promised_vs_delivered, status, to_json
from rio.reports.restatements import Knowledge, restatements
from rio.reports.tracker import file_name, sheet_title, to_csv, to_xlsx, trailer
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
    public_at: PublicAt = None,
) -> dict[str, Any]:
    programme = _visible(
        services,
        principal,
        services.programme(as_at, known_at, replay=replay, public_at=public_at),
        review,
    )
    rows = status(programme, services.policy)
    page = rows[paging.offset : paging.offset + paging.page_size]
    return {
        "as_at": as_at,
        "known_at": known_at,
        "public_at": public_at,
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
    public_at: PublicAt = None,
) -> dict[str, Any]:
    delivered = delivered_as_at or clock.today()
    then = _visible(
        services,
        principal,
        services.programme(promised_as_at, known_at, replay=replay, public_at=public_at),
        review,
    )
    later = services.programme(delivered, known_at, replay=replay, public_at=public_at)
    try:
        report = promised_vs_delivered(then, later)
    except DatesOutOfOrder as error:  # the report's refusal, named as this query's field
        raise field_problem("query.delivered_as_at", str(error)) from None
    data: dict[str, Any] = to_json(report)
    rows = data.pop("rows")
    return {
        **data,
        "review": review,
        "public_at": public_at,
        "position": log_position(services, principal.role),
        "page": paging.page,
        "page_size": paging.page_size,
        "total": len(rows),
        "next_page": paging.next_page(len(rows)),
        "rows": rows[paging.offset : paging.offset + paging.page_size],
    }


@router.get(
    "/reports/restatements",
    dependencies=[Depends(require(*REPLAYERS))],
    summary="Each answer as at a date that changed between two knowledge dates, and why",
)
def get_restatements(
    principal: CurrentPrincipal,
    services: ServicesDep,
    as_at: Annotated[
        QueryDate,
        Query(description="The past date whose answers are compared.", examples=["2024-07-01"]),
    ],
    known_at: KnownAt,
    public_at: PublicAt,
    against_known_at: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The later recorded-time knowledge date (default now).",
            examples=["2026-01-02"],
        ),
    ] = None,
    against_public_at: Annotated[
        QueryDate | None,
        Query(
            description="The later publication-date knowledge date (default: no limit).",
            examples=["2024-11-21"],
        ),
    ] = None,
) -> dict[str, Any]:
    """The earlier knowledge date is `known_at` and/or `public_at`; the later one is
    `against_known_at` and/or `against_public_at`. Answered by the fold over every event."""
    earlier = Knowledge(known_at=known_at, public_at=public_at)
    later = Knowledge(
        known_at=known_at_for(principal.role, "query.against_known_at", against_known_at),
        public_at=against_public_at,
    )
    events = list(services.rio.all_events())
    try:
        report = restatements(events, as_at, earlier, later, services.policy)
    except DatesOutOfOrder as error:
        raise field_problem("query.against_known_at", str(error)) from None
    return {**to_json(report), "position": log_position(services, principal.role)}


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
    public_at: PublicAt = None,
) -> Response:
    programme = _visible(
        services,
        principal,
        services.programme(as_at, known_at, replay=replay, public_at=public_at),
        review,
    )
    name = file_name(programme, as_at, "csv", review, public_at)
    return Response(
        to_csv(
            tracker_rows(programme, services.policy, services.runtime.review_register.registered()),
            trailer(_checkpoint(services), public_at),
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
    public_at: PublicAt = None,
) -> Response:
    programme = _visible(
        services,
        principal,
        services.programme(as_at, known_at, replay=replay, public_at=public_at),
        review,
    )
    name = file_name(programme, as_at, "xlsx", review, public_at)
    return Response(
        to_xlsx(
            tracker_rows(programme, services.policy, services.runtime.review_register.registered()),
            title=sheet_title(as_at, public_at),
            checkpoint=trailer(_checkpoint(services), public_at),
        ),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _checkpoint(services: Services) -> list[list[str]]:
    """The checkpoint the export rests on (README "Proofs, checkpoints and witnesses")."""
    return stamp(services.rio, services.settings.audit_signing_key_file).rows()
