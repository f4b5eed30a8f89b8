"""The public probes: `/health` says the process answers, `/ready` that it is worth sending
traffic to (the store answers and the read model is caught up).

Two probes because they fail for different reasons and call for different remedies: a
process that does not answer is restarted; one whose store is down or whose read model is
far behind is only kept out of rotation until it catches up, as restarting it would not help.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from rio.api.deps import ServicesDep
from rio.api.problems import ApiProblem, documented
from rio.api.schemas import Health
from rio.api.services import Services

router = APIRouter(tags=["health"])


class Ready(BaseModel):
    """What `/ready` found: the store answered, and how far the read model trails the log."""

    store: Literal["ok"]
    lag: int = Field(ge=0, description="Events recorded that the read model has not applied.")
    max_lag: int = Field(description="The most it may trail and still be ready.")

    model_config = {"json_schema_extra": {"examples": [{"store": "ok", "lag": 0, "max_lag": 1000}]}}


async def max_lag(services: ServicesDep) -> int:
    """N of "caught up within N events": RIO_READY_MAX_LAG (a dependency, so a test can set
    its own without building another app)."""
    return services.settings.ready_max_lag


MaxLag = Annotated[int, Depends(max_lag)]


@router.get(
    "/health",
    response_model=Health,
    summary="The process answers (no key needed; does not touch the store)",
)
async def health() -> Health:
    # Async and store-free on purpose: a liveness probe must not fail because the store is
    # slow, or a busy store would get every API process restarted at once.
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Ready,
    responses=documented(503),
    summary="The store answers and the read model is caught up (no key needed)",
)
def ready(services: ServicesDep, allowed: MaxLag) -> Ready:
    return Ready(store="ok", lag=readiness(services, allowed), max_lag=allowed)


def readiness(services: Services, allowed: int) -> int:
    """The read model's lag, or 503 naming what is not ready.

    A store that does not answer raises here and is answered 503 by the store-unavailable
    handler, like every other route; the lag is RIO's own judgement, so it is refused here.
    """
    lag = services.read_model.status().lag  # two trivial queries: the tracking row, the head
    if lag > allowed:
        raise ApiProblem(
            503,
            f"not ready: the read model is {lag} events behind the event log, more than the "
            f"{allowed} allowed (RIO_READY_MAX_LAG); it is catching up: check that "
            "`rio projections run --follow` is running",
            slug="not-ready",
            title="Not ready",
            headers={"Retry-After": "5"},
        )
    return lag
