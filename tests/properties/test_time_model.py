"""DESIGN.md's time-model invariants, as properties over generated histories."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.persistence import Mapper
from hypothesis import given, settings
from hypothesis import strategies as st

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from rio.domain.rag import rate_recommendation
from rio.domain.replay import replay
from rio.reports.answers import promised_vs_delivered, status, timelines
from tests.properties.histories import OCCURRED, histories

Events = list[Recommendation.Event]


def answers(events: Events, as_at: date, known_at: datetime | None = None) -> object:
    """Everything a user can ask as at a date: the state and every rating with its reason."""
    programme = replay(events, as_at, known_at)
    return (
        programme.recommendations,
        [rate_recommendation(rec, as_at) for rec in programme.recommendations],
        # With review-wide promises judged for the recommendations they serve (issue 14),
        # the timelines (stages, reported statuses) and the report against the start.
        [(s.rating, s.commitments) for s in status(programme)],
        [timelines(rec) for rec in programme.recommendations],
        promised_vs_delivered(
            replay(events, min(as_at, date(2023, 11, 30)), known_at), programme
        ).rows,
    )


def moments(events: Events) -> list[datetime]:
    """Interesting known_at values: just before, at, and just after each recording."""
    result = []
    for event in events:
        result += [event.timestamp - timedelta(microseconds=1), event.timestamp]
    return result


@settings(max_examples=150, deadline=None)
@given(histories(), OCCURRED)
def test_an_event_dated_after_d_never_changes_the_answer_as_at_d(events: Events, d: date) -> None:
    for i, event in enumerate(events):
        if isinstance(event, Recommendation.EventCorrected) or event.occurred <= d:
            continue
        assert answers(events[: i + 1], d) == answers(events[:i], d)


@settings(max_examples=150, deadline=None)
@given(histories(), OCCURRED, st.data())
def test_a_correction_changes_the_past_only_from_its_own_recording_on(
    events: Events, d: date, data: st.DataObject
) -> None:
    for i, event in enumerate(events):
        if not isinstance(event, Recommendation.EventCorrected):
            continue
        before = event.timestamp - timedelta(microseconds=1)
        assert answers(events[: i + 1], d, before) == answers(events[:i], d, before)


@settings(max_examples=150, deadline=None)
@given(histories(), OCCURRED, st.data())
def test_nothing_recorded_after_t_changes_any_answer_known_at_t(
    events: Events, d: date, data: st.DataObject
) -> None:
    if not events:
        return
    t = data.draw(st.sampled_from(moments(events)))
    known_then = [e for e in events if e.timestamp <= t]
    assert answers(events, d, t) == answers(known_then, d, t)


@settings(max_examples=100, deadline=None)
@given(histories())
def test_as_at_today_and_known_now_is_the_current_state(events: Events) -> None:
    today = date(2026, 11, 25)
    latest = max((e.timestamp for e in events), default=None)
    current = replay(events, date.max)
    assert replay(events, today, latest).recommendations == current.recommendations
    assert replay(events, today).recommendations == current.recommendations


@pytest.fixture(scope="module")
def mapper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mapper[UUID]]:
    """The mapper RIO stores events with."""
    app = RIO(f"sqlite:///{tmp_path_factory.mktemp('time_model') / 'rio.db'}")
    yield app.mapper
    app.close()


@settings(max_examples=100, deadline=None)
@given(histories(), OCCURRED, st.randoms(use_true_random=False))
def test_replay_is_deterministic_whatever_order_events_arrive_in(
    mapper: Mapper[UUID], events: Events, d: date, rnd: random.Random
) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)
    # The same facts read back from their stored form (new objects, decoded values) answer
    # exactly as the events did when recorded: answers depend on the facts alone.
    stored: Events = []
    for event in events:
        decoded = mapper.to_domain_event(mapper.to_stored_event(event))
        assert isinstance(decoded, Recommendation.Event)
        stored.append(decoded)
    assert stored == events and all(a is not b for a, b in zip(stored, events, strict=True))
    assert answers(stored, d) == answers(events, d)
    assert answers(shuffled, d) == answers(events, d)
    assert answers(events + events, d) == answers(events, d)
