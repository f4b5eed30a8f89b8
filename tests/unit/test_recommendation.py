"""What the Recommendation aggregate accepts, what it refuses, and why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from rio.aggregates.recommendation import Recommendation, recommendation_id
from rio.domain import clock
from rio.domain.errors import (
    CommitmentClosed,
    DomainError,
    DuplicateCommitment,
    InvalidCommand,
    InvalidDueDate,
    OutOfOrder,
    UnknownCommitment,
)
from rio.domain.history import effective
from rio.domain.replay import replay
from rio.domain.values import Source

SRC = Source("Written answer", date(2023, 11, 20), "will be launched in April 2024")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with clock.use(lambda: NOW):
        yield


def registered() -> Recommendation:
    rec = Recommendation.register(
        review="messenger-2022",
        number=1,
        title="Targeted interventions",
        text="",
        occurred=date(2022, 6, 8),
        source=SRC,
        recorded_by="secretariat",
    )
    rec.add_action(
        action="1.1", text="Induction", occurred=date(2022, 6, 8), source=SRC, recorded_by="s"
    )
    return rec


def with_commitment(due: str | None = "April 2024") -> Recommendation:
    rec = registered()
    rec.make_commitment(
        commitment="induction",
        deliverable="National induction scheme",
        due=due,
        action="1.1",
        occurred=date(2023, 11, 20),
        source=SRC,
        recorded_by="secretariat",
    )
    return rec


def test_identity_comes_from_review_and_number() -> None:
    assert registered().id == recommendation_id("messenger-2022", 1)
    assert recommendation_id("messenger-2022", 1) == recommendation_id(" Messenger-2022 ", 1)
    assert recommendation_id("messenger-2022", 1) != recommendation_id("messenger-2022", 2)


def test_every_event_carries_occurred_source_and_recorded_by() -> None:
    rec = with_commitment()
    made = rec.history[-1]
    assert isinstance(made, Recommendation.CommitmentMade)
    assert made.occurred == date(2023, 11, 20)
    assert made.source == SRC
    assert made.recorded_by == "secretariat"
    assert timedelta(0) <= made.timestamp - NOW < timedelta(milliseconds=1)
    assert made.due is not None and made.due.latest == date(2024, 4, 30)


def test_a_revision_without_a_reason_is_recorded_but_unexplained() -> None:
    rec = with_commitment()
    rec.revise_commitment(
        commitment="induction",
        due="later in 2024",
        occurred=date(2024, 10, 1),
        source=SRC,
        recorded_by="s",
    )
    rec.revise_commitment(
        commitment="induction",
        due="Spring 2025",
        reason="final review",
        occurred=date(2024, 12, 1),
        source=SRC,
        recorded_by="s",
    )
    silent, explained = rec.history[-2:]
    assert isinstance(silent, Recommendation.CommitmentRevised) and silent.unexplained
    assert isinstance(explained, Recommendation.CommitmentRevised) and not explained.unexplained


@pytest.mark.parametrize(
    ("command", "arguments", "error", "words"),
    [
        ("record_delivery", {"commitment": "nope", "evidence": "x"}, UnknownCommitment, "'nope'"),
        ("revise_commitment", {"commitment": "nope", "due": "May 2024"}, UnknownCommitment, "nope"),
        ("assign_owner", {"owner": "  "}, InvalidCommand, "owner is empty"),
        ("assign_owner", {"owner": "DHSC", "role": "boss"}, InvalidCommand, "role 'boss'"),
        ("revise_commitment", {"commitment": "induction"}, InvalidCommand, "new due date"),
        (
            "revise_commitment",
            {"commitment": "induction", "due": "Smarch 2024"},
            InvalidDueDate,
            "Smarch",
        ),
        (
            "revise_commitment",
            {"commitment": "induction", "due": "April 2024"},
            InvalidCommand,
            "changes nothing",
        ),
        (
            "assess_status",
            {"scale": "dcs5", "rating": "Purple", "rationale": "r", "assessor": "a"},
            InvalidCommand,
            "Amber/Green",
        ),
        (
            "assess_status",
            {"scale": "stars", "rating": "Red", "rationale": "r", "assessor": "a"},
            InvalidCommand,
            "hscc4",
        ),
        (
            "make_commitment",
            {"commitment": "induction", "deliverable": "x"},
            DuplicateCommitment,
            "already made",
        ),
        (
            "make_commitment",
            {"commitment": "x", "deliverable": "x", "action": "9.9"},
            InvalidCommand,
            "9.9",
        ),
    ],
)
def test_refuses_what_makes_no_sense_and_says_why(
    command: str, arguments: dict[str, object], error: type[DomainError], words: str
) -> None:
    rec = with_commitment()
    before = len(rec.history)
    with pytest.raises(error, match=words):
        getattr(rec, command)(**arguments, occurred=date(2024, 5, 1), source=SRC, recorded_by="s")
    assert len(rec.history) == before


def test_refuses_a_revision_dated_before_the_commitment_it_revises() -> None:
    rec = with_commitment()
    with pytest.raises(UnknownCommitment, match="had been made by 2023-01-01"):
        rec.revise_commitment(
            commitment="induction",
            due="May 2024",
            occurred=date(2023, 1, 1),
            source=SRC,
            recorded_by="s",
        )


def test_refuses_delivering_twice_and_changing_a_withdrawn_commitment() -> None:
    rec = with_commitment()
    rec.record_delivery(
        commitment="induction",
        evidence="launched",
        occurred=date(2024, 4, 2),
        source=SRC,
        recorded_by="s",
    )
    with pytest.raises(CommitmentClosed, match="delivered on 2024-04-02"):
        rec.record_delivery(
            commitment="induction",
            evidence="again",
            occurred=date(2024, 5, 1),
            source=SRC,
            recorded_by="s",
        )
    other = with_commitment()
    other.withdraw_commitment(
        commitment="induction",
        reason="superseded",
        occurred=date(2024, 1, 5),
        source=SRC,
        recorded_by="s",
    )
    with pytest.raises(CommitmentClosed, match="withdrawn on 2024-01-05"):
        other.revise_commitment(
            commitment="induction",
            due="May 2024",
            occurred=date(2024, 2, 1),
            source=SRC,
            recorded_by="s",
        )


def test_a_back_dated_revision_before_a_recorded_delivery_is_accepted() -> None:
    rec = with_commitment()
    rec.record_delivery(
        commitment="induction",
        evidence="launched",
        occurred=date(2024, 9, 1),
        source=SRC,
        recorded_by="s",
    )
    rec.revise_commitment(
        commitment="induction",
        due="summer 2024",
        reason="late sign-off",
        occurred=date(2024, 3, 1),
        source=SRC,
        recorded_by="s",
    )
    kinds = [type(e).__name__ for e in effective(rec.history)]
    assert kinds[-2:] == ["CommitmentRevised", "MilestoneDelivered"]


def test_a_back_dated_withdrawal_that_contradicts_a_later_revision_is_refused() -> None:
    rec = with_commitment()
    rec.revise_commitment(
        commitment="induction",
        due="later in 2024",
        occurred=date(2024, 10, 1),
        source=SRC,
        recorded_by="s",
    )
    with pytest.raises(CommitmentClosed, match="would contradict what is already recorded"):
        rec.withdraw_commitment(
            commitment="induction",
            reason="dropped",
            occurred=date(2024, 6, 1),
            source=SRC,
            recorded_by="s",
        )


def test_refuses_events_dated_in_the_future_or_before_registration() -> None:
    rec = with_commitment()
    tomorrow = NOW.date() + timedelta(days=1)
    with pytest.raises(InvalidCommand, match="in the future"):
        rec.note_progress(note="n", occurred=tomorrow, source=SRC, recorded_by="s")
    with pytest.raises(OutOfOrder, match="before the recommendation was made"):
        rec.note_progress(note="n", occurred=date(2021, 1, 1), source=SRC, recorded_by="s")


def test_a_correction_shows_from_its_recording_on_and_the_mistake_before() -> None:
    rec = with_commitment()
    recorded_before = rec.history[-1].timestamp
    later = NOW + timedelta(hours=1)
    with clock.use(lambda: later):
        rec.correct_event(
            version=3,
            changes={"due": "May 2024"},
            reason="misread the answer",
            occurred=date(2026, 11, 25),
            source=SRC,
            recorded_by="auditor",
        )
    events = list(rec.history)
    before = replay(events, date(2024, 1, 1), known_at=recorded_before)
    after = replay(events, date(2024, 1, 1), known_at=later)
    assert before.recommendations[0].commitments[0].due.text == "April 2024"  # type: ignore[union-attr]
    assert after.recommendations[0].commitments[0].due.text == "May 2024"  # type: ignore[union-attr]
    assert len(rec.history) == 4, "the mistaken event is superseded, never edited"


def test_a_correction_can_retract_an_event_recorded_in_error() -> None:
    rec = with_commitment()
    rec.note_progress(
        note="wrong programme", occurred=date(2024, 1, 1), source=SRC, recorded_by="s"
    )
    rec.correct_event(
        version=4,
        retract=True,
        reason="belongs to another review",
        occurred=date(2026, 1, 1),
        source=SRC,
        recorded_by="s",
    )
    assert replay(rec.history, date(2025, 1, 1)).recommendations[0].notes == ()


def test_a_correction_that_would_break_history_is_refused() -> None:
    rec = with_commitment()
    rec.revise_commitment(
        commitment="induction",
        due="later in 2024",
        occurred=date(2024, 10, 1),
        source=SRC,
        recorded_by="s",
    )
    with pytest.raises(DomainError, match="contradict"):
        rec.correct_event(
            version=3,
            changes={"occurred": "2025-01-01"},
            reason="wrong date",
            occurred=date(2026, 1, 1),
            source=SRC,
            recorded_by="s",
        )


def test_a_correction_names_the_fields_it_may_change() -> None:
    rec = with_commitment()
    with pytest.raises(InvalidCommand, match="cannot correct commitment"):
        rec.correct_event(
            version=3,
            changes={"commitment": "other"},
            reason="r",
            occurred=date(2026, 1, 1),
            source=SRC,
            recorded_by="s",
        )
    with pytest.raises(InvalidCommand, match="has no event 42"):
        rec.correct_event(
            version=42,
            retract=True,
            reason="r",
            occurred=date(2026, 1, 1),
            source=SRC,
            recorded_by="s",
        )


def test_recorded_times_never_run_backwards_even_when_a_clock_does() -> None:
    rec = with_commitment()
    with clock.use(lambda: NOW - timedelta(days=3)):
        rec.note_progress(
            note="from a slow clock", occurred=date(2024, 1, 1), source=SRC, recorded_by="s"
        )
    stamps = [e.timestamp for e in rec.history]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_a_command_on_a_copy_that_is_never_saved_leaves_the_original_unchanged() -> None:
    """The application copies a cached aggregate for every command; a command refused at
    save (or never saved) must not change what the next copy accepts. (The history check's
    saved state is copied per check, never changed in place where copies share it.)"""
    from copy import deepcopy

    rec = with_commitment()
    unsaved = deepcopy(rec)
    unsaved.record_delivery(
        commitment="induction",
        evidence="launched",
        occurred=date(2024, 4, 2),
        source=SRC,
        recorded_by="s",
    )
    unsaved.make_commitment(
        commitment="phantom",
        deliverable="Never saved",
        due="May 2024",
        occurred=date(2024, 4, 3),
        source=SRC,
        recorded_by="s",
    )
    later = deepcopy(rec)
    later.record_delivery(  # not "already delivered": that delivery was never saved
        commitment="induction",
        evidence="launched",
        occurred=date(2024, 4, 5),
        source=SRC,
        recorded_by="s",
    )
    with pytest.raises(UnknownCommitment):
        deepcopy(rec).record_delivery(
            commitment="phantom",
            evidence="?",
            occurred=date(2024, 4, 6),
            source=SRC,
            recorded_by="s",
        )
