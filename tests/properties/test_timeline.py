"""The read model's timeline refolds only from the first day an event can change: kept event
by event, it must say exactly what folding the whole history at once says, whatever order
the facts were recorded in (back-filled, out of valid-time order, corrected)."""

from __future__ import annotations

from itertools import groupby

from hypothesis import HealthCheck, given, settings

from rio.aggregates.recommendation import Recommendation
from rio.domain.replay import replay
from rio.projections import codec, parts
from rio.projections.timeline import Timeline
from tests.properties.histories import histories


def _said(line: Timeline) -> tuple[object, ...]:
    return (
        line.dates,
        line.days,
        sorted(line.all_items(), key=lambda i: (i.version, i.kind, str(i.value))),
        line.recommendation_spans(),
        line.commitment_spans(),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=histories(max_commands=40))
def test_a_timeline_kept_event_by_event_says_what_folding_it_whole_says(
    events: list[Recommendation.Event],
) -> None:
    by_rec = sorted(events, key=lambda e: (str(e.originator_id), e.originator_version))
    for _, stream in groupby(by_rec, key=lambda e: e.originator_id):
        history = list(stream)
        kept = Timeline([])
        for count, event in enumerate(history, start=1):
            change = kept.add(event)
            whole = Timeline(history[:count])
            assert _said(kept) == _said(whole)
        for day in kept.days:  # and each day is what the pure replay says of it
            (state,) = replay(history, day.date).recommendations
            assert day.state == codec.dumps(parts.bounded(state))
            assert [(c.name, c.state, c.owner) for c in day.commitments] == [
                (c.commitment, codec.dumps(parts.bounded_commitment(c)), state.owner_of(c))
                for c in state.commitments
            ]
            # Days before the first it said could change are the days it had before.
            assert change.first <= len(whole.days)
