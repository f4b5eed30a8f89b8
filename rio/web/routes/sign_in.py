"""Signing in and out of the board with an API key, and sending a visitor to sign in.

The session cookie names the key, never holds it (`rio.web.session`). Both forms carry a
token that only the board's own pages hold; wrong keys are throttled as the API throttles
them (`services.failed_auth`, one budget per address and per key id for both doors).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from rio.api.deps import ServicesDep
from rio.api.middleware import client_address
from rio.api.problems import TITLES, ApiProblem
from rio.api.ratelimit import TooManyFailures
from rio.web.pages import render
from rio.web.routes.common import PREFIX
from rio.web.session import (
    COOKIE,
    FORM_FIELD,
    READ_ROLES,
    Sessions,
    SessionsDep,
    SignInRequired,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/sign-in")
def sign_in_form(request: Request, board_sessions: SessionsDep) -> Response:
    message = request.query_params.get("message", "")[:200]
    return _sign_in_page(
        request, board_sessions, _next(request.query_params.get("next")), notice=message
    )


@router.post("/sign-in")
async def sign_in(request: Request, services: ServicesDep, board_sessions: SessionsDep) -> Response:
    _same_origin(request)
    form = await _form(request)
    if not board_sessions.sign_in_token_holds(request, form.get(FORM_FIELD, "")):
        return _refused(
            request,
            "this sign-in form was not sent from the board's own sign-in page, or it has "
            "expired: open the sign-in page again and sign in there",
            back=f"{PREFIX}/sign-in",
        )
    key = form.get("key", "").strip()
    target = _next(form.get("next", ""))
    if not key:
        return _sign_in_page(
            request, board_sessions, target, error="Enter your API key", status=422
        )
    try:
        principal = await run_in_threadpool(
            services.failed_auth.authenticate,
            services.keys.authenticate,
            key,
            client_address(request.scope),
        )
    except TooManyFailures as throttled:
        response = _sign_in_page(
            request, board_sessions, target, error=_sentence(str(throttled)), status=429
        )
        response.headers["Retry-After"] = throttled.retry_after
        return response
    if principal is None:
        return _sign_in_page(
            request,
            board_sessions,
            target,
            error="That key is not valid or has been revoked: check you pasted all of it, "
            "or ask an administrator for a key",
            status=401,
        )
    if principal.role not in READ_ROLES:
        return _sign_in_page(
            request,
            board_sessions,
            target,
            error=f"A {principal.role.value} key cannot read the board: sign in with a "
            "secretariat, auditor or owner key",
            status=403,
        )
    response = RedirectResponse(target, status_code=303)
    board_sessions.start(request, response, principal.key_id)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, board_sessions: SessionsDep) -> Response:
    """Ends the session for good: a copy of its cookie is refused from now on."""
    _same_origin(request)
    form = await _form(request)
    session = await run_in_threadpool(board_sessions.read, request)
    if session is not None and not board_sessions.form_token_holds(
        session, form.get(FORM_FIELD, "")
    ):
        return _refused(
            request,
            "this sign-out was not sent from a board page: use the Sign out button on the "
            "board to sign out",
            back=f"{PREFIX}/",
        )
    response = RedirectResponse(
        f"{PREFIX}/sign-in?" + urlencode({"message": "You have signed out."}), status_code=303
    )
    # With no session (expired, or ended already) there is nothing to end but the cookie.
    await run_in_threadpool(board_sessions.end, request, response, session)
    return response


def to_sign_in(request: Request, error: Exception) -> Response:
    """The handler of `SignInRequired`: to the sign-in page, and back here afterwards."""
    message = error.message if isinstance(error, SignInRequired) else None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target, **({"message": message.capitalize() + "."} if message else {})}
    response = RedirectResponse(f"{PREFIX}/sign-in?{urlencode(query)}", status_code=303)
    if message and COOKIE in request.cookies:
        Sessions.forget(request, response)
    return response


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


async def _form(request: Request) -> dict[str, str]:
    """The posted form's fields (the first value of each)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _refused(request: Request, detail: str, *, back: str) -> Response:
    """A board POST without its form token: a plain 403 page, and nothing done."""
    return render(
        request,
        "error.html",
        {
            "prefix": PREFIX,
            "viewer": None,
            "status": 403,
            "title": TITLES.get(403, "Forbidden"),
            "detail": _sentence(detail) + ".",
            "problems": [],
            "form": None,
            "back": (back, "Go back to the form"),
        },
        status_code=403,
    )


def _sign_in_page(
    request: Request,
    board_sessions: Sessions,
    target: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    token, new_nonce = board_sessions.sign_in_token(request)
    response = render(
        request,
        "sign_in.html",
        {
            "prefix": PREFIX,
            "viewer": None,
            "next": target,
            "error": error,
            "notice": notice,
            "form_token": token,
        },
        status_code=status,
    )
    if new_nonce is not None:
        board_sessions.set_form_cookie(request, response, new_nonce)
    return response
