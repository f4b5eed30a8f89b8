"""Restatements on generated histories: every answer about a past date that differs between
two knowledge dates is listed, and each listed change is explained by events recorded
between them (and dated by that past date, or corrections)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rio.aggregates.recommendation import Recommendation
from rio.domain.rag import rate_recommendation
from rio.domain.replay import replay
from rio.reports.restatements import Knowledge, restatements
from tests.properties.histories import OCCURRED, histories

Events = list[Recommendation.Event]
Answer = tuple[int, str | None, str]


def answers(events: Events, as_at: date, known_at: datetime) -> dict[Answer, object]:
    """What a reader can ask of each recommendation and commitment as at a date."""
    found: dict[Answer, object] = {}
    for rec in replay(events, as_at, known_at).recommendations:
        rating, ratings = rate_recommendation(rec, as_at)
        found[(rec.number, None, "on record")] = True
        found[(rec.number, None, "rating")] = rating.rating
        for c in rec.commitments:
            found[(rec.number, c.commitment, "on record")] = True
            found[(rec.number, c.commitment, "rating")] = ratings[c.commitment].rating
            found[(rec.number, c.commitment, "promised date")] = c.due
            found[(rec.number, c.commitment, "deliverable")] = c.deliverable
            found[(rec.number, c.commitment, "delivered")] = c.delivered and c.delivered.occurred
            found[(rec.number, c.commitment, "withdrawn")] = c.withdrawn and c.withdrawn.occurred
    return found


def differing(before: dict[Answer, object], after: dict[Answer, object]) -> set[Answer]:
    """The answers that differ; one that appears or disappears is one change ("on record"),
    not one per answer about it."""
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    came_or_went = {(n, c) for n, c, answer in changed if answer == "on record"}
    return {
        (n, c, answer)
        for n, c, answer in changed
        if (n, None) not in came_or_went or (c is None and answer == "on record")
        if (n, c) not in came_or_went or answer == "on record"
    }


def knowledge_pair(events: Events, data: st.DataObject) -> tuple[datetime, datetime]:
    times = sorted(e.timestamp for e in events)
    first = data.draw(st.sampled_from(times))
    second = data.draw(st.sampled_from([t for t in times if t >= first]))
    return first, second


@settings(max_examples=150, deadline=None)
@given(histories(), OCCURRED, st.data())
def test_every_answer_that_differs_is_listed_and_explained_by_a_later_recording(
    events: Events, as_at: date, data: st.DataObject
) -> None:
    first, second = knowledge_pair(events, data)
    report = restatements(events, as_at, Knowledge(known_at=first), Knowledge(known_at=second))

    listed = {(c.recommendation, c.commitment, c.answer) for c in report.changes}
    expected = differing(answers(events, as_at, first), answers(events, as_at, second))
    assert listed == expected
    for change in report.changes:
        assert change.because, change
        for cause in change.because:
            assert first < cause.recorded <= second
            assert cause.occurred <= as_at or cause.type == "event_corrected"
    assert (not report.changes) == (report.summary.endswith("nothing was restated"))
    complete = [
        sum(
            1
            for (_, c, a), v in answers(events, as_at, k).items()
            if (c, a, v) == (None, "rating", "Complete")
        )
        for k in (first, second)
    ]
    counted = {c.count: (c.before, c.after) for c in report.counts}
    if complete[0] != complete[1]:
        assert counted["recommendations Complete"] == tuple(complete)
    else:
        assert "recommendations Complete" not in counted


@settings(max_examples=100, deadline=None)
@given(histories(), OCCURRED, st.data())
def test_nothing_is_restated_when_nothing_was_recorded_in_between(
    events: Events, as_at: date, data: st.DataObject
) -> None:
    first, _ = knowledge_pair(events, data)
    after = [e.timestamp for e in events if e.timestamp > first]
    second = after[0] - timedelta(microseconds=1) if after else first + timedelta(days=1)

    report = restatements(events, as_at, Knowledge(known_at=first), Knowledge(known_at=second))

    assert report.changes == () and report.counts == ()
