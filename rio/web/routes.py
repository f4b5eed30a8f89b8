"""The board's routes, and `install`, which adds them to the API's app.

Pages read the same read model and reports as the API. Every page takes `as_at` (a date)
and, for auditors, `known_at`; bad input is a 4xx page that says what to change, built
from the same problem the API would answer, never a 500.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from rio.aggregates.recommendation import recommendation_id
from rio.api.deps import ServicesDep, parse_known_at
from rio.api.problems import MEDIA_TYPE, TITLES, ApiProblem, field_problem
from rio.api.services import Services
from rio.domain import clock
from rio.domain.errors import NotFound
from rio.domain.rag import rate_commitment, rate_recommendation
from rio.domain.replay import Programme, RecommendationState
from rio.reports.answers import promised_vs_delivered, timelines
from rio.reports.tracker import rows as tracker_rows
from rio.reports.tracker import to_csv, to_xlsx
from rio.web import chart
from rio.web.board import board, owned, review_exists
from rio.web.pages import HEADERS, When, make_templates, render
from rio.web.session import (
    COOKIE,
    READ_ROLES,
    CurrentViewer,
    Sessions,
    SessionsDep,
    SignInRequired,
    Viewer,
)

PREFIX = "/board"
STATIC = Path(__file__).parent / "static"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def install(app: FastAPI) -> None:
    """Add the board to `app`: call after the API's exception handlers are installed."""
    services: Services = app.state.services
    app.state.board_sessions = Sessions(services.settings)
    app.state.board_templates = make_templates()
    # Mounted before the router, so /board/static/... is never taken for /board/{review}/...
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="board-static")
    app.include_router(router)
    for kind, handler in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = _as_page(handler)
    app.add_exception_handler(SignInRequired, _to_sign_in)


# --- parameters --------------------------------------------------------------------------------


def _date(request: Request, name: str) -> date | None:
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


def _when(request: Request, services: Services, viewer: Viewer, as_at_name: str = "as_at") -> When:
    as_at = _date(request, as_at_name) or clock.today()
    text = request.query_params.get("known_at", "").strip()
    if text and not viewer.may_ask_known_at:
        raise ApiProblem(
            403,
            "the known-at view (what RIO had recorded by a past moment) is for auditors and "
            "the secretariat: sign in with such a key, or remove known_at from the address",
            slug="forbidden",
        )
    known_at = parse_known_at("query.known_at", text or None)
    if known_at is not None and known_at > clock.now():
        raise field_problem(
            "query.known_at", f"{text!r} is in the future: RIO cannot know what it has not recorded"
        )
    return When(as_at, known_at, text, clock.now(), services.rio.position())


def _review_exists(services: Services, review: str) -> None:
    if not review_exists(services.read_model, review):
        raise NotFound(f"there is no review {review!r}: see the list of reviews at {PREFIX}")


def _visible(services: Services, viewer: Viewer, review: str) -> set[int] | None:
    """The recommendation numbers this viewer may read, or None for all of them."""
    if viewer.owner is None:
        return None
    return owned(services.read_model, review, viewer.owner)


def _base(viewer: Viewer, **context: Any) -> dict[str, Any]:
    return {"viewer": viewer, "prefix": PREFIX, **context}


# --- pages ----------------------------------------------------------------------------------


@router.get("")
@router.get("/")
def reviews(request: Request, viewer: CurrentViewer, services: ServicesDep) -> Response:
    services.catch_up()
    return render(
        request,
        "index.html",
        _base(viewer, reviews=services.read_model.reviews(), now=clock.now()),
    )


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    message = request.query_params.get("message", "")[:200]
    return _sign_in_page(request, _next(request.query_params.get("next")), notice=message)


@router.post("/sign-in")
async def sign_in(request: Request, services: ServicesDep, board_sessions: SessionsDep) -> Response:
    _same_origin(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    key = form.get("key", [""])[0].strip()
    target = _next(form.get("next", [""])[0])
    if not key:
        return _sign_in_page(request, target, error="Enter your API key", status=422)
    principal = await run_in_threadpool(services.keys.authenticate, key)
    if principal is None:
        return _sign_in_page(
            request,
            target,
            error="That key is not valid or has been revoked: check you pasted all of it, "
            "or ask an administrator for a key",
            status=401,
        )
    if principal.role not in READ_ROLES:
        return _sign_in_page(
            request,
            target,
            error=f"A {principal.role.value} key cannot read the board: sign in with a "
            "secretariat, auditor or owner key",
            status=403,
        )
    response = RedirectResponse(target, status_code=303)
    board_sessions.start(request, response, principal.key_id)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    _same_origin(request)
    response = RedirectResponse(
        f"{PREFIX}/sign-in?" + urlencode({"message": "You have signed out."}), status_code=303
    )
    Sessions.end(request, response)
    return response


@router.get("/{review}")
def board_page(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    when = _when(request, services, viewer)
    services.catch_up()
    _review_exists(services, review)
    rows = board(
        services.read_model,
        review,
        when.as_at,
        when.known_at,
        numbers=_visible(services, viewer, review),
    )
    return render(request, "board.html", _base(viewer, review=review, when=when, rows=rows))


@router.get("/{review}/promised-vs-delivered")
def promised_page(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    promised_as_at = _date(request, "promised_as_at")
    when = _when(request, services, viewer, as_at_name="delivered_as_at")
    services.catch_up()
    _review_exists(services, review)
    report = None
    if promised_as_at is not None:
        if when.as_at < promised_as_at:
            raise field_problem(
                "query.delivered_as_at",
                f"{when.as_at} is before promised_as_at {promised_as_at}: outcomes are judged "
                "after the promises were taken",
            )
        numbers = _visible(services, viewer, review)
        then = _narrow(services.programme(promised_as_at, when.known_at), review, numbers)
        later = services.programme(when.as_at, when.known_at)
        report = promised_vs_delivered(then, later, review)
    return render(
        request,
        "promised.html",
        _base(
            viewer,
            review=review,
            when=when,
            promised_as_at=promised_as_at,
            report=report,
            export_query=when.query(),
        ),
    )


@router.get("/{review}/tracker.csv")
def tracker_csv(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    programme, when = _export(request, review, viewer, services)
    return Response(
        to_csv(tracker_rows(programme)),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(review, when, "csv"),
    )


@router.get("/{review}/tracker.xlsx")
def tracker_xlsx(
    request: Request, review: str, viewer: CurrentViewer, services: ServicesDep
) -> Response:
    programme, when = _export(request, review, viewer, services)
    return Response(
        to_xlsx(tracker_rows(programme), title=f"Tracker {when.as_at}"),
        media_type=XLSX,
        headers=_attachment(review, when, "xlsx"),
    )


@router.get("/{review}/{number}")
def recommendation_page(
    request: Request,
    review: str,
    number: str,
    viewer: CurrentViewer,
    services: ServicesDep,
) -> Response:
    if not number.isdigit() or not 1 <= int(number) <= 100_000:
        raise NotFound(f"there is no page at {request.url.path}")
    n = int(number)
    when = _when(request, services, viewer)
    rec_id = recommendation_id(review, n)
    missing = f"review {review!r} has no recommendation {n}"
    current = services.current(only=rec_id).recommendations
    if not current or not _may_read(services, viewer, current[0]):
        raise NotFound(missing)
    found = services.programme(when.as_at, when.known_at, only=rec_id).recommendations
    if not found:
        known = f", as RIO knew it at {when.known_at.isoformat()}" if when.known_at else ""
        raise NotFound(
            f"recommendation {n} of review {review!r} was not yet registered as at "
            f"{when.as_at}{known}: it was registered on {current[0].registered_on}"
        )
    state = found[0]
    rating, _ = rate_recommendation(state, when.as_at)
    lines = timelines(state)
    return render(
        request,
        "recommendation.html",
        _base(
            viewer,
            review=review,
            when=when,
            rec=state,
            rating=rating,
            commitments=[
                (c, rate_commitment(c, when.as_at), state.owner_of(c), line)
                for c, line in zip(state.commitments, lines, strict=True)
            ],
            closed=[c for c in state.commitments if c.delivered or c.withdrawn],
            chart=chart.slippage_chart(lines, when.as_at),
            legend=chart.legend(lines, when.as_at),
        ),
    )


# --- helpers ----------------------------------------------------------------------------------


def _may_read(services: Services, viewer: Viewer, state: RecommendationState) -> bool:
    """Owner keys read only their own recommendations, exactly as the API decides it."""
    return viewer.principal is None or services.owns(viewer.principal, state)


def _narrow(programme: Programme, review: str, numbers: set[int] | None) -> Programme:
    recs = tuple(
        r
        for r in programme.recommendations
        if r.review == review and (numbers is None or r.number in numbers)
    )
    return dataclasses.replace(programme, recommendations=recs)


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
    when = _when(request, services, viewer)
    services.catch_up()
    _review_exists(services, review)
    return _narrow(services.programme(when.as_at, when.known_at), review, None), when


def _attachment(review: str, when: When, suffix: str) -> dict[str, str]:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", review)
    return {
        **HEADERS,
        "Content-Disposition": f'attachment; filename="rio-tracker-{name}-{when.as_at}.{suffix}"',
    }


def _next(target: str | None) -> str:
    """Where to go after signing in: a board page of this site, never elsewhere."""
    if not target or not target.startswith(PREFIX) or target.startswith("//"):
        return f"{PREFIX}/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return f"{PREFIX}/"
    return target


def _same_origin(request: Request) -> None:
    """A form posted from another site is refused (with SameSite=Lax, a second line)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).netloc != request.headers.get("host", ""):
        raise ApiProblem(
            403, "this form was sent from another site: use the board's own page", slug="forbidden"
        )


def _sign_in_page(
    request: Request,
    target: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "sign_in.html",
        {"prefix": PREFIX, "viewer": None, "next": target, "error": error, "notice": notice},
        status_code=status,
    )


def _to_sign_in(request: Request, error: Exception) -> Response:
    message = error.message if isinstance(error, SignInRequired) else None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target, **({"message": message.capitalize() + "."} if message else {})}
    response = RedirectResponse(f"{PREFIX}/sign-in?{urlencode(query)}", status_code=303)
    if message and COOKIE in request.cookies:
        Sessions.end(request, response)
    return response


def _is_board(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


def _as_page(handler: Handler) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The API's own handler, its problem+json turned into an HTML page on board paths."""

    async def handle(request: Request, error: Exception) -> Response:
        answer = handler(request, error)
        response = await answer if inspect.isawaitable(answer) else answer
        if not _is_board(request.url.path) or response.media_type != MEDIA_TYPE:
            return response
        problem = json.loads(bytes(response.body))
        status = int(problem.get("status", response.status_code))
        detail = str(problem.get("detail", ""))
        if isinstance(error, StarletteHTTPException) and status == 404:
            detail = f"there is no page at {request.url.path}"
        page = render(
            request,
            "error.html",
            {
                "prefix": PREFIX,
                "viewer": None,
                "status": status,
                "title": problem.get("title") or TITLES.get(status, "Error"),
                "detail": detail,
                "errors": problem.get("errors") or [],
                "back": request.url.path,
            },
            status_code=status,
        )
        if "retry-after" in response.headers:
            page.headers["Retry-After"] = response.headers["retry-after"]
        return page

    return handle
