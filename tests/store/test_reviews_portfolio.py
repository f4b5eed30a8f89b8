"""Many reviews in one store: registered with their titles, counted per review by the SQL
roll-up exactly as the pure replay rates them, and narrowed to what an owner reads."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rio.aggregates.recommendation import Recommendation
from rio.application.reviews import RegisterReview, Registration, Reviews
from rio.application.service import RIO
from rio.domain import access, clock
from rio.domain.access import Role
from rio.domain.errors import InvalidCommand
from rio.domain.rag import DEFAULT_POLICY, rate_commitment, rate_recommendation
from rio.domain.replay import replay
from rio.domain.values import Source
from rio.projections.read_model import ReadModel
from rio.projections.reviews import (
    Filters,
    ReviewRegister,
    index,
    portfolio,
    readable_scope,
)
from rio.scenario import batches, read
from tests.conftest import MESSENGER
from tests.properties.histories import OCCURRED, histories
from tests.support.stores import fresh_store

CORONER = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "coroner-report.yaml"


def load(rio: RIO, path: Path) -> None:
    scenario, lines = read(path)
    rio.record_batch(batches(scenario, lines, str(path), "test"))
    Reviews(rio).register(scenario.review.command("test"))


@pytest.fixture
def two_reviews(database_url: str) -> tuple[RIO, ReadModel, ReviewRegister]:
    rio = RIO(database_url)
    load(rio, MESSENGER)
    load(rio, CORONER)
    model = ReadModel(rio)
    return rio, model, ReviewRegister(rio, model.engine)


def _expected_counts(
    rio: RIO, as_at: date, known_at: datetime | None = None
) -> dict[str, Counter[str]]:
    programme = replay(list(rio.all_events()), as_at, known_at)
    expected: dict[str, Counter[str]] = {}
    for rec in programme.recommendations:
        if rec.review_wide:  # the review's own stream is not a recommendation
            continue
        rating = rate_recommendation(rec, as_at, DEFAULT_POLICY)[0].rating
        expected.setdefault(rec.review, Counter())[rating] += 1
    return expected


def test_a_registered_review_is_listed_by_title_with_its_deadline_rule(
    two_reviews: tuple[RIO, ReadModel, ReviewRegister],
) -> None:
    _, model, register = two_reviews
    reviews = register.reviews(model)
    assert list(reviews) == ["messenger-2022", "pfd-2024-0117"]
    coroner = reviews["pfd-2024-0117"]
    assert coroner.title == "Prevention of future deaths report: discharge from hospital"
    assert coroner.kind == "coroners_report"
    # A coroner's report takes the statutory 56 days when the file gives no other.
    assert coroner.details.response_days == 56
    assert coroner.details.response_due == date(2024, 3, 28)
    assert coroner.details.theme_of(2) == "Staffing"
    assert reviews["messenger-2022"].title.startswith("Health and social care review")


def test_registering_again_records_nothing_and_a_change_is_a_revision_known_from_then(
    database_url: str,
) -> None:
    rio = RIO(database_url)
    reviews = Reviews(rio)
    command = RegisterReview(key="inq-1", title="First title", kind="inquiry", recorded_by="t")
    assert reviews.register(command)[1] is Registration.REGISTERED
    before = rio.position()
    assert reviews.register(command)[1] is Registration.UNCHANGED
    assert rio.position() == before
    first_known = clock.now()
    renamed = RegisterReview(key="inq-1", title="Corrected title", kind="inquiry", recorded_by="t")
    assert reviews.register(renamed)[1] is Registration.REVISED
    register = ReviewRegister(rio, ReadModel(rio).engine)
    assert register.registered()["inq-1"].title == "Corrected title"
    assert register.registered(first_known)["inq-1"].title == "First title"
    with pytest.raises(InvalidCommand, match="review kind 'novel' is not one of"):
        reviews.register(RegisterReview(key="x", title="X", kind="novel", recorded_by="t"))


def test_a_store_without_registered_reviews_titles_them_by_key(database_url: str) -> None:
    rio = RIO(database_url)
    scenario, lines = read(MESSENGER)
    rio.record_batch(batches(scenario, lines, str(MESSENGER), "test"))  # no registration
    model = ReadModel(rio)
    info = ReviewRegister(rio, model.engine).reviews(model)["messenger-2022"]
    assert (info.title, info.registered) == ("messenger-2022", False)


@pytest.mark.parametrize("as_at", [date(2023, 1, 1), date(2024, 5, 1), date(2025, 6, 1)])
def test_the_index_counts_each_review_as_the_replay_rates_it(
    two_reviews: tuple[RIO, ReadModel, ReviewRegister], as_at: date
) -> None:
    rio, model, register = two_reviews
    rows = index(model, register, as_at)
    got = {r.review.key: Counter(r.ratings) for r in rows}
    # A registered review is listed before its recommendations were made, counting none.
    assert set(got) == {"messenger-2022", "pfd-2024-0117"}
    assert {k: v for k, v in got.items() if v} == _expected_counts(rio, as_at)
    assert [r.review.title for r in rows] == sorted(
        (r.review.title for r in rows), key=str.casefold
    )


def test_an_owner_key_sees_only_its_own_across_reviews(
    two_reviews: tuple[RIO, ReadModel, ReviewRegister],
) -> None:
    rio, model, register = two_reviews
    scope = readable_scope(model, Role.OWNER, "testshire  staffing board")
    assert scope == {"pfd-2024-0117": {2}}
    today = clock.today()
    view = portfolio(model, register, today, readable=scope)
    assert [(r.review.key, r.recommendations) for r in view.reviews] == [("pfd-2024-0117", 1)]
    # The rule is access.may_read's: what the replay says the owner reads, per review.
    programme = replay(list(rio.all_events()), today)
    mine = {
        (rec.review, rec.number)
        for rec in programme.recommendations
        if access.may_read(Role.OWNER, "Testshire Staffing Board", access.owners_of(rec))
    }
    assert mine == {("pfd-2024-0117", 2)}
    assert readable_scope(model, Role.AUDITOR, None) is None


def test_the_portfolio_finds_overdue_promises_and_unexplained_slips_across_reviews(
    two_reviews: tuple[RIO, ReadModel, ReviewRegister],
) -> None:
    _rio, model, register = two_reviews
    as_at = date(2025, 1, 15)
    view = portfolio(model, register, as_at)
    assert {r.review.key for r in view.reviews} == {"messenger-2022", "pfd-2024-0117"}
    overdue = [(p.review, p.number, p.commitment) for p in view.oldest_overdue]
    assert ("pfd-2024-0117", 1, "checklist") in overdue
    dues = [p.due_latest for p in view.oldest_overdue]
    assert dues == sorted(dues)  # oldest first
    checklist = next(p for p in view.oldest_overdue if p.commitment == "checklist")
    assert checklist.days == (as_at - date(2024, 12, 31)).days
    assert checklist.review_title.startswith("Prevention of future deaths")
    slips = [(p.review, p.commitment, p.days) for p in view.longest_unexplained_slips]
    assert ("pfd-2024-0117", "checklist", (date(2024, 12, 31) - date(2024, 6, 30)).days) in slips
    assert [d for *_, d in slips] == sorted((d for *_, d in slips), reverse=True)
    # Filters: by kind, by theme, by owner.
    by_kind = portfolio(model, register, as_at, filters=Filters(kind="coroners_report"))
    assert [r.review.key for r in by_kind.reviews] == ["pfd-2024-0117"]
    by_theme = portfolio(model, register, as_at, filters=Filters(theme="discharge"))
    assert [(r.review.key, r.recommendations) for r in by_theme.reviews] == [("pfd-2024-0117", 1)]
    assert [p.number for p in by_theme.oldest_overdue] == [1]
    by_owner = portfolio(model, register, as_at, filters=Filters(owner="Testshire Staffing Board"))
    assert by_owner.oldest_overdue == ()
    assert by_owner.totals == {"Complete": 1}


def test_the_portfolio_as_known_before_a_review_was_loaded_does_not_count_it(
    database_url: str,
) -> None:
    rio = RIO(database_url)
    load(rio, MESSENGER)
    known = datetime.now(UTC)
    load(rio, CORONER)
    model = ReadModel(rio)
    register = ReviewRegister(rio, model.engine)
    then = portfolio(model, register, date(2025, 1, 15), known)
    assert [r.review.key for r in then.reviews if r.recommendations] == ["messenger-2022"]
    assert {r.review.key: Counter(r.ratings) for r in then.reviews if r.recommendations} == (
        _expected_counts(rio, date(2025, 1, 15), known)
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=histories(), as_at=OCCURRED, data=st.data())
def test_sql_roll_up_counts_match_the_replay_for_generated_histories(
    backend: str, events: list[Recommendation.Event], as_at: date, data: st.DataObject
) -> None:
    moments = [e.timestamp for e in events]
    known_at = data.draw(st.none() | st.sampled_from(moments)) if moments else None
    numbers = sorted({e.number for e in events if isinstance(e, Recommendation.Registered)})
    kept = data.draw(st.sets(st.sampled_from(numbers)) if numbers else st.just(set()))
    with fresh_store(backend) as rio:
        if events:
            rio.events.put(events)
        model = ReadModel(rio)
        register = ReviewRegister(rio, model.engine)
        try:
            rows = index(model, register, as_at, known_at, outcomes=True)
            # A scope by number (an owner's) takes the other path through the counts.
            scoped = index(model, register, as_at, known_at, scope={"generated": kept})
        finally:
            model.close()
    programme = replay(events, as_at, known_at)
    recs = [rec for rec in programme.recommendations if not rec.review_wide]
    expected = Counter(rate_recommendation(rec, as_at)[0].rating for rec in recs)
    got = Counter(rows[0].ratings) if rows else Counter()
    assert got == expected
    outcomes = Counter(
        rate_commitment(c, as_at).rule for rec in programme.recommendations for c in rec.commitments
    )
    assert Counter(rows[0].outcomes if rows else {}) == outcomes
    in_scope = Counter(
        rate_recommendation(rec, as_at)[0].rating for rec in recs if rec.number in kept
    )
    assert Counter(scoped[0].ratings if scoped else {}) == in_scope


def test_an_answer_kept_for_a_question_is_not_given_once_an_event_changes_it(
    two_reviews: tuple[RIO, ReadModel, ReviewRegister],
) -> None:
    rio, model, register = two_reviews
    today = clock.today()
    first = index(model, register, today)
    assert index(model, register, today) == first  # asked again: the same answer
    # Every open promise of one recommendation withdrawn: its rating can only change.
    rec = next(
        r
        for r in replay(list(rio.all_events()), today).recommendations
        if not r.review_wide and any(c.is_open for c in r.commitments)
    )
    aggregate = rio.get(rec.id)
    for commitment in (c for c in rec.commitments if c.is_open):
        aggregate.withdraw_commitment(
            commitment=commitment.commitment,
            reason="superseded",
            occurred=today,
            source=Source("a test", today, "withdrawn"),
            recorded_by="test",
        )
    rio.save(aggregate)
    after = index(model, register, today)
    assert after != first
    assert {r.review.key: Counter(r.ratings) for r in after if r.ratings} == _expected_counts(
        rio, today
    )
