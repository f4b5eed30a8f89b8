"""Naming an event by what it says (rio.domain.references), and the public record's rule for
facts about a promise not yet public (rio.domain.public_record)."""

from __future__ import annotations

from datetime import date

import pytest

from rio.aggregates.recommendation import Recommendation
from rio.domain import public_record
from rio.domain.errors import InvalidCommand
from rio.domain.references import EventReference, as_yaml, describe, find, parse
from rio.domain.replay import replay
from rio.domain.values import Source

REVIEW = Source("The review", date(2022, 6, 8), "words")
ANSWER = Source("Written answer", date(2023, 11, 20), "by April 2024")
TRACKER = Source("Tracker", date(2024, 10, 1), "now Spring 2025")


def history() -> list[Recommendation.Event]:
    rec = Recommendation.register(
        review="r",
        number=1,
        title="t",
        text="x",
        occurred=date(2022, 6, 8),
        source=REVIEW,
        recorded_by="test",
    )
    rec.make_commitment(
        commitment="plan",
        deliverable="Plan",
        due="April 2024",
        owner=None,
        action=None,
        occurred=date(2023, 11, 20),
        source=ANSWER,
        recorded_by="test",
    )
    rec.make_commitment(
        commitment="scheme",
        deliverable="Scheme",
        due=None,
        owner=None,
        action=None,
        occurred=date(2023, 11, 20),
        source=TRACKER,
        recorded_by="test",
    )
    # Cited from an early document, about a promise the public first read in the tracker.
    rec.revise_commitment(
        commitment="scheme",
        due="Spring 2025",
        deliverable=None,
        reason=None,
        occurred=date(2024, 3, 1),
        source=ANSWER,
        recorded_by="test",
    )
    return list(rec.collect_events())  # type: ignore[arg-type]


def test_references_from_the_command_line() -> None:
    assert parse("7") == EventReference(version=7)
    assert parse("commitment_made:commitment=plan,occurred=2023-11-20") == EventReference(
        "commitment_made", {"commitment": "plan", "occurred": "2023-11-20"}
    )
    with pytest.raises(InvalidCommand, match="does not start with an event type"):
        parse("Plan!")
    with pytest.raises(InvalidCommand, match="is not FIELD=VALUE"):
        parse("commitment_made:commitment=plan,oops")


def test_a_reference_names_one_event_or_lists_the_candidates() -> None:
    events = history()

    assert find(events, parse("commitment_made:plan"), 1).originator_version == 2
    assert find(events, parse("commitment_made:quote=now Spring 2025"), 1).originator_version == 3
    with pytest.raises(InvalidCommand, match=r"names 2 events .* event 2 \(commitment_made:"):
        find(events, parse("commitment_made"), 1)
    with pytest.raises(InvalidCommand, match=r"candidates: event 4 \(commitment_revised:"):
        find(events, parse("commitment_revised:plan"), 1)
    assert describe(events[3], events) == "commitment_revised:commitment=scheme"
    assert as_yaml("commitment_revised:commitment=scheme") == (
        "{type: commitment_revised, commitment: scheme}"
    )


def test_a_fact_about_a_promise_not_yet_public_is_left_out_with_it() -> None:
    events = history()

    before_tracker = replay(events, date(2024, 6, 1), public_at=date(2024, 6, 1))
    after_tracker = replay(events, date(2024, 6, 1), public_at=date(2024, 10, 1))

    (rec,) = before_tracker.recommendations
    assert [c.commitment for c in rec.commitments] == ["plan"]
    (later,) = after_tracker.recommendations
    assert later.commitment("scheme").due is not None
    assert later.commitment("scheme").due.text == "Spring 2025"
    assert public_record.effective(events) == public_record.effective(events, public_at=None)
