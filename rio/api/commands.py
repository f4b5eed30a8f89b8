"""Running one command for a route: idempotency, the call itself, catch-up, the answer.

Routes say which typed command to run with which fields; this does the rest the same way
for every command, so a route holds no rules and no error handling. An answer is built from
what the command recorded (the stored event at its new version, or a batch's result) by
the same code for a first try and for its replay, so a retry gets the first answer back.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from rio.api.deps import CurrentPrincipal, ExpectedVersion, ServicesDep, Target, idempotency_key
from rio.api.idempotency import Outcome, Stored
from rio.api.problems import ApiProblem, field_problem
from rio.api.services import Services
from rio.application.batch import BatchResult, RecommendationBatch
from rio.application.commands import RecommendationCommand, RegisterRecommendation
from rio.application.keys import Principal
from rio.application.receipts import Completed, Recorded, RequestKey, Result
from rio.application.service import Written
from rio.domain.errors import NotFound, VersionConflict
from rio.domain.values import REVIEW_WIDE, not_among
from rio.reports.history import event_row

log = structlog.get_logger("rio.api")
R = TypeVar("R", Recorded, BatchResult)


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
        # What this request's own command recorded, so its answer is built without a re-read.
        self._written: Written | None = None

    def run(
        self,
        target: Target,
        name: str,
        body: BaseModel,
        command: Callable[[str], RecommendationCommand],
    ) -> JSONResponse:
        """Run `command(recorded_by)` on `target`; 201 with the event, its ETag and Location."""

        def call(request: RequestKey | None) -> Recorded:
            typed = command(self.principal.recorded_by)
            opening = self._opening(target, typed, self.principal.recorded_by)
            if request is None and opening is None:
                # committed with whatever other commands arrive meanwhile
                self._written = self.services.group.record(target.id, typed, self.expected)
            else:  # alone: its receipt, or its stream's opening, commits with its events
                with self.services.writing():
                    self._written = self.services.rio.record(
                        target.id,
                        typed,
                        expected_version=self.expected,
                        request=request,
                        opening=opening,
                    )
            return Recorded(target.id, self._written.event.originator_version)

        return self._recording(target, name, body, call)

    def register(
        self, target: Target, body: BaseModel, command: Callable[[str], RegisterRecommendation]
    ) -> JSONResponse:
        """Register the recommendation `target`: answered as `run` answers."""

        def call(request: RequestKey | None) -> Recorded:
            with self.services.writing():
                recommendation, self._written = self.services.rio.register(
                    command(self.principal.recorded_by), request=request
                )
            return Recorded(recommendation.id, recommendation.version)

        return self._recording(target, "register_recommendation", body, call)

    def run_many(
        self,
        review: str,
        name: str,
        body: BaseModel,
        batches: Callable[[str], Sequence[RecommendationBatch]],
    ) -> JSONResponse:
        """Record a batch (many aggregates): idempotent like `run`, without an ETag."""
        self.request.state.log.update(command=name)

        def call(request: RequestKey | None) -> BatchResult:
            with self.services.writing():
                return self.services.rio.record_batch(
                    batches(self.principal.recorded_by), request=request
                )

        def answer(result: BatchResult) -> Stored:
            versions = zip(result.recommendations, result.versions, strict=True)
            return Stored(
                status=201,
                headers={},
                body={
                    "review": review,
                    "recorded": result.recorded,
                    "already_recorded": result.already_recorded,
                    "recommendations": [{"number": n, "version": v} for n, v in versions],
                },
            )

        return self._execute(body, BatchResult, call, answer)

    def check_serves(
        self,
        review: str,
        serves: Sequence[int] | None,
        field: str = "body.serves",
        also: Sequence[int] = (),
    ) -> None:
        """A review-wide promise serves recommendations its review has (registered, or
        `also` registered in the same call): the rule a scenario file is held to,
        `rio.domain.values.not_among`. That only the review as a whole takes `serves` at
        all is the aggregate's rule."""
        if not serves:
            return
        known = {r.number for r in self.services.current().recommendations if r.review == review}
        problems = not_among(serves, known | set(also), f"review {review!r}")
        if problems:
            raise field_problem(field, "; ".join(problems))

    def review_title(self, review: str) -> str:
        """The review's registered title, else its key: what its own stream is named by."""
        info = self.services.runtime.review_register.registered().get(review)
        return info.title if info is not None else review

    # --- plumbing -----------------------------------------------------------------------------

    def _opening(
        self, target: Target, first: RecommendationCommand, recorded_by: str
    ) -> RegisterRecommendation | None:
        """For the review as a whole (number 0), its stream's registration should this be
        its first fact, made as a scenario file makes it; None for a recommendation, which
        is registered on its own."""
        if target.number != REVIEW_WIDE:
            return None
        return RegisterRecommendation.review_as_whole(
            target.review, self.review_title(target.review), first, recorded_by
        )

    def _recording(
        self,
        target: Target,
        name: str,
        body: BaseModel,
        call: Callable[[RequestKey | None], Recorded],
    ) -> JSONResponse:
        fields: dict[str, Any] = self.request.state.log
        fields.update(command=name, aggregate_id=str(target.id))

        def answer(result: Recorded) -> Stored:
            fields["version"] = result.version
            written = self._written
            # A first try has its event already; a replay (a retried request) reads it back.
            if written is not None and written.event.originator_version == result.version:
                event = written.event
            else:
                event = self.services.rio.event(result.rec, result.version)
            return Stored(
                status=201,
                headers={
                    "ETag": etag(result.version),
                    "Location": f"{target.path}/history/{result.version}",
                },
                body={
                    "review": target.review,
                    "number": target.number,
                    "version": result.version,
                    "event": event_row(event),
                },
            )

        try:
            return self._execute(body, Recorded, call, answer)
        except NotFound:
            raise NotFound(
                f"review {target.review!r} has no recommendation {target.number}"
            ) from None

    def _execute(
        self,
        body: BaseModel,
        kind: type[R],
        call: Callable[[RequestKey | None], R],
        answer: Callable[[R], Stored],
    ) -> JSONResponse:
        """Answer a committed request again, or run it once and answer."""
        request = self._request_key(body)
        if request is not None:
            outcome = self.services.idempotency.begin(
                request.holder, request.key, request.request_hash
            )
            replayed = self._replay(outcome, kind, answer)
            if replayed is not None:
                return replayed
        try:
            result = call(request)  # each call takes the store's write turn it needs
        except VersionConflict:
            if request is None:
                raise
            # A duplicate that ran beside the first try (a claim taken over too soon) is
            # refused by the receipt's key, recording nothing: answer as the first try did.
            done = self.services.idempotency.completed(request.holder, request.key)
            self._release(request)
            if done is None or done.request_hash != request.request_hash:
                raise
            return self._answer_again(done, kind, answer)
        except BaseException:
            if request is not None:
                self._release(request)
            raise
        _pause_after_commit_if_asked(self.services.settings.test_pause_after_commit)
        self.services.recorded(None if self._written is None else self._written.position)
        if request is not None:
            try:  # the receipt answers retries from now on; a claim left over is harmless
                self._release(request)
            except Exception as error:
                log.warning("idempotency_claim_left", error=f"{type(error).__name__}: {error}")
        return self._respond(answer(result))

    def _replay(
        self, outcome: Outcome, kind: type[R], answer: Callable[[R], Stored]
    ) -> JSONResponse | None:
        """The answer again for a request already done; None to run it; a problem to refuse."""
        if outcome.completed is not None:
            return self._answer_again(outcome.completed, kind, answer)
        if outcome.stored is not None:
            stored = outcome.stored
            self.request.state.log.update(
                idempotent_replay=True, version=stored.body.get("version")
            )
            return self._respond(stored, replayed=True)
        if outcome.clash == "different-request":
            raise self._reused()
        if outcome.clash == "in-progress":
            raise ApiProblem(
                409,
                f"a request with Idempotency-Key {self.key!r} is still being processed: "
                "retry shortly to get its answer",
                slug="idempotency-in-progress",
                headers={"Retry-After": "1"},
            )
        return None

    def _answer_again(
        self, done: Completed, kind: type[R], answer: Callable[[R], Stored]
    ) -> JSONResponse:
        result: Result = done.result
        if not isinstance(result, kind):  # the hash covers the path, so only a reused key
            raise self._reused()
        self.request.state.log.update(idempotent_replay=True)
        return self._respond(answer(result), replayed=True)

    def _reused(self) -> ApiProblem:
        return ApiProblem(
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

    def _release(self, request: RequestKey) -> None:
        self.services.idempotency.release(request.holder, request.key)

    def _request_key(self, body: BaseModel) -> RequestKey | None:
        if self.key is None:
            return None
        text = json.dumps(
            {
                "method": self.request.method,
                "path": self.request.url.path,
                "body": body.model_dump(mode="json"),
            },
            sort_keys=True,
        )
        return RequestKey(
            self.principal.key_id, self.key, hashlib.sha256(text.encode()).hexdigest()
        )

    @staticmethod
    def _respond(answer: Stored, replayed: bool = False) -> JSONResponse:
        headers = dict(answer.headers)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)


def _pause_after_commit_if_asked(signal_file: Path | None) -> None:
    """Fault injection for tests (RIO_TEST_PAUSE_AFTER_COMMIT): with a path set, a command
    that has committed touches it and never answers, so a test can kill the server exactly
    between the commit and the answer. Unset (always, outside tests), it does nothing."""
    if signal_file is None:
        return
    signal_file.touch()
    threading.Event().wait()


async def commands(
    request: Request,
    services: ServicesDep,
    principal: CurrentPrincipal,
    expected: ExpectedVersion,
    key: Annotated[str | None, Depends(idempotency_key)],
) -> Commands:
    return Commands(request, services, principal, expected, key)


CommandsDep = Annotated[Commands, Depends(commands)]
