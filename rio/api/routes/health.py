"""The one public route: is the API up, and can it reach its store?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from rio.api.deps import ServicesDep
from rio.api.problems import documented
from rio.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    responses=documented(503),
    summary="Up, and the store answers (no key needed)",
)
def health(services: ServicesDep) -> dict[str, Any]:
    services.rio.position()  # a store that does not answer raises, and is answered with 503
    return {"status": "ok"}
