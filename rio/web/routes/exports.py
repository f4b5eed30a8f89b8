"""The tracker export of one review, as CSV and XLSX, from the board."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from rio.api.deps import ServicesDep
from rio.api.problems import ApiProblem
from rio.api.services import Services
from rio.audit.stamp import stamp
from rio.domain.state import Programme
from rio.projections.reviews import ReviewInfo
from rio.reports.tracker import file_name, sheet_title, to_csv, to_xlsx, trailer
from rio.reports.tracker import rows as tracker_rows
from rio.web.pages import HEADERS, When
from rio.web.routes.common import PREFIX, asked_when, narrow, require_review
from rio.web.session import CurrentViewer, Viewer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/{review}/tracker.csv")
def tracker_csv(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    programme, when = _export(request, review, viewer, services)
    return Response(
        to_csv(
            tracker_rows(programme, services.policy, _reviews(services)),
            trailer(_checkpoint(services), when.public_at),
        ),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(review, when, "csv"),
    )


@router.get("/{review}/tracker.xlsx")
def tracker_xlsx(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    programme, when = _export(request, review, viewer, services)
    return Response(
        to_xlsx(
            tracker_rows(programme, services.policy, _reviews(services)),
            title=sheet_title(when.as_at, when.public_at),
            checkpoint=trailer(_checkpoint(services), when.public_at),
        ),
        media_type=XLSX,
        headers=_attachment(review, when, "xlsx"),
    )


def _export(
    request: Request, review: str, viewer: Viewer, services: Services
) -> tuple[Programme, When]:
    if not viewer.may_export:
        raise ApiProblem(
            403,
            "the tracker export is for auditors, the secretariat and (when the board is "
            "public) the public; an owner key reads its own recommendations on the board",
            slug="forbidden",
        )
    when = asked_when(request, services, viewer, public=True)
    services.catch_up()
    require_review(services, viewer, review)
    programme = services.programme(when.as_at, when.known_at, public_at=when.public_at)
    return narrow(programme, review, None), when


def _checkpoint(services: Services) -> list[list[str]]:
    return stamp(services.rio, services.settings.audit_signing_key_file).rows()


def _reviews(services: Services) -> dict[str, ReviewInfo]:
    return services.runtime.review_register.registered()


def _attachment(review: str, when: When, suffix: str) -> dict[str, str]:
    name = file_name(Programme(when.as_at, None), when.as_at, suffix, review, when.public_at)
    return {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
