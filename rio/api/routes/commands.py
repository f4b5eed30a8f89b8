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
from rio.api.deps import CommitmentKey, ReviewKey, Target, TargetDep, require
from rio.api.problems import documented
from rio.api.schemas import (
    ActionIn,
    AssessmentIn,
    BatchIn,
    BatchResultOut,
    CommandResult,
    CommitmentIn,
    CommitmentMadeIn,
    CorrectionIn,
    DecisionIn,
    DeliveryIn,
    NoteIn,
    OwnerIn,
    RegisterIn,
    RevisionIn,
    StatusIn,
    WithdrawalIn,
)
from rio.application.batch import (
    Labelled,
    RecommendationBatch,
    in_valid_time_order,
    review_wide_batch,
)
from rio.application.commands import RecommendationCommand
from rio.domain.access import WRITERS
from rio.domain.values import REVIEW_WIDE

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
    review: ReviewKey, body: RegisterIn, commands: CommandsDep
) -> JSONResponse:
    return commands.register(Target(review, body.number), body, lambda by: body.command(review, by))


@router.post(
    "/batches",
    status_code=201,
    response_model=BatchResultOut,
    responses={201: {"description": "Recorded, all or nothing; reloading records nothing new."}},
    summary="Record a whole review (or part of one) in one call",
)
def record_batch(review: ReviewKey, body: BatchIn, commands: CommandsDep) -> JSONResponse:
    numbers = [rec.number for rec in body.recommendations]
    for j, event in enumerate(body.review_wide):
        if isinstance(event, CommitmentMadeIn):
            commands.check_serves(review, event.serves, f"body.review_wide.{j}.serves", numbers)
    title = commands.review_title(review) if body.review_wide else review
    return commands.run_many(
        review, "record_batch", body, lambda by: _batches(review, title, body, by)
    )


def _batches(review: str, title: str, body: BatchIn, recorded_by: str) -> list[RecommendationBatch]:
    result = []
    if body.review_wide:
        wide: list[Labelled[RecommendationCommand]] = [
            Labelled(event.command(recorded_by), f"review_wide.{j} ({event.type})")
            for j, event in enumerate(body.review_wide)
        ]
        result.append(review_wide_batch(review, title, wide, recorded_by))
    for i, rec in enumerate(body.recommendations):
        where = f"recommendations.{i}"
        actions: list[Labelled[RecommendationCommand]] = [
            Labelled(action.command(recorded_by), f"{where}.actions.{j}")
            for j, action in enumerate(rec.actions)
        ]
        events = in_valid_time_order(
            Labelled(event.command(recorded_by), f"{where}.events.{j} ({event.type})")
            for j, event in enumerate(rec.events)
        )
        result.append(
            RecommendationBatch(
                Labelled(rec.command(review, recorded_by), where), [*actions, *events]
            )
        )
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
def add_action(target: TargetDep, body: ActionIn, commands: CommandsDep) -> JSONResponse:
    return commands.run(target, "add_action", body, body.command)


@_command("/owners", "Assign an owner (accountable, senior, or of one commitment)")
def assign_owner(target: TargetDep, body: OwnerIn, commands: CommandsDep) -> JSONResponse:
    return commands.run(target, "assign_owner", body, body.command)


@_command("/decisions", "Record a decision (e.g. accepted by government)")
def record_decision(target: TargetDep, body: DecisionIn, commands: CommandsDep) -> JSONResponse:
    return commands.run(target, "record_decision", body, body.command)


@_command(
    "/commitments",
    "Make a commitment: a deliverable, a due date in words, an owner (number 0: a promise "
    "of the review as a whole, with the recommendations it serves)",
)
def make_commitment(target: TargetDep, body: CommitmentIn, commands: CommandsDep) -> JSONResponse:
    if target.number == REVIEW_WIDE:
        commands.check_serves(target.review, body.serves)
    return commands.run(target, "make_commitment", body, body.command)


@_command("/commitments/{commitment}/revisions", "Revise a commitment's date or scope")
def revise_commitment(
    target: TargetDep,
    commitment: CommitmentKey,
    body: RevisionIn,
    commands: CommandsDep,
) -> JSONResponse:
    return commands.run(target, "revise_commitment", body, lambda by: body.of(commitment, by))


@_command("/commitments/{commitment}/withdrawal", "Withdraw a commitment")
def withdraw_commitment(
    target: TargetDep,
    commitment: CommitmentKey,
    body: WithdrawalIn,
    commands: CommandsDep,
) -> JSONResponse:
    return commands.run(target, "withdraw_commitment", body, lambda by: body.of(commitment, by))


@_command("/commitments/{commitment}/delivery", "Record that a commitment was delivered")
def record_delivery(
    target: TargetDep,
    commitment: CommitmentKey,
    body: DeliveryIn,
    commands: CommandsDep,
) -> JSONResponse:
    return commands.run(target, "record_delivery", body, lambda by: body.of(commitment, by))


@_command("/progress-notes", "Note progress")
def note_progress(target: TargetDep, body: NoteIn, commands: CommandsDep) -> JSONResponse:
    return commands.run(target, "note_progress", body, body.command)


@_command("/statuses", "Record where something stands as its owner reports it")
def report_status(target: TargetDep, body: StatusIn, commands: CommandsDep) -> JSONResponse:
    return commands.run(target, "report_status", body, body.command)


@_command("/assessments", "Record a human status assessment on a named scale")
def assess_status(target: TargetDep, body: AssessmentIn, commands: CommandsDep) -> JSONResponse:
    return commands.run(target, "assess_status", body, body.command)


@_command("/corrections", "Correct (or retract) an earlier event; the original is kept")
def correct_event(target: TargetDep, body: CorrectionIn, commands: CommandsDep) -> JSONResponse:
    return commands.run(target, "correct_event", body, body.command)
