"""The portfolio query's SQL rules agree with rio.domain.rag on every commitment, on both stores."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rio.aggregates.recommendation import Recommendation
from rio.domain.rag import Policy, rate_commitment
from rio.domain.replay import replay
from rio.projections.portfolio import portfolio, summary
from rio.projections.read_model import ReadModel
from tests.properties.histories import OCCURRED, histories
from tests.store.test_event_store import fresh_store


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=histories(), as_at=OCCURRED, stale=st.sampled_from([30, 180]), data=st.data())
def test_sql_ratings_match_the_policy_for_every_commitment(
    backend: str, events: list[Recommendation.Event], as_at: date, stale: int, data: st.DataObject
) -> None:
    policy = Policy(stale_after_days=stale)
    known_at = data.draw(st.none() | st.sampled_from([e.timestamp for e in events] or [None]))
    with fresh_store(backend) as rio:
        if events:
            rio.events.put(events)
        model = ReadModel(rio)
        try:
            rows = portfolio(model, as_at, known_at, policy)
            counts = summary(model, as_at, known_at, policy)
        finally:
            model.close()
    expected = [
        (
            rec.review,
            rec.number,
            c.commitment,
            rec.owner_of(c),
            rate_commitment(c, as_at, policy).rule,
        )
        for rec in replay(events, as_at, known_at).recommendations
        for c in rec.commitments
    ]
    assert [(r.review, r.number, r.commitment, r.owner, r.rule) for r in rows] == expected
    assert counts == Counter(rule for *_, rule in expected), "the counts the board shows"
