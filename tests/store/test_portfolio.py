"""The SQL compiled from the rule table agrees with the pure replay, on both stores.

Generated histories, dates, thresholds and rating overrides: the portfolio's rule per
commitment, the board's roll-up per recommendation and slip, and the alert predicates
(overdue, stale, due soon) compiled to SQL against the alerts the fold raises.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rio.aggregates.recommendation import Recommendation
from rio.domain.alert_policy import DUE_SOON, AlertKind, Thresholds, alerts_due
from rio.domain.rag import (
    OVERDUE,
    RATINGS,
    RULE_NAMES,
    STALE,
    Policy,
    Rating,
    rate_commitment,
    rate_recommendation,
)
from rio.domain.replay import replay
from rio.domain.rules import Condition
from rio.domain.state import RecommendationState
from rio.projections.portfolio import (
    commitment_facts_columns,
    portfolio,
    portfolio_page,
    summary,
)
from rio.projections.read_model import ReadModel, commitment_versions, visible
from rio.projections.sql_rules import condition_expression
from rio.web.board import board
from tests.properties.histories import OCCURRED, histories
from tests.support.stores import fresh_store

# The default policy, RIO_STALE_AFTER_DAYS-style thresholds, and overridden ratings (which
# move commitments in and out of the roll-up's "open" set).
_stale = st.sampled_from([30, 90, 180]) | st.integers(0, 1200)
_ratings: st.SearchStrategy[dict[str, str]] = st.just({}) | st.dictionaries(
    st.sampled_from(RULE_NAMES), st.sampled_from(RATINGS)
)
_PREDICATES: dict[AlertKind, Condition] = {
    AlertKind.OVERDUE: OVERDUE,
    AlertKind.STALE: STALE,
    AlertKind.DUE_SOON: DUE_SOON,
}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=histories(),
    as_at=OCCURRED,
    stale=_stale,
    ratings=_ratings,
    due_soon=st.sampled_from([0, 30, 120]),
    data=st.data(),
)
def test_sql_ratings_match_the_policy_for_every_commitment(
    backend: str,
    events: list[Recommendation.Event],
    as_at: date,
    stale: int,
    ratings: dict[str, str],
    due_soon: int,
    data: st.DataObject,
) -> None:
    policy = Policy(stale_after_days=stale, ratings={**Policy().ratings, **ratings})
    thresholds = Thresholds(due_soon_days=due_soon, policy=policy)
    moments = [e.timestamp for e in events]
    known_at = data.draw(st.none() | st.sampled_from(moments)) if moments else None
    with fresh_store(backend) as rio:
        if events:
            rio.events.put(events)
        model = ReadModel(rio)
        try:
            rows = portfolio(model, as_at, known_at, policy)
            # Page by page, by key, it is the same listing (a page of 200 at scale).
            limit, paged, after = data.draw(st.integers(1, 4)), [], None
            while True:
                page, after = portfolio_page(model, as_at, known_at, policy, after, limit)
                paged.extend(page)
                if after is None:
                    break
            assert paged == rows
            counts = summary(model, as_at, known_at, policy)
            boards = board(model, "generated", as_at, known_at, policy=policy)
            predicates = _sql_predicates(model, as_at, known_at, thresholds)
        finally:
            model.close()
    programme = replay(events, as_at, known_at)
    expected = [
        (
            rec.review,
            rec.number,
            c.commitment,
            rec.owner_of(c),
            rate_commitment(c, as_at, policy).rule,
        )
        for rec in programme.recommendations
        for c in rec.commitments
    ]
    assert [(r.review, r.number, r.commitment, r.owner, r.rule) for r in rows] == expected
    assert counts == Counter(rule for *_, rule in expected), "the counts the board shows"
    assert [r.rating for r in rows] == [policy.ratings[rule] for *_, rule in expected]

    # The board's roll-up (SQL rules, the domain's roll_up) is rate_recommendation's, with
    # the review-wide promises that serve each recommendation judged for it (issue 14).
    rolled = [
        (
            rec.number,
            *_rated(rate_recommendation(rec, as_at, policy, programme.shared_with(rec))[0]),
            _slip(rec),
        )
        for rec in programme.recommendations
    ]
    assert [(b.number, b.rating, b.rule, b.slip_days) for b in boards] == rolled

    # The alert predicates compiled to SQL over the read model are the ones the alert
    # scan (a fold over the same programme) acted on, for every open commitment.
    findings = alerts_due(programme, None, thresholds)
    raised = {(a.number, a.commitment, a.kind) for a in findings.alerts} | {
        (u.number, u.commitment, u.kind) for u in findings.unaddressed
    }
    for rec in programme.recommendations:
        for c in rec.commitments:
            sql = predicates[(rec.number, c.commitment)]
            if not c.is_open:
                assert not {k for n, name, k in raised if (n, name) == (rec.number, c.commitment)}
                continue
            overdue = sql[AlertKind.OVERDUE]
            expected_kinds = {
                AlertKind.OVERDUE: overdue,
                AlertKind.STALE: not overdue and sql[AlertKind.STALE],
                AlertKind.DUE_SOON: not overdue and sql[AlertKind.DUE_SOON],
            }
            for kind, wanted in expected_kinds.items():
                assert ((rec.number, c.commitment, kind) in raised) == wanted, (kind, c)
            # ...and the rating agrees: what the alerts call overdue or stale, the status
            # and the board rate overdue or stale, whatever the threshold.
            rule = rate_commitment(c, as_at, policy).rule
            assert (rule == "overdue") == overdue
            assert (rule == "stale") == expected_kinds[AlertKind.STALE]


def _rated(rating: Rating) -> tuple[str, str]:
    return rating.rating, rating.rule


def _slip(rec: RecommendationState) -> int:
    """The board's slip: the largest of any commitment not withdrawn."""
    return max((c.slip_days for c in rec.commitments if c.withdrawn is None), default=0)


def _sql_predicates(
    model: ReadModel, as_at: date, known_at: datetime | None, thresholds: Thresholds
) -> dict[tuple[int, str], dict[AlertKind, bool]]:
    """Each commitment's alert predicates, judged by the database."""
    c = commitment_versions.c
    columns = commitment_facts_columns()
    labels = {kind: str(kind) for kind in _PREDICATES}
    query = sa.select(
        c.number,
        c.commitment,
        *(
            condition_expression(condition, as_at, columns, thresholds.rule_limits).label(
                labels[kind]
            )
            for kind, condition in _PREDICATES.items()
        ),
    ).where(*visible(commitment_versions, as_at, known_at))
    with model.engine.connect() as conn:
        return {
            # A condition that is unknown (NULL) does not hold, as in a CASE's WHEN.
            (row.number, row.commitment): {
                kind: bool(getattr(row, labels[kind])) for kind in _PREDICATES
            }
            for row in conn.execute(query)
        }
