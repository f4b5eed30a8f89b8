"""The app factory: one FastAPI app on one store, built from settings; nothing at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from rio.api import links, metrics, problems, schemas
from rio.api.middleware import Authenticate, LimitBody, RequestLog
from rio.api.routes import audit, commands, health, keys, programme, recommendations, reviews
from rio.api.services import Services
from rio.runtime import Runtime
from rio.settings import Settings
from rio.web import api_docs
from rio.web import routes as board

log = structlog.get_logger("rio.api")

DESCRIPTION = """
RIO records what government promised against a review's recommendations, by whom and by
when, and what happened; and answers "as at" questions on two time axes: `as_at` (the
world, a date) and `known_at` (what RIO had recorded, a timestamp).

Every route but `GET /health` and `GET /ready` needs an API key (`Authorization: Bearer
<key>` or `X-API-Key`), created with `rio keys create`. Errors are `application/problem+json`
(RFC 9457). Writes accept `If-Match` (the ETag you read) and `Idempotency-Key`.
"""


def create_app(settings: Settings | Runtime | None = None) -> FastAPI:
    """The app on the store `settings` name (default: the environment's), or on a runtime
    already built from them (`rio serve` shares its own with the scheduler)."""
    runtime = settings if isinstance(settings, Runtime) else Runtime(settings)
    settings = runtime.settings
    services = Services(runtime)
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
        docs_url=None,  # served from a package instead of a CDN: rio.web.api_docs
        redoc_url=None,
        generate_unique_id_function=links.operation_id,
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
        reviews.router,
    ):
        app.include_router(router)
    board.install(app)  # the status board: its router, static files and HTML error pages
    if public_docs:
        api_docs.install(app)
    docs = api_docs.PUBLIC_PATHS | {"/openapi.json"} if public_docs else frozenset()
    public = {"/health", "/ready"} | docs
    # Added innermost first: the log line wraps everything, authentication comes before
    # the body is read.
    app.add_middleware(LimitBody, limit=settings.api_max_body_bytes)
    app.add_middleware(
        Authenticate, services=services, public=frozenset(public), own_auth=(board.PREFIX,)
    )
    metrics.install(app, services)  # outside authentication: refusals are counted too
    app.add_middleware(RequestLog)
    return app


def worker_app() -> FastAPI:
    """An API worker of `rio serve` (uvicorn's factory, in each worker process): the
    environment's settings, and the read model followed by the store's one follower process."""
    runtime = Runtime(followed_elsewhere=True)
    runtime.configure_logging("service")
    return create_app(runtime)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with problem answers documented as application/problem+json only,
    and links from what an answer recorded to the operations that take it (`rio.api.links`)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            servers=[{"url": app.state.services.settings.base_url, "description": "This RIO"}],
        )
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for answer in operation.get("responses", {}).values():
                    content = answer.get("content", {})
                    if problems.MEDIA_TYPE in content and "application/json" in content:
                        content[problems.MEDIA_TYPE] = content.pop("application/json")
        _document_page_bound(schema, app.state.services.settings.api_max_page_size)
        schemas.keep_example_nulls(schema)
        links.add_links(schema)
        app.openapi_schema = schema
    return app.openapi_schema


def _document_page_bound(schema: dict[str, Any], bound: int) -> None:
    """`page_size`'s maximum is a setting (RIO_API_MAX_PAGE_SIZE) the paging dependency
    enforces at request time; the schema says it too, so a client knows before asking."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") == "page_size":
                    parameter.setdefault("schema", {})["maximum"] = bound
