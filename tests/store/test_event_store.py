"""The event store on SQLite and PostgreSQL: what is saved comes back, whole and in order."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rio.aggregates.recommendation import Recommendation
from rio.application.batch import BatchRefused, Labelled, RecommendationBatch
from rio.application.commands import (
    MakeCommitment,
    NoteProgress,
    RecordDelivery,
    RegisterRecommendation,
)
from rio.application.service import RIO
from rio.domain.errors import DomainError, NotFound, VersionConflict
from rio.domain.replay import replay
from rio.domain.values import Source
from tests.properties.histories import OCCURRED, histories
from tests.support.stores import fresh_store

SRC = Source("Written answer", date(2023, 11, 20), "launched in April 2024", file="001.txt")


def register(rio: RIO, number: int = 1) -> Recommendation:
    return rio.register_recommendation(
        RegisterRecommendation(
            review="messenger-2022",
            number=number,
            title="Induction",
            text="t",
            occurred=date(2022, 6, 8),
            source=SRC,
            recorded_by="secretariat",
        )
    )


def test_events_come_back_with_their_value_objects_intact(rio: RIO) -> None:
    rec = register(rio)
    rio.handle(
        rec.id,
        MakeCommitment(
            commitment="induction",
            deliverable="Scheme",
            due="early next year",
            occurred=date(2023, 11, 20),
            source=SRC,
            recorded_by="secretariat",
        ),
    )
    made = rio.get(rec.id).history[-1]
    assert isinstance(made, Recommendation.CommitmentMade)
    assert made.due is not None and (made.due.text, made.due.latest) == (
        "early next year",
        date(2024, 4, 30),
    )
    assert made.source == SRC and made.occurred == date(2023, 11, 20)
    assert [type(e).__name__ for e in rio.all_events()] == ["Registered", "CommitmentMade"]
    assert rio.position() == 2


def test_a_stale_expected_version_is_refused_and_nothing_is_lost(rio: RIO) -> None:
    rec = register(rio)
    rio.handle(
        rec.id,
        NoteProgress(note="first", occurred=date(2023, 1, 1), source=SRC, recorded_by="a"),
        expected_version=1,
    )
    with pytest.raises(VersionConflict, match="version 2, not 1"):
        rio.handle(
            rec.id,
            NoteProgress(note="second", occurred=date(2023, 1, 2), source=SRC, recorded_by="b"),
            expected_version=1,
        )
    assert [getattr(e, "note", None) for e in rio.get(rec.id).history] == [None, "first"]


def test_two_writers_on_one_version_cannot_both_win(database_url: str) -> None:
    first, second = RIO(database_url), RIO(database_url)
    try:
        rec = register(first)
        a, b = first.get(rec.id), second.get(rec.id)
        a.note_progress(note="a", occurred=date(2023, 1, 1), source=SRC, recorded_by="a")
        b.note_progress(note="b", occurred=date(2023, 1, 1), source=SRC, recorded_by="b")
        first._save(a)
        with pytest.raises(VersionConflict, match="changed by someone else"):
            second._save(b)
        assert [getattr(e, "note", None) for e in first.get(rec.id).history] == [None, "a"]
    finally:
        first.close()
        second.close()


def test_registering_the_same_recommendation_twice_is_refused(rio: RIO) -> None:
    register(rio)
    with pytest.raises(VersionConflict, match="already registered"):
        register(rio)


def test_an_unknown_recommendation_is_not_found(rio: RIO) -> None:
    with pytest.raises(NotFound, match="no recommendation 7"):
        rio.find("messenger-2022", 7)


def test_a_batch_is_recorded_all_or_nothing(rio: RIO) -> None:
    def registration(number: int) -> Labelled[RegisterRecommendation]:
        return Labelled(
            RegisterRecommendation(
                review="r",
                number=number,
                title="T",
                text="",
                occurred=date(2022, 1, 1),
                source=SRC,
                recorded_by="s",
            ),
            f"file:{number}",
        )

    good = RecommendationBatch(
        registration(1),
        [
            Labelled(
                NoteProgress(note="n", occurred=date(2023, 1, 1), source=SRC, recorded_by="s"),
                "file:2",
            )
        ],
    )
    bad = RecommendationBatch(
        registration(2),
        [
            Labelled(
                RecordDelivery(
                    commitment="x",
                    evidence="e",
                    occurred=date(2023, 1, 1),
                    source=SRC,
                    recorded_by="s",
                ),
                "file:9",
            )
        ],
    )
    with pytest.raises(BatchRefused, match=r"^file:9: no commitment 'x'"):
        rio.record_batch([good, bad])
    assert rio.position() == 0
    assert rio.record_batch([good]).recorded == 2
    again = rio.record_batch([good])
    assert (again.recorded, again.already_recorded) == (0, 2)


def test_the_notification_log_is_read_page_by_page(rio: RIO) -> None:
    rec = rio.get(register(rio).id)
    for day in range(1, 1201):
        rec.note_progress(
            note=f"note {day}", occurred=date(2023, 1, 1), source=SRC, recorded_by="s"
        )
    rio._save(rec)
    events = list(rio.all_events())
    assert len(events) == 1201
    assert [e.originator_version for e in events] == list(range(1, 1202))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=histories(), as_at=OCCURRED, data=st.data())
def test_replay_from_the_store_equals_replay_of_the_events_recorded(
    backend: str, events: list[Recommendation.Event], as_at: date, data: st.DataObject
) -> None:
    with fresh_store(backend) as rio:
        if events:
            rio.events.put(events)
        stored = list(rio.all_events())
        assert stored == events
        known_at = data.draw(st.none() | st.sampled_from([e.timestamp for e in events] or [None]))
        assert replay(stored, as_at, known_at) == replay(events, as_at, known_at)


def test_domain_errors_are_one_family(rio: RIO) -> None:
    rec = register(rio)
    with pytest.raises(DomainError):
        rio.handle(
            rec.id,
            RecordDelivery(
                commitment="none",
                evidence="e",
                occurred=date(2023, 1, 1),
                source=SRC,
                recorded_by="s",
            ),
        )
