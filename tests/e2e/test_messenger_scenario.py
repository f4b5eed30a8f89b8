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
from rio.reports.answers import Outcome, PromiseOutcome, promised_vs_delivered, timelines
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
    assert loaded.result.recommendations == [1, 2, 3, 4, 5, 6, 7]
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


@pytest.mark.parametrize(
    ("as_at", "due"),
    [
        (PROMISED_AS_AT, "by March 2024"),
        (TRACKER_DATE, "Spring 2025"),
        (date(2025, 6, 1), "summer 2025"),
    ],
)
def test_management_and_leadership_framework_kept_slipping(
    loaded: Loaded, as_at: date, due: str
) -> None:
    framework = commitment(loaded, 3, "management-leadership-framework", as_at)

    assert framework.baseline is not None and framework.baseline.text == "by March 2024"
    assert framework.due is not None and framework.due.text == due
    assert framework.delivered is None
    assert (framework.slip_days > 0) == (as_at > PROMISED_AS_AT)


def test_management_and_leadership_framework_timeline_shows_two_slips(loaded: Loaded) -> None:
    rec = programme(loaded, date(2025, 6, 1)).recommendation(REVIEW, 3)
    (timeline,) = [t for t in timelines(rec) if t.commitment == "management-leadership-framework"]

    assert [step.kind for step in timeline.steps] == ["promised", "revised", "revised"]
    assert [step.due.text if step.due else None for step in timeline.steps] == [
        "by March 2024",
        "Spring 2025",
        "summer 2025",
    ]
    baseline, first, second = (step.slip_days for step in timeline.steps)
    assert baseline == 0
    assert first is not None and second is not None
    assert 0 < first < second
    # The tracker gave a reason for the first move; NHS England's page gave none for the second.
    assert [step.unexplained for step in timeline.steps] == [False, False, True]


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

    assert [rec.number for rec in known.recommendations] == [1, 2, 3, 4, 5, 6, 7]
    assert known.recommendations == programme(loaded, TRACKER_DATE).recommendations
