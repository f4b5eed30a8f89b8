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


@dataclass(frozen=True, slots=True)
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


Cursor = tuple[str, int, int]  # (review, number, ordinal): where a page of commitments ends


def portfolio(
    model: ReadModel,
    as_at: date,
    known_at: datetime | None = None,
    policy: Policy = DEFAULT_POLICY,
    owner: str | None = None,
) -> list[PortfolioRow]:
    """Every commitment's rating as at `as_at`, optionally only one owner's."""
    return _ratings(model, as_at, known_at, policy, owner)[0]


def portfolio_page(
    model: ReadModel,
    as_at: date,
    known_at: datetime | None = None,
    policy: Policy = DEFAULT_POLICY,
    after: Cursor | None = None,
    limit: int = 200,
) -> tuple[list[PortfolioRow], Cursor | None]:
    """One page of `portfolio`, in its order, from just after `after` (the start: None);
    returns it with the cursor of the next page (None: this was the last). The page is found
    by its key (review, number, ordinal), not by an offset, so the thousandth page costs
    what the first does."""
    rows, last = _ratings(model, as_at, known_at, policy, None, after, limit)
    return rows, (last if len(rows) == limit else None)


def _ratings(
    model: ReadModel,
    as_at: date,
    known_at: datetime | None,
    policy: Policy,
    owner: str | None,
    after: Cursor | None = None,
    limit: int | None = None,
) -> tuple[list[PortfolioRow], Cursor | None]:
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
        c.ordinal,
    ).where(*visible(commitment_versions, as_at, known_at))
    if owner is not None:
        query = query.where(c.owner == owner)
    if after is not None:
        query = query.where(sa.tuple_(c.review, c.number, c.ordinal) > sa.tuple_(*after))
    query = query.order_by(c.review, c.number, c.ordinal)
    if limit is not None:
        query = query.limit(limit)
    ratings = policy.ratings
    with model.engine.connect() as conn:
        found = conn.execute(query).all()
    # Built from each row's positions in one pass: at 300k rows, per-row attribute lookups
    # cost more than the query.
    rows = [
        PortfolioRow(review, number, name, who, text, latest, rule, ratings[rule])
        for review, number, name, who, text, latest, rule, _ in found
    ]
    last = found[-1] if found else None
    return rows, (None if last is None else (last[0], last[1], last[7]))
