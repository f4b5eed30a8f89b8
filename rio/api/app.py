"""The app factory: one FastAPI app on one store, built from settings; nothing at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from rio.api import problems
from rio.api.middleware import Authenticate, LimitBody, RequestLog
from rio.api.routes import audit, commands, health, keys, programme, recommendations
from rio.api.services import Services
from rio.settings import Settings, get_settings
from rio.web import routes as board

log = structlog.get_logger("rio.api")

DESCRIPTION = """
RIO records what government promised against a review's recommendations, by whom and by
when, and what happened; and answers "as at" questions on two time axes: `as_at` (the
world, a date) and `known_at` (what RIO had recorded, a timestamp).

Every route but `GET /health` needs an API key (`Authorization: Bearer <key>` or
`X-API-Key`), created with `rio keys create`. Errors are `application/problem+json`
(RFC 9457). Writes accept `If-Match` (the ETag you read) and `Idempotency-Key`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    services = Services(settings)
    durability = services.sqlite_durability()
    if durability is not None:
        mode, level = durability
        # WAL with synchronous=FULL (2) makes each acknowledged commit survive a crash.
        if mode.lower() != "wal" or level < 2:
            log.warning("sqlite_not_durable", journal_mode=mode, synchronous=level)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    public_docs = settings.api_public_docs
    app = FastAPI(
        title="RIO — Review Implementation Office",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if public_docs else None,
        redoc_url=None,
    )
    app.state.services = services
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    problems.install(app)
    for router in (
        health.router,
        commands.router,
        recommendations.router,
        programme.router,
        keys.router,
        audit.router,
    ):
        app.include_router(router)
    board.install(app)  # the status board: its router, static files and HTML error pages
    public = {"/health"} | ({"/docs", "/openapi.json"} if public_docs else set())
    # Added innermost first: the log line wraps everything, authentication comes before
    # the body is read.
    app.add_middleware(LimitBody, limit=settings.api_max_body_bytes)
    app.add_middleware(
        Authenticate, services=services, public=frozenset(public), own_auth=(board.PREFIX,)
    )
    app.add_middleware(RequestLog)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with problem answers documented as application/problem+json only."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for answer in operation.get("responses", {}).values():
                    content = answer.get("content", {})
                    if problems.MEDIA_TYPE in content and "application/json" in content:
                        content[problems.MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
    return app.openapi_schema
