"""Portfolio-wide ratings as one SQL query over the commitment read model.

Decoding every recommendation's full state is too slow for a national portfolio, so the
RAG rules (which only need dates) are compiled to SQL from the domain's rule table, so they
agree with `rio.domain.rag` by construction; tests/store/test_portfolio.py checks that
against the pure replay on both stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from rio.domain.rag import DEFAULT_POLICY, Policy
from rio.domain.rules import COMMITMENT_FACTS, FROM_REVIEW
from rio.projections.read_model import ReadModel, commitment_versions, visible
from rio.projections.sql_rules import Columns, rule_case


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


def rule_expression(
    as_at: date, policy: Policy, from_review: bool = False
) -> sa.ColumnElement[str]:
    """The rule table (`rio.domain.rag.RULES`) compiled to a SQL CASE over the commitment
    read model: the name of the rule that fires for each row (`from_review`: each judged
    for a recommendation it serves, as a promise of the review as a whole)."""
    return rule_case(policy, as_at, commitment_facts_columns(), {FROM_REVIEW.name: from_review})


def commitment_facts_columns() -> Columns:
    """The rule table's commitment facts, as the read model's columns of the same names."""
    return {fact.name: commitment_versions.c[fact.name] for fact in COMMITMENT_FACTS}


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
