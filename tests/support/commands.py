"""How a test sends one command to the application service, named by kind and fields.

The state machine (tests/properties/test_application_machine.py) draws commands as data; this
is the one place that knows how `rio.application.service.RIO` takes them (typed commands from
`rio.application.commands`), so a change to that API changes this module only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from rio.application.commands import (
    AssignOwner,
    CorrectEvent,
    MakeCommitment,
    NoteProgress,
    RecommendationCommand,
    RecordDelivery,
    RegisterRecommendation,
    ReportStatus,
    ReviseCommitment,
    WithdrawCommitment,
)
from rio.application.service import RIO
from rio.domain.values import Source

KINDS: Mapping[str, type[RecommendationCommand]] = {
    "make": MakeCommitment,
    "revise": ReviseCommitment,
    "deliver": RecordDelivery,
    "withdraw": WithdrawCommitment,
    "note": NoteProgress,
    "owner": AssignOwner,
    "correct": CorrectEvent,
    "status": ReportStatus,
}
SOURCE = Source("Generated source", date(2022, 1, 1), "words")
RECORDED_BY = "hypothesis"


def register(rio: RIO, review: str, number: int, occurred: date) -> UUID:
    """Register recommendation `number` of `review`; returns its id."""
    command = RegisterRecommendation(
        review=review,
        number=number,
        title=f"Recommendation {number}",
        text="",
        occurred=occurred,
        source=SOURCE,
        recorded_by=RECORDED_BY,
    )
    return rio.register_recommendation(command).id


def send(
    rio: RIO,
    rec: UUID,
    kind: str,
    fields: Mapping[str, Any],
    occurred: date,
    expected_version: int | None = None,
) -> int:
    """Run one command of `kind` (a key of KINDS) on `rec`; returns its new version."""
    command = KINDS[kind](**fields, occurred=occurred, source=SOURCE, recorded_by=RECORDED_BY)
    return rio.handle(rec, command, expected_version=expected_version)
