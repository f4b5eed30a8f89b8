"""Issue 14: review-wide promises, reported status, stages, scope changes, reasons that tell
the story, and the owner at the time, each as a user reads it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from rio.aggregates.recommendation import Recommendation
from rio.domain import clock
from rio.domain.durations import in_words
from rio.domain.errors import CommitmentClosed, DomainError, InvalidCommand, UnknownCommitment
from rio.domain.rag import AMBER, NOT_RATED, RED, Policy, rate_commitment, rate_recommendation
from rio.domain.replay import replay
from rio.domain.state import Programme
from rio.domain.values import REVIEW_WIDE, Source
from rio.reports.answers import Outcome, promised_vs_delivered, status, timelines

SRC = Source("Tracker", date(2024, 10, 1), "The plan itself is not yet published.")
MADE = date(2023, 11, 20)


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with clock.use(lambda: datetime(2026, 1, 1, tzinfo=UTC)):
        yield


def register(number: int = 1, **extra: Any) -> Recommendation:
    return Recommendation.register(
        review="r",
        number=number,
        title=f"Recommendation {number}",
        text="",
        occurred=date(2022, 6, 8),
        source=SRC,
        recorded_by="s",
        **extra,
    )


def do(rec: Recommendation, method: str, occurred: date = MADE, **arguments: Any) -> None:
    getattr(rec, method)(**arguments, occurred=occurred, source=SRC, recorded_by="s")


def programme(as_at: date, *recs: Recommendation) -> Programme:
    return replay([e for rec in recs for e in rec.history], as_at)


# --- review-wide promises --------------------------------------------------------------------


def review_with_plan(serves: list[int] | None = None) -> tuple[Recommendation, Recommendation]:
    wide = register(REVIEW_WIDE, review_wide=True)
    do(
        wide,
        "make_commitment",
        date(2022, 6, 8),
        commitment="plan",
        deliverable="Plan",
        serves=serves,
    )
    rec = register(1)
    do(rec, "make_commitment", commitment="induction", deliverable="Induction", due="April 2024")
    return wide, rec


def test_a_review_wide_promise_is_recorded_once_and_does_not_set_each_rating() -> None:
    wide, rec = review_with_plan()
    as_at = date(2023, 11, 30)
    state = programme(as_at, wide, rec)

    rows = status(state)
    assert [(s.state.number, s.rating.rating) for s in rows] == [(0, AMBER), (1, "Green")]
    assert "'plan' is rated once for the review as a whole" in rows[1].rating.reason
    assert list(rows[1].commitments) == ["induction"]  # its own, not the review's
    report = promised_vs_delivered(state, programme(date(2024, 10, 1), wide, rec))
    assert [r.commitment for r in report.rows].count("plan") == 1


def test_how_a_review_wide_promise_weighs_on_a_recommendation_is_policy() -> None:
    wide, rec = review_with_plan(serves=[1])
    as_at = date(2023, 11, 30)
    state = programme(as_at, wide, rec)
    strict = Policy(ratings={**Policy().ratings, "from_review": AMBER})

    rating, _ = rate_recommendation(
        state.recommendations[1],
        as_at,
        strict,
        state.shared_with(rec_state := state.recommendations[1]),
    )
    assert (rating.rating, rating.rule) == (AMBER, "from_review")
    assert "a promise of the review as a whole" in rating.reason
    assert rec_state.number == 1
    default, _ = rate_recommendation(rec_state, as_at, Policy(), state.shared_with(rec_state))
    assert default.rating == "Green"
    (plan,) = state.shared_with(rec_state)
    assert rate_commitment(plan, as_at, Policy(), from_review=True).rating == NOT_RATED


def test_only_the_reviews_own_stream_names_the_recommendations_a_promise_serves() -> None:
    rec = register(1)
    with pytest.raises(InvalidCommand, match="only a promise of the review as a whole"):
        do(rec, "make_commitment", commitment="plan", deliverable="Plan", serves=[1, 2])
    with pytest.raises(InvalidCommand, match="1 or more"):
        register(REVIEW_WIDE)  # not without saying it is the review's own stream
    wide = register(REVIEW_WIDE, review_wide=True)
    with pytest.raises(InvalidCommand, match="serves must list recommendation numbers"):
        do(wide, "make_commitment", commitment="plan", deliverable="Plan", serves=[0])


# --- reported status -------------------------------------------------------------------------


def test_a_reported_status_is_not_silence_and_not_a_delivery() -> None:
    rec = register(1)
    do(rec, "make_commitment", date(2022, 6, 8), commitment="plan", deliverable="Plan")
    do(rec, "make_commitment", date(2022, 6, 8), commitment="code", deliverable="Code")
    do(rec, "report_status", date(2024, 10, 1), status="reported_not_delivered", commitment="plan")
    report = promised_vs_delivered(
        programme(date(2023, 11, 30), rec), programme(date(2024, 10, 1), rec)
    )

    by_name = {r.commitment: r for r in report.rows}
    assert by_name["plan"].outcome == Outcome.REPORTED_NOT_DELIVERED
    assert (
        "reported not delivered as of 2024-10-01 (Tracker (2024-10-01))" in by_name["plan"].detail
    )
    assert "not yet published" in by_name["plan"].detail
    assert by_name["code"].outcome == Outcome.NO_EVIDENCE
    state = programme(date(2024, 10, 1), rec).recommendations[0]
    assert state.commitment("plan").delivered is None
    (line,) = [t for t in timelines(state) if t.commitment == "plan"]
    assert [s.kind for s in line.steps] == ["promised", "reported"]


def test_an_overdue_promise_reported_in_progress_says_both() -> None:
    rec = register(1)
    do(rec, "add_action", date(2022, 6, 8), action="2.1", text="Embed inclusive leadership")
    do(rec, "make_commitment", commitment="c", deliverable="D", due="April 2024", action="2.1")
    do(rec, "report_status", date(2024, 10, 1), status="in_progress", action="2.1")
    report = promised_vs_delivered(
        programme(date(2023, 11, 30), rec), programme(date(2024, 10, 1), rec)
    )

    (row,) = report.rows
    assert row.outcome == Outcome.OVERDUE
    assert row.detail.startswith("overdue by 5 months")
    assert "reported in progress as of 2024-10-01" in row.detail


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"status": "done"}, "reported status 'done' is not one of"),
        ({"status": "in_progress", "action": "9.9"}, "about action '9.9', which this"),
        ({"status": "in_progress", "commitment": "nope"}, "no commitment 'nope'"),
        ({"status": "in_progress", "commitment": "c", "action": "1.1"}, "not both"),
    ],
)
def test_a_reported_status_must_name_what_it_is_about(
    arguments: dict[str, Any], error: str
) -> None:
    rec = register(1)
    do(rec, "make_commitment", commitment="c", deliverable="D")
    with pytest.raises(DomainError, match=error):
        do(rec, "report_status", **arguments)


# --- stages ----------------------------------------------------------------------------------


def staged() -> Recommendation:
    rec = register(3)
    do(rec, "make_commitment", commitment="draft", deliverable="Draft", due="by March 2024")
    do(
        rec,
        "make_commitment",
        date(2024, 10, 1),
        commitment="final",
        deliverable="Final",
        due="Spring 2025",
        supersedes="draft",
    )
    return rec


def test_a_next_stage_closes_the_one_before_and_has_its_own_baseline() -> None:
    state = programme(date(2024, 10, 1), staged()).recommendations[0]

    draft, final = state.commitment("draft"), state.commitment("final")
    assert draft.superseded is not None and not draft.is_open
    assert rate_commitment(draft, date(2024, 10, 1)).rule == "superseded"
    assert final.baseline == final.due and final.slip_days == 0
    assert [c.commitment for c in state.stages(draft)] == ["draft", "final"]
    rating, _ = rate_recommendation(state, date(2024, 10, 1))
    assert (rating.rating, rating.rule) == ("Green", "on_track")


def test_a_superseded_stage_cannot_move_again_nor_be_superseded_twice() -> None:
    rec = staged()
    with pytest.raises(CommitmentClosed, match="superseded by 'final'"):
        do(rec, "revise_commitment", date(2024, 11, 1), commitment="draft", due="2026")
    with pytest.raises(CommitmentClosed, match="cannot supersede it"):
        do(
            rec,
            "make_commitment",
            date(2024, 11, 1),
            commitment="x",
            deliverable="X",
            supersedes="draft",
        )
    with pytest.raises(UnknownCommitment, match="no commitment 'ghost'"):
        do(rec, "make_commitment", commitment="y", deliverable="Y", supersedes="ghost")


# --- scope, owner, reasons -------------------------------------------------------------------


def test_the_report_names_a_change_of_scope_and_the_owner_at_each_date() -> None:
    rec = register(1)
    do(rec, "assign_owner", owner="DHSC")
    do(rec, "make_commitment", commitment="c", deliverable="Scheme launched", due="April 2024")
    do(rec, "assign_owner", date(2024, 5, 1), owner="NHS England")
    do(
        rec,
        "revise_commitment",
        date(2024, 6, 1),
        commitment="c",
        deliverable="Framework published",
    )
    report = promised_vs_delivered(
        programme(date(2023, 11, 30), rec), programme(date(2024, 10, 1), rec)
    )

    (row,) = report.rows
    assert row.deliverable == "Scheme launched"
    assert row.now_deliverable == "Framework published" and row.scope_changed
    assert "scope changed: now 'Framework published'" in row.detail
    assert (row.owner_when_promised, row.owner) == ("DHSC", "NHS England")
    assert "owner when promised DHSC, when judged NHS England" in row.detail


def test_the_reason_names_the_oldest_overdue_not_the_first_and_says_how_long() -> None:
    rec = register(1)
    do(rec, "make_commitment", commitment="recent", deliverable="Recent", due="September 2024")
    do(rec, "make_commitment", commitment="old", deliverable="Old", due="November 2023")
    rating, _ = rate_recommendation(
        programme(date(2024, 10, 1), rec).recommendations[0], date(2024, 10, 1)
    )

    assert (rating.rating, rating.rule) == (RED, "overdue")
    assert "worst open commitment 'old'" in rating.reason
    assert "10 months overdue" in rating.reason


def test_the_reason_prefers_the_longest_unexplained_slip_among_ambers() -> None:
    rec = register(1)
    do(rec, "make_commitment", commitment="undated", deliverable="Undated")
    do(rec, "make_commitment", commitment="moved", deliverable="Moved", due="April 2024")
    do(rec, "revise_commitment", date(2024, 3, 1), commitment="moved", due="later in 2024")
    as_at = date(2024, 3, 2)
    rating, _ = rate_recommendation(programme(as_at, rec).recommendations[0], as_at)

    assert (rating.rating, rating.rule) == (AMBER, "slipped")
    assert "'moved'" in rating.reason and "a 245-day unexplained slip" in rating.reason


def test_a_grace_period_before_red_is_policy_and_none_by_default() -> None:
    rec = register(1)
    do(rec, "make_commitment", commitment="c", deliverable="D", due="April 2024")
    day_after = date(2024, 5, 1)
    c = programme(day_after, rec).recommendations[0].commitment("c")

    default = rate_commitment(c, day_after)
    assert (default.rating, default.rule) == (RED, "overdue")
    assert "1 day overdue" in default.reason
    lenient = Policy(overdue_grace_days=30)
    graced = rate_commitment(c, day_after, lenient)
    assert (graced.rating, graced.rule) == (AMBER, "overdue_in_grace")
    assert "within the policy's grace of 30 days before Red" in graced.reason
    assert rate_commitment(c, date(2024, 5, 31), lenient).rule == "overdue"
    assert Policy.from_mapping({"overdue_grace_days": 7}).overdue_grace_days == 7
    with pytest.raises(ValueError, match="overdue_grace_days must be a whole number"):
        Policy(overdue_grace_days=-1)


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0, "0 days"),
        (1, "1 day"),
        (32, "32 days"),
        (60, "60 days"),
        (61, "2 months"),
        (335, "11 months"),
        (365, "12 months"),
        (800, "2 years 2 months"),
        (731, "2 years"),
    ],
)
def test_durations_read_in_the_unit_a_person_would_use(days: int, words: str) -> None:
    assert in_words(days) == words
