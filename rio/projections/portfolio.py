"""Portfolio-wide ratings as one SQL query over the commitment read model.

Decoding every recommendation's full state is too slow for a national portfolio, so the
RAG rules that only need dates are evaluated in SQL. They must agree with `rio.domain.rag`
exactly; tests/store/test_portfolio.py checks that against the pure replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from rio.domain.rag import DEFAULT_POLICY, Policy
from rio.projections.read_model import ReadModel, commitment_versions, visible


@dataclass(frozen=True)
class PortfolioRow:
    review: str
    number: int
    commitment: str
    owner: str | None
    due_text: str | None
    due_latest: date | None
    rule: str
    rating: str


def rule_expression(as_at: date, policy: Policy) -> sa.ColumnElement[str]:
    """rio.domain.rag.rate_commitment's rules, in the same order, as a SQL CASE."""
    c = commitment_versions.c
    stale_before = as_at - timedelta(days=policy.stale_after_days)
    return sa.case(
        (c.withdrawn_on.is_not(None), "withdrawn"),
        (
            sa.and_(
                c.delivered_on.is_not(None),
                c.baseline_latest.is_not(None),
                c.delivered_on > c.baseline_latest,
            ),
            "delivered_late",
        ),
        (c.delivered_on.is_not(None), "delivered_on_time"),
        (c.due_latest.is_(None), "no_date"),
        (c.due_latest < as_at, "overdue"),
        (c.last_update < stale_before, "stale"),
        (sa.and_(c.baseline_latest.is_not(None), c.due_latest > c.baseline_latest), "slipped"),
        else_="on_track",
    )


def summary(
    model: ReadModel,
    as_at: date,
    known_at: datetime | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> dict[str, int]:
    """How many commitments each rule applies to as at `as_at`: the portfolio at a glance,
    counted in the database (from a covering index when the question is about now)."""
    model.refresh()
    rule = rule_expression(as_at, policy).label("rule")
    query = (
        sa.select(rule, sa.func.count())
        .where(*visible(commitment_versions, as_at, known_at))
        .group_by(rule)
    )
    with model.engine.connect() as conn:
        return {str(name): int(count) for name, count in conn.execute(query)}


def portfolio(
    model: ReadModel,
    as_at: date,
    known_at: datetime | None = None,
    policy: Policy = DEFAULT_POLICY,
    owner: str | None = None,
) -> list[PortfolioRow]:
    """Every commitment's rating as at `as_at`, optionally only one owner's."""
    model.refresh()
    c = commitment_versions.c
    query = sa.select(
        c.review,
        c.number,
        c.commitment,
        c.owner,
        c.due_text,
        c.due_latest,
        rule_expression(as_at, policy).label("rule"),
    ).where(*visible(commitment_versions, as_at, known_at))
    if owner is not None:
        query = query.where(c.owner == owner)
    query = query.order_by(c.review, c.number, c.ordinal)
    with model.engine.connect() as conn:
        return [
            PortfolioRow(
                review=row.review,
                number=row.number,
                commitment=row.commitment,
                owner=row.owner,
                due_text=row.due_text,
                due_latest=row.due_latest,
                rule=row.rule,
                rating=policy.ratings[row.rule],
            )
            for row in conn.execute(query)
        ]
