"""ASGI middleware: the request log line and common headers, authentication with rate limiting
and throttled failures, the body limit.

Pure ASGI (not BaseHTTPMiddleware) so context variables bound here reach the route and
the log line sees what the route recorded in the request state.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import anyio.to_thread
import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rio.api.problems import problem_response
from rio.api.ratelimit import TooManyFailures, retry_after
from rio.api.services import Services
from rio.application.keys import Principal

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
CLIENT_CLOSED = 499  # nginx's "client closed request": no answer was sent, none was wanted


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def client_address(scope: Scope) -> str | None:
    """The peer's address (the proxy's, unless uvicorn is told to trust forwarded headers)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def _cacheable(scope: Scope) -> bool:
    """Only the board's static files may be cached: every other answer holds what a key may
    read, as of now."""
    return isinstance(scope.get("endpoint"), StaticFiles)


class RequestLog:
    """Assigns the request id (X-Request-ID, in and out), sets the headers every answer carries,
    and writes one line per request.

    A client that goes away before an answer is logged as 499 at info level: nothing failed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state = _state(scope)
        state["request_id"] = request_id
        fields: dict[str, Any] = {}
        state["log"] = fields
        status = 500
        answered = disconnected = False
        started = time.perf_counter()

        async def receive_watching() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["X-Content-Type-Options"] = "nosniff"
                if "cache-control" not in headers and not _cacheable(scope):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive_watching, send_with_id)
            except ClientDisconnect:
                # Raised by a body read after the client left: nobody is there to answer.
                disconnected = True
            finally:
                if disconnected and not answered:
                    status = CLIENT_CLOSED
                    fields["client_disconnected"] = True
                route = scope.get("route")
                principal: Principal | None = state.get("principal")
                line = {
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": getattr(route, "path", None),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "principal": principal.name if principal else None,
                    "key_id": principal.key_id if principal else None,
                    "role": principal.role.value if principal else None,
                    **fields,
                }
                logger = structlog.get_logger("rio.api")
                (logger.error if status >= 500 else logger.info)("request", **line)


def presented_key(headers: Headers) -> str | None:
    """The key from `Authorization: Bearer KEY`, else from `X-API-Key`."""
    authorization = headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


def undeclared_method(scope: Scope) -> bool:
    """The path is a route, but not for this method: the router answers 405 with Allow.

    Answered before authentication: it runs no endpoint and says only which methods a route
    takes, which /openapi.json documents anyway; routes match on their shape, never on data,
    so it tells nothing about what is recorded.
    """
    router = getattr(scope.get("app"), "router", None)
    partial = False
    for route in getattr(router, "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return False
        partial = partial or match is Match.PARTIAL
    return partial


class Authenticate:
    """Every route but the public ones needs a valid, unrevoked key; each key is rate-limited,
    and failed attempts are throttled per client address and per key id."""

    def __init__(
        self,
        app: ASGIApp,
        services: Services,
        public: frozenset[str],
        own_auth: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.services = services
        self.public = public
        # Path prefixes that authenticate by themselves (the board's session cookie).
        self.own_auth = own_auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or (scope["method"] in ("GET", "HEAD") and scope["path"] in self.public)
            or any(scope["path"] == p or scope["path"].startswith(p + "/") for p in self.own_auth)
            or undeclared_method(scope)
        ):
            await self.app(scope, receive, send)
            return
        presented = presented_key(Headers(scope=scope))
        if presented is None:
            response = problem_response(
                401,
                "this request needs an API key: send `Authorization: Bearer <key>` "
                "(or `X-API-Key: <key>`); an administrator creates one with `rio keys create`",
                slug="unauthenticated",
                instance=scope["path"],
                headers={"WWW-Authenticate": 'Bearer realm="rio"'},
            )
            await response(scope, receive, send)
            return
        try:
            principal = await anyio.to_thread.run_sync(
                self.services.failed_auth.authenticate,
                self.services.keys.authenticate,
                presented,
                client_address(scope),
            )
        except TooManyFailures as throttled:
            response = problem_response(
                429,
                str(throttled),
                slug="too-many-failed-authentications",
                instance=scope["path"],
                headers={"Retry-After": throttled.retry_after},
            )
            await response(scope, receive, send)
            return
        if principal is None:
            response = problem_response(
                401,
                "the API key is not valid or has been revoked: ask an administrator for a key",
                slug="invalid-key",
                instance=scope["path"],
                headers={"WWW-Authenticate": 'Bearer realm="rio", error="invalid_token"'},
            )
            await response(scope, receive, send)
            return
        _state(scope)["principal"] = principal
        wait = self.services.limiter.take(principal.key_id)
        if wait is not None:
            response = problem_response(
                429,
                f"key {principal.key_id} has made too many requests: "
                f"retry after {retry_after(wait)} s",
                slug="rate-limited",
                instance=scope["path"],
                headers={"Retry-After": retry_after(wait)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class LimitBody:
    """Refuses a request body over `limit` bytes with 413, before anything reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            f"the request body is over {self.limit} bytes: send less at once "
            "(split a review's load into several batches)",
            slug="body-too-large",
            instance=scope["path"],
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
