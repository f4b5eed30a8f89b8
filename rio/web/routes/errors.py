"""Error pages: on board paths the API's problem+json answers become HTML pages.

Built from the same problem the API would answer, so a page says what to change, never a
500; but in the form's words (its labels, never a parameter path such as `query.as_at`),
with GOV.UK's error summary above the form again, holding what was typed. The page keeps
the header of the viewer it was asked by (a public visitor stays in the public view), and
its links lead to pages that exist.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from rio.api.problems import MEDIA_TYPE, TITLES
from rio.domain.errors import DomainError
from rio.web.date_fields import DATES, Canonical, problem_message, raw_parts
from rio.web.pages import render
from rio.web.routes.common import PREFIX, require_review
from rio.web.session import Viewer, sessions, signed_in, viewer

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


@dataclass(frozen=True)
class Problem:
    """One line of the error summary: what is wrong, and the field it links to."""

    message: str
    anchor: str | None


@dataclass(frozen=True)
class Form:
    """The page's date form, asked again with what was typed and where it went wrong."""

    action: str
    kind: str  # "board", "recommendation" or "promised"
    errors: dict[str, str]
    raw: dict[str, Any]


def as_page(handler: Handler) -> Callable[[Request, Exception], Awaitable[Response]]:
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
        reader = _viewer(request)
        problems, errors = _problems(problem.get("errors") or [])
        form = _form(request, errors) if errors else None
        if problems:  # the summary says what is wrong, in the fields' words
            many = "s" if len(errors) > 1 else ""
            detail = (
                f"Check the date{many} below and try again."
                if form is not None
                else " ".join(p.message for p in problems)
            )
        page = render(
            request,
            "error.html",
            {
                "prefix": PREFIX,
                "viewer": reader,
                "status": status,
                "title": problem.get("title") or TITLES.get(status, "Error"),
                "detail": detail,  # as the API words it; the page capitalises it
                "problems": problems,
                "form": form,
                "back": _back(request, reader, status),
            },
            status_code=status,
        )
        if "retry-after" in response.headers:
            page.headers["Retry-After"] = response.headers["retry-after"]
        return page

    return handle


def to_canonical(request: Request, error: Exception) -> Response:
    """The handler of `Canonical`: the page asked with its dates joined."""
    assert isinstance(error, Canonical)
    return RedirectResponse(error.url, status_code=303)


def _problems(errors: list[dict[str, Any]]) -> tuple[list[Problem], dict[str, str]]:
    problems, by_name = [], {}
    for e in errors:
        name, label, message = problem_message(str(e.get("field", "")), str(e.get("message", "")))
        if label is None:
            problems.append(Problem(message, None))
            continue
        by_name[name] = message
        problems.append(Problem(message, f"{name}-day" if name in DATES else name))
    return problems, by_name


def _form(request: Request, errors: dict[str, str]) -> Form | None:
    """The form of the page asked, if it has one: the board, a recommendation, the report."""
    parts = request.url.path.removeprefix(PREFIX + "/").split("/")
    if len(parts) == 1 and parts[0]:
        kind = "board"
    elif len(parts) == 2 and parts[1] == "promised-vs-delivered":
        kind = "promised"
    elif len(parts) == 2 and parts[1].isdigit():
        kind = "recommendation"
    else:
        return None
    params = request.query_params
    raw: dict[str, Any] = {name: raw_parts(params, name) for name in DATES}
    if kind == "promised" and raw["delivered_as_at"] is None:
        raw["delivered_as_at"] = raw["as_at"]
    raw["known_at"] = params.get("known_at", "")
    return Form(request.url.path, kind, errors, raw)


def _viewer(request: Request) -> Viewer | None:
    """Who asked: as the page's own dependency found them, or found again for a path that
    has no page (a problem finding them leaves the header without an account)."""
    found = getattr(request.state, "board_viewer", None)
    if isinstance(found, Viewer):
        return found
    try:
        services = request.app.state.services
        board = sessions(request)
        return viewer(request, services, board, signed_in(request, services, board))
    except Exception:  # signed out, a revoked key, a limit: a page without an account
        return None


def _back(request: Request, reader: Viewer | None, status: int) -> tuple[str, str] | None:
    """A link back that leads somewhere real: for a page that is not there, the review's
    board (if the reader may read it); else this page without the options asked."""
    path = request.url.path
    if status != 404:
        if request.url.query and _is_page(path):
            return path, "Go back to this page without the options"
        return None
    parts = path.removeprefix(PREFIX + "/").split("/")
    if len(parts) >= 2 and parts[0] and reader is not None:
        try:
            require_review(request.app.state.services, reader, parts[0])
        except DomainError:
            return None
        return f"{PREFIX}/{parts[0]}", f"Go to the board of {parts[0]}"
    return None


def _is_page(path: str) -> bool:
    """Whether `path` is a page a person can go back to (not a download, not a form's POST)."""
    return not path.endswith((".csv", ".xlsx")) and path != f"{PREFIX}/sign-out"


def _is_board(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


__all__ = ["as_page", "to_canonical"]
