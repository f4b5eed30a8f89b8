"""Running one command for a route: idempotency, the call itself, catch-up, the answer.

Routes say which application method to call with which fields; this does the rest the
same way for every command, so a route holds no rules and no error handling.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from rio.aggregates.recommendation import Recommendation
from rio.api.deps import CurrentPrincipal, ExpectedVersion, ServicesDep, Target, idempotency_key
from rio.api.idempotency import Stored
from rio.api.problems import ApiProblem
from rio.api.services import Services
from rio.application.keys import Principal
from rio.domain.errors import NotFound

log = structlog.get_logger("rio.api")

# Called with (recorded_by, expected_version); returns the recommendation's new version.
Call = Callable[[str, int | None], int]


def event_row(event: Recommendation.Event) -> dict[str, Any]:
    """The same shape as `rio history --json`."""
    from rio.cli.main import _event_row

    return _event_row(event)


def etag(version: int) -> str:
    return f'"{version}"'


class Commands:
    def __init__(
        self,
        request: Request,
        services: Services,
        principal: Principal,
        expected: int | None,
        key: str | None,
    ) -> None:
        self.request = request
        self.services = services
        self.principal = principal
        self.expected = expected
        self.key = key

    def run(self, target: Target, command: str, body: BaseModel, call: Call) -> JSONResponse:
        """Record one event on `target` by `call`; 201 with the event, its ETag and Location."""
        fields: dict[str, Any] = self.request.state.log
        fields.update(command=command, aggregate_id=str(target.id))
        replayed = self._begin(body)
        if replayed is not None:
            fields.update(version=replayed.body.get("version"), idempotent_replay=True)
            return self._respond(replayed, replayed=True)
        try:
            with self.services.writing():
                version = call(self.principal.recorded_by, self.expected)
        except NotFound:
            self._release()
            raise NotFound(
                f"review {target.review!r} has no recommendation {target.number}"
            ) from None
        except BaseException:
            self._release()
            raise
        fields["version"] = version
        self.services.recorded()
        stored = self.services.rio.recorder.select_events(
            target.id, gt=version - 1, lte=version, limit=1
        )
        event = self.services.rio.mapper.to_domain_event(stored[0])
        answer = Stored(
            status=201,
            headers={"ETag": etag(version), "Location": f"{target.path}/history/{version}"},
            body={
                "review": target.review,
                "number": target.number,
                "version": version,
                "event": event_row(event),  # type: ignore[arg-type]
            },
        )
        self._complete(answer)
        return self._respond(answer)

    def run_many(
        self, command: str, body: BaseModel, call: Callable[[str], Stored]
    ) -> JSONResponse:
        """Record a batch (many aggregates): idempotent like `run`, without an ETag."""
        self.request.state.log.update(command=command)
        replayed = self._begin(body)
        if replayed is not None:
            self.request.state.log.update(idempotent_replay=True)
            return self._respond(replayed, replayed=True)
        try:
            with self.services.writing():
                answer = call(self.principal.recorded_by)
        except BaseException:
            self._release()
            raise
        self.services.recorded()
        self._complete(answer)
        return self._respond(answer)

    # --- plumbing -----------------------------------------------------------------------------

    def _request_hash(self, body: BaseModel) -> str:
        text = json.dumps(
            {
                "method": self.request.method,
                "path": self.request.url.path,
                "body": body.model_dump(mode="json"),
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def _begin(self, body: BaseModel) -> Stored | None:
        if self.key is None:
            return None
        outcome = self.services.idempotency.begin(
            self.principal.key_id, self.key, self._request_hash(body)
        )
        if outcome.stored is not None:
            return outcome.stored
        if outcome.clash == "different-request":
            raise ApiProblem(
                422,
                f"Idempotency-Key {self.key!r} was already used for a different request: "
                "use a new key for a new request",
                slug="idempotency-key-reused",
                errors=[
                    {
                        "field": "header.Idempotency-Key",
                        "message": "already used for a different request",
                        "type": "idempotency_key_reused",
                    }
                ],
            )
        if outcome.clash == "in-progress":
            raise ApiProblem(
                409,
                f"a request with Idempotency-Key {self.key!r} is still being processed: "
                "retry shortly to get its answer",
                slug="idempotency-in-progress",
                headers={"Retry-After": "1"},
            )
        return None

    def _release(self) -> None:
        if self.key is not None:
            self.services.idempotency.release(self.principal.key_id, self.key)

    def _complete(self, answer: Stored) -> None:
        if self.key is None:
            return
        try:
            self.services.idempotency.complete(self.principal.key_id, self.key, answer)
        except Exception as error:  # recorded already: answer, and let a retry find it pending
            log.warning("idempotency_record_failed", error=f"{type(error).__name__}: {error}")

    @staticmethod
    def _respond(answer: Stored, replayed: bool = False) -> JSONResponse:
        headers = dict(answer.headers)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)


def commands(
    request: Request,
    services: ServicesDep,
    principal: CurrentPrincipal,
    expected: ExpectedVersion,
    key: Annotated[str | None, Depends(idempotency_key)],
) -> Commands:
    return Commands(request, services, principal, expected, key)


CommandsDep = Annotated[Commands, Depends(commands)]
