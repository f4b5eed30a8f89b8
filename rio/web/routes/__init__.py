"""The board's routes, and `install`, which adds them to the API's app.

Pages read the same read model and reports as the API. Every page takes `as_at` (a date)
and, for auditors, `known_at`; bad input is a 4xx page that says what to change, built
from the same problem the API would answer, never a 500. One module per kind of page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from rio.api.services import Services
from rio.web.date_fields import Canonical
from rio.web.pages import make_templates
from rio.web.routes import (
    errors,
    exports,
    portfolio,
    promised,
    recommendation,
    reviews,
    sign_in,
)
from rio.web.routes.common import PREFIX
from rio.web.session import Sessions, SignInRequired

__all__ = ["PREFIX", "install"]

STATIC = Path(__file__).parent.parent / "static"

# Included in this order: fixed paths (/sign-in, /portfolio) before /{review}, and
# /{review}/tracker.csv and the like before /{review}/{number}.
PAGES = (sign_in, portfolio, reviews, promised, exports, recommendation)


def install(app: FastAPI) -> None:
    """Add the board to `app`: call after the API's exception handlers are installed."""
    services: Services = app.state.services
    app.state.board_sessions = Sessions(services.settings, services.engine)
    app.state.board_templates = make_templates()
    # Mounted before the router, so /board/static/... is never taken for /board/{review}/...
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="board-static")
    for part in PAGES:
        app.include_router(part.router)
    for kind, handler in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = errors.as_page(handler)
    app.add_exception_handler(SignInRequired, sign_in.to_sign_in)
    app.add_exception_handler(Canonical, errors.to_canonical)
