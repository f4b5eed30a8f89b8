"""The rule table compiled to SQL: the second interpreter of `rio.domain.rag.RULES`.

Portfolio and board questions rate thousands of commitments in one query, so the same
conditions the pure replay evaluates are compiled here to a SQL `CASE`. Nothing in this
module decides a rating; it only translates, so the two interpreters cannot drift
(tests/store/test_sql_rules.py checks them against each other on both stores).

`as_at` and the thresholds are known when the query is built, so a shifted date such as
"as_at less stale_after_days" is computed in Python (by the domain's own `shift`) and
bound as a parameter; only the commitment's dates are columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from rio.domain.rag import RULES, Policy
from rio.domain.rules import (
    ALWAYS,
    AS_AT,
    After,
    AllOf,
    AnyOf,
    Before,
    Condition,
    DaysBefore,
    Fact,
    Flag,
    IsNull,
    IsSet,
    IsTrue,
    Limits,
    Not,
    Term,
    shift,
    truth,
)

Columns = Mapping[str, sa.ColumnElement[Any]]
Flags = Mapping[str, bool]
_Operand = sa.ColumnElement[date] | date


class _Compiler:
    def __init__(
        self, columns: Columns, as_at: date, limits: Limits, flags: Flags | None = None
    ) -> None:
        self.columns = columns
        self.as_at = as_at
        self.limits = limits
        self.flags = flags or {}

    def flag(self, flag: Flag) -> sa.ColumnElement[bool]:
        """A yes-or-no fact: a column, or known when the query is built (as `as_at` is);
        one not asked about is not so, as in the Python interpreter."""
        if flag.name in self.columns:
            return self.columns[flag.name] == sa.true()
        return sa.true() if self.flags.get(flag.name, False) else sa.false()

    def fact(self, fact: Fact) -> _Operand:
        if fact == AS_AT:
            return self.as_at
        try:
            return self.columns[fact.name]
        except KeyError:
            raise ValueError(f"no column for the rule fact {fact.name!r}") from None

    def term(self, term: Term) -> _Operand:
        if isinstance(term, Fact):
            return self.fact(term)
        operand = self.fact(term.date)
        if not isinstance(operand, date):
            # Date arithmetic on a column differs between SQLite and PostgreSQL; rules
            # shift the date asked about instead, which is the same comparison.
            raise ValueError(f"the SQL rules shift only as_at, not {term.date.name!r}")
        days = self.limits[term.days]
        return shift(operand, -days if isinstance(term, DaysBefore) else days)

    def condition(self, condition: Condition) -> sa.ColumnElement[bool]:
        match condition:
            case IsSet(fact) | IsNull(fact):
                operand = self.fact(fact)
                if isinstance(operand, date):
                    return sa.true() if isinstance(condition, IsSet) else sa.false()
                return operand.is_not(None) if isinstance(condition, IsSet) else operand.is_(None)
            case IsTrue(flag):
                return self.flag(flag)
            case After() | Before():
                return self.compare(condition)
            case AllOf(conditions):
                return sa.and_(sa.true(), *(self.condition(c) for c in conditions))
            case AnyOf(conditions):
                return sa.or_(sa.false(), *(self.condition(c) for c in conditions))
            case Not(inner):
                return sa.not_(self.condition(inner))
        raise TypeError(f"not a rule condition: {condition!r}")

    def compare(self, condition: After | Before) -> sa.ColumnElement[bool]:
        left, right = self.term(condition.left), self.term(condition.right)
        later = isinstance(condition, After)
        if isinstance(left, date) and isinstance(right, date):
            known = truth(condition, {AS_AT.name: self.as_at}, self.limits)
            return sa.true() if known else sa.false()
        if isinstance(left, date):
            # Column on the left, so the bound date takes the column's type on each dialect.
            left, right, later = right, left, not later
        assert not isinstance(left, date)
        return left > right if later else left < right


def rule_case(
    policy: Policy, as_at: date, columns: Columns, flags: Flags | None = None
) -> sa.ColumnElement[str]:
    """The name of the first rule that holds, as a SQL `CASE` over `columns` (`flags`: the
    yes-or-no facts the question fixes, e.g. judged as a review-wide promise)."""
    compiler = _Compiler(columns, as_at, policy.limits, flags)
    whens: list[tuple[sa.ColumnElement[bool], str]] = []
    otherwise: str | None = None
    for rule in RULES:
        if rule.when == ALWAYS:
            otherwise = rule.name
            break
        whens.append((compiler.condition(rule.when), rule.name))
    if otherwise is None:  # pragma: no cover - the table ends with a rule that always holds
        raise ValueError("the rule table needs a last rule that always holds")
    return sa.case(*whens, else_=otherwise)


def condition_expression(
    condition: Condition,
    as_at: date,
    columns: Columns,
    limits: Limits,
    flags: Flags | None = None,
) -> sa.ColumnElement[bool]:
    """One condition of the vocabulary as SQL (for alert scans and the agreement test)."""
    return _Compiler(columns, as_at, limits, flags).condition(condition)
