"""Commands: every change the Recommendation aggregate accepts, by natural key.

Each body carries `occurred` and `source`; `recorded_by` is the key's holder. Send the ETag
you read as `If-Match` to be refused (412) rather than overwrite a change you have not seen,
and an `Idempotency-Key` to make a retry safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from fastapi.types import DecoratedCallable

from rio.api.commands import CommandsDep
from rio.api.deps import WRITERS, CommitmentKey, ReviewKey, ServicesDep, Target, TargetDep, require
from rio.api.idempotency import Stored
from rio.api.problems import documented
from rio.api.schemas import (
    ActionIn,
    AssessmentIn,
    BatchIn,
    BatchResultOut,
    CommandResult,
    CommitmentIn,
    CommitmentMadeIn,
    CommitmentWithdrawnIn,
    CorrectionIn,
    DecisionIn,
    DeliveryIn,
    MilestoneDeliveredIn,
    NoteIn,
    OwnerIn,
    RegisterIn,
    RevisionIn,
    WithdrawalIn,
)
from rio.application.batch import Command, RecommendationBatch

router = APIRouter(
    prefix="/reviews/{review}",
    tags=["commands"],
    dependencies=[Depends(require(*WRITERS))],
    responses=documented(401, 403, 409, 412, 413, 422, 429, 503),
)

_CREATED: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "Recorded.",
        "headers": {
            "ETag": {"description": "The new version.", "schema": {"type": "string"}},
            "Location": {"description": "The recorded event.", "schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/recommendations",
    status_code=201,
    response_model=CommandResult,
    responses=_CREATED,
    summary="Register a recommendation",
)
def register_recommendation(
    review: ReviewKey, body: RegisterIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str, _: int | None) -> int:
        return services.rio.register_recommendation(
            review=review, **body.arguments(), recorded_by=by
        ).version

    return commands.run(Target(review, body.number), "register_recommendation", body, call)


@router.post(
    "/batches",
    status_code=201,
    response_model=BatchResultOut,
    responses={201: {"description": "Recorded, all or nothing; reloading records nothing new."}},
    summary="Record a whole review (or part of one) in one call",
)
def record_batch(
    review: ReviewKey, body: BatchIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str) -> Stored:
        result = services.rio.record_batch(_batches(review, body, by))
        versions = [
            {"number": n, "version": services.rio.get(Target(review, n).id).version}
            for n in result.recommendations
        ]
        return Stored(
            status=201,
            headers={},
            body={
                "review": review,
                "recorded": result.recorded,
                "already_recorded": result.already_recorded,
                "recommendations": versions,
            },
        )

    return commands.run_many("record_batch", body, call)


def _batches(review: str, body: BatchIn, recorded_by: str) -> list[RecommendationBatch]:
    phases: dict[type, int] = {
        CommitmentMadeIn: 0,
        MilestoneDeliveredIn: 2,
        CommitmentWithdrawnIn: 2,
    }
    result = []
    for i, rec in enumerate(body.recommendations):
        where = f"recommendations.{i}"
        registration = Command(
            "register",
            {
                "review": review,
                "number": rec.number,
                "title": rec.title,
                "text": rec.text,
                "occurred": rec.occurred,
                "source": rec.source.to_source(),
                "recorded_by": recorded_by,
            },
            where,
        )
        commands = [
            Command(
                "add_action",
                {**action.arguments(), "recorded_by": recorded_by},
                f"{where}.actions.{j}",
            )
            for j, action in enumerate(rec.actions)
        ]
        events = sorted(
            enumerate(rec.events),
            key=lambda item: (item[1].occurred, phases.get(type(item[1]), 1), item[0]),
        )
        for j, event in events:
            commands.append(
                Command(
                    event.METHOD,
                    {**event.arguments(), "recorded_by": recorded_by},
                    f"{where}.events.{j} ({event.type})",
                )
            )
        result.append(RecommendationBatch(registration, commands))
    return result


def _command(path: str, summary: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    return router.post(
        f"/recommendations/{{number}}{path}",
        status_code=201,
        response_model=CommandResult,
        responses={**_CREATED, **documented(404)},
        summary=summary,
    )


@_command("/actions", "Add an action the government will take")
def add_action(
    target: TargetDep, body: ActionIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.add_action(
            target.id, expected_version=expected, recorded_by=by, **body.arguments()
        )

    return commands.run(target, "add_action", body, call)


@_command("/owners", "Assign an owner (accountable, senior, or of one commitment)")
def assign_owner(
    target: TargetDep, body: OwnerIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.assign_owner(
            target.id, expected_version=expected, recorded_by=by, **body.arguments()
        )

    return commands.run(target, "assign_owner", body, call)


@_command("/decisions", "Record a decision (e.g. accepted by government)")
def record_decision(
    target: TargetDep, body: DecisionIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.record_decision(
            target.id, expected_version=expected, recorded_by=by, **body.arguments()
        )

    return commands.run(target, "record_decision", body, call)


@_command("/commitments", "Make a commitment: a deliverable, a due date in words, an owner")
def make_commitment(
    target: TargetDep, body: CommitmentIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.make_commitment(
            target.id, expected_version=expected, recorded_by=by, **body.arguments()
        )

    return commands.run(target, "make_commitment", body, call)


@_command("/commitments/{commitment}/revisions", "Revise a commitment's date or scope")
def revise_commitment(
    target: TargetDep,
    commitment: CommitmentKey,
    body: RevisionIn,
    services: ServicesDep,
    commands: CommandsDep,
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.revise_commitment(
            target.id,
            expected_version=expected,
            recorded_by=by,
            commitment=commitment,
            **body.arguments(),
        )

    return commands.run(target, "revise_commitment", body, call)


@_command("/commitments/{commitment}/withdrawal", "Withdraw a commitment")
def withdraw_commitment(
    target: TargetDep,
    commitment: CommitmentKey,
    body: WithdrawalIn,
    services: ServicesDep,
    commands: CommandsDep,
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.withdraw_commitment(
            target.id,
            expected_version=expected,
            recorded_by=by,
            commitment=commitment,
            **body.arguments(),
        )

    return commands.run(target, "withdraw_commitment", body, call)


@_command("/commitments/{commitment}/delivery", "Record that a commitment was delivered")
def record_delivery(
    target: TargetDep,
    commitment: CommitmentKey,
    body: DeliveryIn,
    services: ServicesDep,
    commands: CommandsDep,
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.record_delivery(
            target.id,
            expected_version=expected,
            recorded_by=by,
            commitment=commitment,
            **body.arguments(),
        )

    return commands.run(target, "record_delivery", body, call)


@_command("/progress-notes", "Note progress")
def note_progress(
    target: TargetDep, body: NoteIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.note_progress(
            target.id, expected_version=expected, recorded_by=by, **body.arguments()
        )

    return commands.run(target, "note_progress", body, call)


@_command("/assessments", "Record a human status assessment on a named scale")
def assess_status(
    target: TargetDep, body: AssessmentIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.assess_status(
            target.id, expected_version=expected, recorded_by=by, **body.arguments()
        )

    return commands.run(target, "assess_status", body, call)


@_command("/corrections", "Correct (or retract) an earlier event; the original is kept")
def correct_event(
    target: TargetDep, body: CorrectionIn, services: ServicesDep, commands: CommandsDep
) -> JSONResponse:
    def call(by: str, expected: int | None) -> int:
        return services.rio.correct_event(
            target.id, expected_version=expected, recorded_by=by, **body.arguments()
        )

    return commands.run(target, "correct_event", body, call)
