"""Errors as RFC 9457 problem+json, and the handlers that turn every refusal into one.

Routes never catch errors themselves: domain refusals, validation failures and HTTP errors
all come here, so every error has the same shape and a message a person can act on.
Refusals (`DomainError`) are the caller's to fix: 4xx. Faults of configuration
(`ConfigurationError`) are the operator's: 500, logged, never a 4xx the caller would
retry with other input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy.exc
import structlog
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from rio.application.batch import BatchRefused
from rio.application.keys import LastAdminKey
from rio.audit.verification import DigestError
from rio.domain.errors import (
    CommitmentClosed,
    DomainError,
    DuplicateCommitment,
    InvalidCommand,
    InvalidDueDate,
    NotFound,
    OutOfOrder,
    UnknownCommitment,
    VersionConflict,
)
from rio.errors import ConfigurationError
from rio.persistence.chain import ChainError

MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_type(slug: str) -> str:
    return f"urn:rio:problem:{slug}"


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


class ApiProblem(Exception):
    """A refusal decided by the API layer itself (a bad header, a role, an idempotency clash)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title
        self.headers = headers
        self.errors = errors


def field_problem(field: str, message: str) -> ApiProblem:
    """A 422 naming one field, shaped like a validation error."""
    return ApiProblem(
        422,
        f"{field}: {message}",
        slug="validation",
        title="Invalid request",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


# Domain refusals: (status, slug, title). VersionConflict is 412 or 409, decided per request.
_DOMAIN: list[tuple[type[DomainError], int, str, str]] = [
    (NotFound, 404, "not-found", "Not found"),
    (InvalidDueDate, 422, "invalid-due-date", "Due date not understood"),
    (UnknownCommitment, 422, "unknown-commitment", "No such commitment"),
    (CommitmentClosed, 422, "commitment-closed", "Commitment already closed"),
    (DuplicateCommitment, 422, "duplicate-commitment", "Commitment already made"),
    (OutOfOrder, 422, "out-of-order", "Contradicts the recorded history"),
    (BatchRefused, 422, "batch-refused", "Batch refused; nothing was recorded"),
    (InvalidCommand, 422, "invalid-command", "Command refused"),
    (DigestError, 422, "invalid-digest", "Not a RIO digest"),
    (ChainError, 409, "log-not-chained", "The event log is not fully chained"),
    (LastAdminKey, 409, "last-admin-key", "The last admin key cannot be revoked"),
]


def _instance(request: Request) -> str:
    return request.url.path


def _domain_error(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, VersionConflict):
        if request.headers.get("if-match"):
            return problem_response(
                412,
                str(error),
                slug="version-moved",
                title="The recommendation has changed since you read it",
                instance=_instance(request),
            )
        return problem_response(
            409,
            str(error),
            slug="conflict",
            title="Conflicting change",
            instance=_instance(request),
        )
    errors = None
    target = error.error if isinstance(error, BatchRefused) else error
    if isinstance(target, InvalidDueDate):
        errors = [{"field": "body.due", "message": str(target), "type": "invalid_due_date"}]
    for kind, status, slug, title in _DOMAIN:
        if isinstance(error, kind):
            return problem_response(
                status,
                str(error),
                slug=slug,
                title=title,
                instance=_instance(request),
                errors=errors,
            )
    return problem_response(
        422, str(error), slug="refused", title="Refused", instance=_instance(request)
    )


def _api_problem(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, ApiProblem):  # registered for this class only
        raise error
    return problem_response(
        error.status,
        error.detail,
        slug=error.slug,
        title=error.title,
        instance=_instance(request),
        headers=error.headers,
        errors=error.errors,
    )


_PLAIN = re.compile(r"^(Value error|Assertion failed), ")


def _validation_error(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError):  # registered for this class only
        raise error
    errors = []
    for item in error.errors():
        field = ".".join(str(part) for part in item.get("loc", ()))
        kind = str(item.get("type", "value_error"))
        message = _PLAIN.sub("", str(item.get("msg", "invalid")))
        if kind == "extra_forbidden":
            message = "unknown field: this request does not take it"
        elif kind == "missing":
            message = "required: give a value"
        elif kind == "json_invalid":
            message = f"the body is not valid JSON ({item.get('ctx', {}).get('error', message)})"
        errors.append({"field": field, "message": message, "type": kind})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return problem_response(
        422,
        detail,
        slug="validation",
        title="Invalid request",
        instance=_instance(request),
        errors=errors,
    )


def _http_error(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, StarletteHTTPException):  # registered for this class only
        raise error
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = f"there is no {request.url.path}: see /openapi.json for the routes"
    if error.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8, say): malformed input,
        # answered like every other malformed input.
        message = f"the body cannot be read as JSON: {detail}"
        return problem_response(
            422,
            f"body: {message}",
            slug="validation",
            title="Invalid request",
            instance=_instance(request),
            errors=[{"field": "body", "message": message, "type": "json_invalid"}],
        )
    headers = dict(error.headers) if error.headers else {}
    if error.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(
        error.status_code,
        detail,
        instance=_instance(request),
        headers=headers or None,
    )


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on this path, asked of the router itself: Starlette's
    405 names only the first route's (GET for /keys, though POST /keys is another route)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def _unavailable(request: Request, error: Exception) -> JSONResponse:
    structlog.get_logger("rio.api").warning(
        "store_unavailable", error=f"{type(error).__name__}: {error}"
    )
    return problem_response(
        503,
        "the store is busy or unreachable; nothing was recorded by this request: try again",
        slug="store-unavailable",
        instance=_instance(request),
        headers={"Retry-After": "1"},
    )


def _misconfigured(request: Request, error: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    structlog.get_logger("rio.api").error(
        "configuration_error", request_id=request_id, error=str(error)
    )
    return problem_response(
        500,
        f"RIO is not configured to answer this request: {error} (it has been logged: an "
        "operator must fix the setting)",
        slug="configuration",
        title="RIO is misconfigured",
        instance=_instance(request),
    )


def _server_error(request: Request, error: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    structlog.get_logger("rio.api").error("unhandled_error", request_id=request_id, exc_info=error)
    return problem_response(
        500,
        "RIO failed to answer this request; it has been logged"
        + (f" with request id {request_id}" if request_id else ""),
        instance=_instance(request),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ConfigurationError, _misconfigured)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PersistenceError, _unavailable)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, _unavailable)
    app.add_exception_handler(Exception, _server_error)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem+json answers with these statuses, each with
    an example of that status as RIO words it (the app's schema moves the model's JSON
    entry, example and all, under application/problem+json)."""
    from .schemas import Problem

    return {
        status: {
            "description": TITLES.get(status, "Error"),
            "model": Problem,
            "content": {
                MEDIA_TYPE: {},
                "application/json": {"example": EXAMPLES[status]} if status in EXAMPLES else {},
            },
        }
        for status in statuses
    }


def _example(status: int, slug: str, detail: str, **more: Any) -> dict[str, Any]:
    instance = more.pop("instance", "/reviews/messenger-2022/recommendations/1/commitments")
    return {
        "type": problem_type(slug),
        "title": more.pop("title", TITLES[status]),
        "status": status,
        "detail": detail,
        "instance": instance,
        **more,
    }


# One answer of each status, worded as the handlers above and the middleware word them.
EXAMPLES: dict[int, dict[str, Any]] = {
    401: _example(
        401,
        "unauthenticated",
        "this request needs an API key: send `Authorization: Bearer <key>` (or `X-API-Key: "
        "<key>`); an administrator creates one with `rio keys create`",
    ),
    403: _example(
        403,
        "forbidden",
        "a secretariat key cannot do this; it needs a key with the role: admin",
        instance="/keys",
    ),
    404: _example(
        404,
        "not-found",
        "recommendation 9 of review 'messenger-2022' is not recorded",
        instance="/reviews/messenger-2022/recommendations/9",
    ),
    409: _example(
        409,
        "conflict",
        "recommendation 1 of review 'messenger-2022' is already registered",
        title="Conflicting change",
        instance="/reviews/messenger-2022/recommendations",
    ),
    412: _example(
        412,
        "version-moved",
        "recommendation 1 is at version 9, not 8: reload it and try again",
        title="The recommendation has changed since you read it",
    ),
    413: _example(
        413,
        "body-too-large",
        "the request body is over 1048576 bytes: send less at once (RIO_API_MAX_BODY_BYTES)",
        instance="/reviews/messenger-2022/batches",
    ),
    422: _example(
        422,
        "invalid-due-date",
        "cannot understand the due date 'soonish': give a date (2024-04-30), a month "
        "(April 2024), a quarter (Q2 2024), a season (spring 2024) or a year (2024)",
        title="Due date not understood",
        errors=[
            {
                "field": "body.due",
                "message": "cannot understand the due date 'soonish'",
                "type": "invalid_due_date",
            }
        ],
    ),
    429: _example(
        429,
        "rate-limited",
        "key 5e42cb336220 has made too many requests: retry after 2 s",
        instance="/status",
    ),
    500: _example(
        500,
        "configuration",
        "RIO is not configured to answer this request: RIO_OWNERS_FILE cannot be read (it "
        "has been logged: an operator must fix the setting)",
        title="Internal server error",
        instance="/status",
    ),
    503: _example(
        503,
        "store-unavailable",
        "the store is busy or unreachable; nothing was recorded by this request: try again",
    ),
}
