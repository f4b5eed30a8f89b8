"""The rule table's two interpreters agree, condition by condition, on both stores.

Python's evaluator (`rio.domain.rules`) and the SQL compiler (`rio.projections.sql_rules`)
are given the same generated fact tuples, including missing dates, equal dates and
thresholds that run off the calendar: every condition must come out true, false or unknown
alike, and the compiled CASE must name the same rule as `rule_that_fires`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from rio.domain.alert_policy import DUE_SOON
from rio.domain.rag import OVERDUE, RULE_NAMES, RULES, STALE, Policy, rule_that_fires
from rio.domain.rules import (
    AS_AT,
    BASELINE_LATEST,
    COMMITMENT_FACTS,
    DELIVERED_ON,
    DUE_LATEST,
    FROM_REVIEW,
    LAST_UPDATE,
    WITHDRAWN_ON,
    After,
    AnyOf,
    Before,
    Condition,
    DaysAfter,
    DaysBefore,
    IsNull,
    IsSet,
    IsTrue,
    Not,
    truth,
)
from rio.projections.read_model import make_engine
from rio.projections.sql_rules import condition_expression, rule_case
from tests.conftest import postgres_schema

metadata = sa.MetaData()
facts_table = sa.Table(
    "rio_test_rule_facts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    *(sa.Column(fact.name, sa.Date, nullable=True) for fact in COMMITMENT_FACTS),
)

# The table's own conditions, the alert-only one, and a few that exercise the rest of the
# vocabulary (AnyOf, Not, IsNull of as_at, a shifted date on either side).
CONDITIONS: dict[str, Condition] = {
    **{f"rule:{rule.name}": rule.when for rule in RULES},
    "overdue": OVERDUE,
    "stale": STALE,
    "due_soon": DUE_SOON,
    "any": AnyOf((IsNull(DELIVERED_ON), After(WITHDRAWN_ON, LAST_UPDATE))),
    "not": Not(Before(BASELINE_LATEST, DaysBefore(AS_AT, "stale_after_days"))),
    "shifted_left": After(DaysAfter(AS_AT, "due_soon_days"), DUE_LATEST),
    "as_at_null": AnyOf((IsNull(AS_AT), Not(IsSet(AS_AT)))),
    "not_from_review": AnyOf((Not(IsTrue(FROM_REVIEW)), IsNull(DUE_LATEST))),
}

# A narrow range, so equal dates (the edge of every strict comparison) are common.
_day = st.dates(date(2024, 1, 1), date(2024, 2, 15))
_fact = st.none() | _day
# Mostly small thresholds, so a shifted as_at lands on the facts' dates; and off the calendar.
_days = st.sampled_from([1, 2, 7, 30]) | st.integers(0, 45) | st.sampled_from([10**6, 10**7])
_tuple = st.fixed_dictionaries({fact.name: _fact for fact in COMMITMENT_FACTS})
_ratings = st.dictionaries(
    st.sampled_from(RULE_NAMES), st.sampled_from(["Red", "Amber", "Green", "Complete"])
)


@contextmanager
def _engine(backend: str) -> Iterator[Engine]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/rules.db")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    with postgres_schema("rio_rules") as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """One database per backend for the module; each example replaces the table's rows."""
    with _engine(str(request.param)) as engine:
        with engine.begin() as conn:
            metadata.create_all(conn)
        yield engine


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)  # SQLite answers 1/0, PostgreSQL True/False


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(_tuple, min_size=1, max_size=40),
    as_at=_day,
    stale=_days,
    due_soon=_days,
    ratings=_ratings,
    grace=_days,
    from_review=st.booleans(),
)
def test_compiled_sql_and_the_python_evaluator_agree_rule_by_rule(
    engine: Engine,
    rows: list[dict[str, date | None]],
    as_at: date,
    stale: int,
    due_soon: int,
    ratings: dict[str, str],
    grace: int,
    from_review: bool,
) -> None:
    policy = Policy(
        stale_after_days=stale,
        overdue_grace_days=grace,
        ratings={**Policy().ratings, **ratings},
    )
    flags = {FROM_REVIEW.name: from_review}  # fixed by the question, as as_at is
    limits = {**policy.limits, "due_soon_days": due_soon}
    columns = {fact.name: facts_table.c[fact.name] for fact in COMMITMENT_FACTS}
    query = sa.select(
        facts_table.c.id,
        rule_case(policy, as_at, columns, flags).label("rule"),
        *(
            condition_expression(condition, as_at, columns, limits, flags).label(
                name.replace(":", "_")
            )
            for name, condition in CONDITIONS.items()
        ),
    ).order_by(facts_table.c.id)
    with engine.begin() as conn:
        conn.execute(facts_table.delete())
        conn.execute(facts_table.insert(), [{"id": i, **row} for i, row in enumerate(rows)])
        answers = conn.execute(query).all()

    assert len(answers) == len(rows)
    for row, answer in zip(rows, answers, strict=True):
        facts = {AS_AT.name: as_at, **flags, **row}
        assert answer.rule == rule_that_fires(facts, policy).name, (facts, limits)
        for name, condition in CONDITIONS.items():
            got = _bool(getattr(answer, name.replace(":", "_")))
            assert got == truth(condition, facts, limits), (name, facts, limits)


def test_the_compiler_refuses_a_shift_of_a_column_it_cannot_do_the_same_on_both_stores() -> None:
    columns = {fact.name: facts_table.c[fact.name] for fact in COMMITMENT_FACTS}
    with pytest.raises(ValueError, match="shift only as_at, not 'due_latest'"):
        condition_expression(
            Before(AS_AT, DaysBefore(DUE_LATEST, "due_soon_days")),
            date(2024, 1, 1),
            columns,
            {"due_soon_days": 3},
        )
    with pytest.raises(ValueError, match="no column for the rule fact 'last_update'"):
        condition_expression(
            IsSet(LAST_UPDATE), date(2024, 1, 1), {"due_latest": columns["due_latest"]}, {}
        )
