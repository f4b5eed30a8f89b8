"""Error pages: on board paths the API's problem+json answers become HTML pages.

Built from the same problem the API would answer, so a page says what to change, never a 500.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from rio.api.problems import MEDIA_TYPE, TITLES
from rio.web.pages import render
from rio.web.routes.common import PREFIX

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


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


def _is_board(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
