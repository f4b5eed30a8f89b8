"""The Messenger review as the public record tells it, loaded through the application.

The scenario is loaded once per store (SQLite and PostgreSQL); every test here only reads,
and asserts what the real documents say happened to the promises.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import pytest

from rio.application.batch import BatchResult
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.rag import RED, rate_recommendation
from rio.domain.replay import replay
from rio.domain.state import Commitment, Programme
from rio.reports.answers import (
    Outcome,
    PromisedVsDelivered,
    PromiseOutcome,
    promised_vs_delivered,
    status,
    timelines,
)
from rio.scenario import batches, read
from tests.conftest import MESSENGER, postgres_schema

REVIEW = "messenger-2022"
PROMISED_AS_AT = date(2023, 11, 30)  # just after the written answer of 20 November 2023
TRACKER_DATE = date(2024, 10, 1)  # the date the scenario gives the DHSC/NHSE tracker table


@dataclass(frozen=True)
class Loaded:
    rio: RIO
    result: BatchResult
    before: datetime  # a moment before the load began
    after: datetime  # a moment after it ended


def load(rio: RIO) -> BatchResult:
    scenario, lines = read(MESSENGER)
    return rio.record_batch(batches(scenario, lines, str(MESSENGER), "test"))


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty store per backend, kept for the whole module (conftest's are per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('messenger') / 'rio.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="module")
def loaded(store_url: str) -> Iterator[Loaded]:
    app = RIO(store_url)
    try:
        before = clock.now()
        result = load(app)
        after = clock.now()
        yield Loaded(app, result, before, after)
    finally:
        app.close()


def programme(loaded: Loaded, as_at: date, known_at: datetime | None = None) -> Programme:
    return replay(loaded.rio.all_events(), as_at, known_at)


def commitment(loaded: Loaded, number: int, name: str, as_at: date) -> Commitment:
    return programme(loaded, as_at).recommendation(REVIEW, number).commitment(name)


def report_row(loaded: Loaded, number: int, name: str) -> PromiseOutcome:
    events = list(loaded.rio.all_events())
    report = promised_vs_delivered(replay(events, PROMISED_AS_AT), replay(events, TRACKER_DATE))
    (row,) = [r for r in report.rows if r.recommendation == number and r.commitment == name]
    return row


def test_loading_records_every_recommendation_of_the_review(loaded: Loaded) -> None:
    # 0 is the review's own stream (issue 14): the delivery plan, recorded once for all seven.
    assert loaded.result.recommendations == [0, 1, 2, 3, 4, 5, 6, 7]
    assert loaded.result.already_recorded == 0
    assert loaded.result.recorded == loaded.rio.position() > 7


def test_national_induction_was_promised_for_april_2024_as_at_november_2023(
    loaded: Loaded,
) -> None:
    induction = commitment(loaded, 1, "national-induction", PROMISED_AS_AT)

    assert induction.due is not None
    assert induction.due.text == "April 2024"
    assert induction.due.latest == date(2024, 4, 30)
    assert induction.action == "1.1"
    assert induction.is_open


def test_national_induction_had_slipped_unexplained_to_later_in_2024_by_the_tracker(
    loaded: Loaded,
) -> None:
    row = report_row(loaded, 1, "national-induction")

    assert row.outcome == Outcome.SLIPPED
    assert row.promised is not None and row.promised.text == "April 2024"
    assert row.now_due is not None and row.now_due.text == "later in 2024"
    assert row.days == (row.now_due.latest - date(2024, 4, 30)).days > 0
    assert row.unexplained_slips == 1
    induction = commitment(loaded, 1, "national-induction", TRACKER_DATE)
    assert induction.delivered is None
    assert [r.unexplained for r in induction.revisions] == [True]


def test_edi_improvement_plan_was_delivered_on_8_june_2023(loaded: Loaded) -> None:
    plan = commitment(loaded, 2, "edi-improvement-plan", TRACKER_DATE)

    assert plan.delivered is not None
    assert plan.delivered.occurred == date(2023, 6, 8)
    row = report_row(loaded, 2, "edi-improvement-plan")
    assert row.outcome == Outcome.DELIVERED_ON_TIME
    assert "2023-06-08" in row.detail


# Issue 14: the framework's three dates are three stages (ready for consultation, then the
# standards finalised, then implementation started), each a deliverable of its own that
# supersedes the one before; they were modelled as two slips of one deliverable, which
# measured "+518 days" against a moving target. Each stage now has its own baseline.
STAGES = (
    "management-leadership-framework",
    "management-leadership-framework-finalised",
    "management-leadership-framework-implementation",
)


@pytest.mark.parametrize(
    ("as_at", "stage", "due"),
    [
        (PROMISED_AS_AT, 0, "by March 2024"),
        (TRACKER_DATE, 1, "Spring 2025"),
        (date(2025, 6, 1), 2, "summer 2025"),
    ],
)
def test_the_management_and_leadership_framework_moved_on_stage_by_stage(
    loaded: Loaded, as_at: date, stage: int, due: str
) -> None:
    rec = programme(loaded, as_at).recommendation(REVIEW, 3)
    current = rec.commitment(STAGES[stage])

    assert current.is_open and current.delivered is None
    assert current.due is not None and current.due.text == due
    assert current.baseline == current.due and current.slip_days == 0  # its own promise
    for earlier in STAGES[:stage]:
        closed = rec.commitment(earlier)
        assert closed.superseded is not None and not closed.is_open
    assert [c.commitment for c in rec.stages(current)] == list(STAGES[: stage + 1])


def test_the_framework_timeline_shows_each_stage_superseded_as_one_line_of_work(
    loaded: Loaded,
) -> None:
    rec = programme(loaded, date(2025, 6, 1)).recommendation(REVIEW, 3)
    lines = {t.commitment: t for t in timelines(rec)}

    for name in STAGES:
        assert lines[name].stages == STAGES
    first, second, third = (lines[name] for name in STAGES)
    assert [step.kind for step in first.steps] == ["promised", "superseded"]
    assert [step.kind for step in second.steps] == ["promised", "superseded"]
    assert [step.kind for step in third.steps] == ["promised"]
    assert first.steps[1].occurred == TRACKER_DATE and STAGES[1] in (first.steps[1].reason or "")
    # No stage slipped within itself, so nothing is counted as an unexplained slip.
    assert not any(step.unexplained for line in lines.values() for step in line.steps)
    row = report_row(loaded, 3, STAGES[0])
    assert row.outcome == Outcome.SUPERSEDED
    assert row.days == (TRACKER_DATE - date(2024, 3, 31)).days  # past its own date, then replaced
    assert "6 months after its date" in row.detail


def test_board_leadership_competency_framework_was_delivered_in_february_2024(
    loaded: Loaded,
) -> None:
    delivered = [
        c
        for rec in programme(loaded, TRACKER_DATE).recommendations
        for c in rec.commitments
        if "Leadership Competency Framework" in c.deliverable and c.delivered is not None
    ]

    (framework,) = delivered
    assert framework.delivered is not None
    assert "February 2024" in framework.delivered.detail
    assert (framework.delivered.occurred.year, framework.delivered.occurred.month) == (2024, 2)
    before = commitment(loaded, 4, framework.commitment, date(2024, 1, 31))
    assert before.delivered is None


def test_recommendation_1_is_red_in_june_2024_because_april_2024_passed(loaded: Loaded) -> None:
    as_at = date(2024, 6, 1)
    rec = programme(loaded, as_at).recommendation(REVIEW, 1)

    rating, ratings = rate_recommendation(rec, as_at)

    assert rating.rating == RED
    assert rating.rule == "overdue"
    assert "April 2024" in rating.reason
    assert ratings["national-induction"].rating == RED


def test_recommendation_1_was_not_red_when_the_promise_was_fresh(loaded: Loaded) -> None:
    rec = programme(loaded, PROMISED_AS_AT).recommendation(REVIEW, 1)

    rating, ratings = rate_recommendation(rec, PROMISED_AS_AT)

    assert rating.rating != RED
    assert ratings["national-induction"].rating != RED


def test_loading_twice_records_nothing_new(loaded: Loaded) -> None:
    position = loaded.rio.position()

    again = load(loaded.rio)

    assert again.recorded == 0
    assert again.already_recorded == loaded.result.recorded
    assert loaded.rio.position() == position


def test_known_at_before_the_load_shows_no_recommendations(loaded: Loaded) -> None:
    assert programme(loaded, TRACKER_DATE, known_at=loaded.before).recommendations == ()


def test_known_at_after_the_load_shows_all_seven(loaded: Loaded) -> None:
    known = programme(loaded, TRACKER_DATE, known_at=loaded.after)

    # and the review's own stream (0), where the delivery plan is recorded once
    assert [rec.number for rec in known.recommendations] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert known.recommendations == programme(loaded, TRACKER_DATE).recommendations


# --- issue 14: true to the record ------------------------------------------------------------


def report(loaded: Loaded) -> PromisedVsDelivered:
    events = list(loaded.rio.all_events())
    return promised_vs_delivered(replay(events, PROMISED_AS_AT), replay(events, TRACKER_DATE))


def test_the_delivery_plan_has_one_row_saying_it_was_reported_not_published(
    loaded: Loaded,
) -> None:
    rows = [r for r in report(loaded).rows if r.commitment == "delivery-plan"]

    (plan,) = rows  # once, not once per recommendation
    assert plan.review_wide and plan.recommendations == "all" and plan.serves is None
    assert plan.outcome == Outcome.REPORTED_NOT_DELIVERED
    assert plan.reported is not None and plan.reported.occurred == TRACKER_DATE
    assert "reported not delivered as of 2024-10-01" in plan.detail
    assert "The plan itself is not yet published." in plan.detail
    assert "Table of Recommendations" in plan.detail  # the source that says it
    assert plan.owner == "Department of Health and Social Care"
    (review_row,) = [
        s for s in status(replay(loaded.rio.all_events(), TRACKER_DATE)) if s.state.review_wide
    ]
    assert review_row.rating.rating == "Amber"  # no date; not Red: nothing was overdue
    assert "reported not delivered as of 2024-10-01" in review_row.rating.reason


def test_the_report_summary_counts_distinct_promises_and_inferred_ones_apart(
    loaded: Loaded,
) -> None:
    answer = report(loaded)
    names = [(r.recommendation, r.commitment) for r in answer.rows]
    inferred = {r.commitment for r in answer.rows if r.inferred}

    assert len(names) == len(set(names)) == 15
    assert inferred == {
        "edi-improvement-plan",
        "board-training-offer",
        "appraisal-non-clinical-managers-first",
        "leadership-competency-framework",
        "ned-induction",
    }
    assert answer.summary.startswith(
        "15 commitments as promised at 2023-11-30 (10 stated, 5 inferred), outcome as at "
        "2024-10-01: "
    )
    stated, _, inferred_part = answer.summary.partition("; inferred: ")
    assert "1 reported not delivered" in stated and "2 no evidence" in stated
    assert inferred_part.startswith("4 delivered on time, 1 overdue")
    assert answer.summary.endswith("1 of them for the review as a whole, counted once")


def test_recommendation_1_at_the_tracker_date_names_the_245_day_unexplained_slip(
    loaded: Loaded,
) -> None:
    ((rec1, rating),) = [
        (s.state, s.rating)
        for s in status(replay(loaded.rio.all_events(), TRACKER_DATE))
        if s.state.number == 1
    ]

    assert (rating.rating, rating.rule) == ("Amber", "slipped")
    assert "'national-induction'" in rating.reason
    assert "a 245-day unexplained slip" in rating.reason
    # The review-wide plan no longer sets an Amber floor; the reason says what became of it.
    assert "has no promised date" not in rating.reason
    assert "'delivery-plan' is rated once for the review as a whole" in rating.reason
    assert rating.policy == "rio-default/3"
    assert rec1.commitment("national-induction").slip_days == 245


def test_the_induction_promise_shows_its_change_of_scope_and_its_partnership(
    loaded: Loaded,
) -> None:
    row = report_row(loaded, 1, "national-induction")

    assert row.deliverable.endswith("launched")  # as promised in November 2023
    assert row.now_deliverable == "Induction framework for all new staff, published"
    assert row.scope_changed and "scope changed: now 'Induction framework" in row.detail
    assert row.owner == row.owner_when_promised == "NHS England"
    rec = programme(loaded, TRACKER_DATE).recommendation(REVIEW, 1)
    (partnership,) = [n for n in rec.notes if n.commitment == "national-induction"]
    assert partnership.occurred == date(2023, 11, 20) and "Skills for Care" in partnership.text
    (line,) = [t for t in timelines(rec) if t.commitment == "national-induction"]
    revised = [step for step in line.steps if step.kind == "revised"]
    assert [step.deliverable for step in revised] == [row.now_deliverable]


def test_the_trackers_in_progress_for_actions_2_1_to_2_3_is_recorded_as_reported(
    loaded: Loaded,
) -> None:
    rec = programme(loaded, TRACKER_DATE).recommendation(REVIEW, 2)

    assert [(s.action, s.status) for s in rec.statuses] == [
        ("2.1", "in_progress"),
        ("2.2", "in_progress"),
        ("2.3", "in_progress"),
    ]
    assert all(s.source.quote and "In" in s.source.quote for s in rec.statuses)
    before = programme(loaded, date(2024, 9, 30)).recommendation(REVIEW, 2)
    assert before.statuses == ()


def test_the_2022_23_appraisal_focus_is_an_inferred_promise_overdue_in_words(
    loaded: Loaded,
) -> None:
    row = report_row(loaded, 4, "appraisal-non-clinical-managers-first")

    assert row.inferred and row.promised is not None and row.promised.text == "2022/23"
    assert row.outcome == Outcome.OVERDUE
    assert row.detail.startswith("overdue by 18 months")  # a year and a half, not "550 days"


def test_every_undated_source_says_why_it_has_its_date() -> None:
    scenario, _ = read(MESSENGER)
    for name in ("press-release", "tracker", "nhse-programme-page"):
        note = scenario.sources[name].note
        assert note is not None and note.startswith("Undated"), name
