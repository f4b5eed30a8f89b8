"""Hypothesis strategies: random but accepted histories of recommendations.

Commands are drawn at random and run through the real aggregate; the ones it refuses are
dropped, so every generated history is one RIO could actually have recorded, including
back-filled events (recorded out of valid-time order), revisions and corrections.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from rio.aggregates.recommendation import Recommendation
from rio.application.commands import (
    AssessStatus,
    AssignOwner,
    CorrectEvent,
    MakeCommitment,
    NoteProgress,
    RecommendationCommand,
    RecordDelivery,
    ReportStatus,
    ReviseCommitment,
    WithdrawCommitment,
)
from rio.domain import clock
from rio.domain.errors import DomainError
from rio.domain.values import REVIEW_WIDE, ReportedStatus, Source

OCCURRED = st.dates(date(2022, 1, 1), date(2025, 12, 31))
FIRST_RECORDED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
COMMITMENTS = ("a", "b", "c")
PHRASES = (
    "April 2024",
    "by March 2024",
    "Spring 2025",
    "summer 2025",
    "2024/25",
    "later in 2025",
    "2025-06-30",
    "early next year",
    None,
)
SOURCE = Source("Generated source", date(2022, 1, 1), "words")

# Making and revising are drawn twice as often: they are what histories are mostly made of.
KINDS = (
    "make",
    "make",
    "revise",
    "revise",
    "deliver",
    "withdraw",
    "owner",
    "note",
    "assess",
    "correct",
    "status",  # issue 14: reported statuses, next stages, inferred promises
    "stage",
)
_due = st.sampled_from(PHRASES)
_commitment = st.sampled_from(COMMITMENTS)


# What a drawn command is: its class and its own fields (occurred and source come later).
Drawn = tuple[type[RecommendationCommand], dict[str, Any]]


def _command(draw: st.DrawFn, rec: Recommendation) -> Drawn:
    kind = draw(st.sampled_from(KINDS))
    if kind == "make":
        made: dict[str, Any] = {
            "commitment": draw(_commitment),
            "deliverable": draw(st.sampled_from(["Plan", "Framework", "Scheme"])),
            "due": draw(_due),
            "inferred": draw(st.booleans()),
        }
        if rec.number == REVIEW_WIDE:
            made["serves"] = draw(st.none() | st.lists(st.integers(1, 2), min_size=1))
        return MakeCommitment, made
    if kind == "stage":
        earlier = draw(_commitment)
        return MakeCommitment, {
            "commitment": draw(st.sampled_from([c for c in COMMITMENTS if c != earlier])),
            "deliverable": "Next stage",
            "due": draw(_due),
            "supersedes": earlier,
        }
    if kind == "status":
        return ReportStatus, {
            "status": draw(st.sampled_from([s.value for s in ReportedStatus])),
            "commitment": draw(st.none() | _commitment),
        }
    if kind == "revise":
        reason = draw(st.sampled_from([None, "consultation ran long"]))
        return ReviseCommitment, {
            "commitment": draw(_commitment),
            "due": draw(_due) or "2026",
            "reason": reason,
        }
    if kind == "deliver":
        return RecordDelivery, {"commitment": draw(_commitment), "evidence": "published"}
    if kind == "withdraw":
        return WithdrawCommitment, {"commitment": draw(_commitment), "reason": "superseded"}
    if kind == "owner":
        return AssignOwner, {"owner": draw(st.sampled_from(["NHS England", "DHSC"]))}
    if kind == "note":
        return NoteProgress, {"note": "in progress", "commitment": draw(st.none() | _commitment)}
    if kind == "assess":
        return AssessStatus, {
            "scale": "dcs5",
            "rating": draw(st.sampled_from(["Green", "Amber/Red", "Red"])),
            "rationale": "panel view",
            "assessor": "panel",
        }
    version = draw(st.integers(1, rec.version))
    change = draw(
        st.sampled_from(["due", "occurred", "retract", "deliverable", "evidence", "status"])
    )
    if change == "retract":
        return CorrectEvent, {"version": version, "retract": True, "reason": "recorded in error"}
    value: Any = {
        "due": draw(_due),
        "occurred": draw(OCCURRED).isoformat(),
        "deliverable": "Corrected deliverable",
        "evidence": "corrected evidence",
        "status": draw(st.sampled_from([s.value for s in ReportedStatus])),
    }[change]
    return CorrectEvent, {"version": version, "changes": {change: value}, "reason": "typo"}


@st.composite
def histories(draw: st.DrawFn, max_commands: int = 30) -> list[Recommendation.Event]:
    """Events of up to two recommendations and the review's own stream (review-wide
    promises), in the order they were recorded."""
    recorded = FIRST_RECORDED
    recs: dict[int, Recommendation] = {}
    for _ in range(draw(st.integers(1, max_commands))):
        recorded += timedelta(minutes=draw(st.integers(1, 60 * 24 * 40)))
        number = draw(st.sampled_from([REVIEW_WIDE, 1, 2]))
        occurred = draw(OCCURRED)
        with clock.use(lambda at=recorded: at):
            try:
                if number not in recs:
                    recs[number] = Recommendation.register(
                        review="generated",
                        number=number,
                        title=f"Recommendation {number}",
                        text="",
                        occurred=draw(st.dates(date(2022, 1, 1), date(2022, 6, 30))),
                        source=SOURCE,
                        recorded_by="hypothesis",
                        review_wide=number == REVIEW_WIDE,
                    )
                    continue
                kind, arguments = _command(draw, recs[number])
                if "supersedes" in arguments:  # a next stage comes after the one it replaces
                    occurred = draw(st.dates(date(2023, 6, 1), date(2025, 6, 30)))
                elif kind in (MakeCommitment, AssignOwner):
                    occurred = draw(st.dates(date(2022, 6, 1), date(2024, 6, 30)))
                elif kind in (ReviseCommitment, RecordDelivery, WithdrawCommitment):
                    occurred = draw(st.dates(date(2023, 6, 1), date(2025, 12, 31)))
                command = kind(
                    **arguments, occurred=occurred, source=SOURCE, recorded_by="hypothesis"
                )
                command.apply(recs[number])
            except DomainError:
                continue
    events: list[Recommendation.Event] = []
    for rec in recs.values():
        events.extend(rec.collect_events())  # type: ignore[arg-type]
    events.sort(key=lambda e: e.timestamp)
    return events
