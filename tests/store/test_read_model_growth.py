"""The read model grows linearly with a recommendation's events, not with their square.

Every version row once held the whole state, notes included: 1,000 notes on one
recommendation made a 252 MB store. Sizes here are bytes on disk (indexes included), so
the bound is a ratio of sizes, never a time.
"""

from __future__ import annotations

from datetime import date

from bench.growth import one_recommendation
from rio.application.batch import RecommendationBatch
from rio.application.commands import NoteProgress
from rio.application.service import RIO
from rio.domain.replay import replay
from rio.projections.footprint import Footprint, footprint
from rio.projections.read_model import ReadModel

RATIO = 3  # read model / event store: a small constant, whatever the number of notes


def grown(rio: RIO, model: ReadModel, batch: RecommendationBatch) -> Footprint:
    rio.record_batch([batch])  # one transaction, as a scenario file is loaded
    model.catch_up()
    return footprint(model.engine)


def test_many_notes_on_one_recommendation_keep_the_read_model_a_constant_factor_of_the_log(
    rio: RIO,
) -> None:
    model = ReadModel(rio)
    try:
        small = grown(rio, model, one_recommendation(300))
        # The same recommendation grows: the first 300 are already recorded, 1,200 are new.
        large = grown(rio, model, one_recommendation(1500))
        assert rio.position() > 1500
        assert large.ratio <= RATIO, (
            f"read model {large.read_model:,} B, log {large.event_store:,} B"
        )
        # Linear: the bytes each new event adds do not grow with the history before it (the
        # square made them grow fivefold from 300 to 1,500).
        added = (large.read_model - small.read_model) / (large.event_store - small.event_store)
        assert added <= RATIO, f"{added:.2f} read-model bytes per byte of log from 300 to 1,500"
        assert large.ratio <= small.ratio * 1.25, (small.ratio, large.ratio)

        # And what is stored once is joined back into exactly the state the fold gives.
        events = list(rio.all_events())
        notes = [c.command for c in one_recommendation(1500).commands]
        for as_at in (date(1992, 6, 1), date.today()):
            expected = replay(events, as_at)
            assert model.programme(as_at) == expected
            noted = sum(isinstance(c, NoteProgress) and c.occurred <= as_at for c in notes)
            assert len(expected.recommendations[0].notes) == noted
    finally:
        model.close()
