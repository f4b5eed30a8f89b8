"""RAG ratings computed from the facts, each with the rule that fired and the facts it used.

The policy is data (versioned, overridable): an auditor can see why a recommendation was
red on a date, and a replay under the same policy version gives the same answer. The
rules themselves are one table, `RULES`, read by two interpreters: `rio.domain.rules`
here and `rio.projections.sql_rules` for the portfolio and board queries. Which rule fires
is decided only by the table; the sentences below are its presentation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rio.domain.rules import (
    ALWAYS,
    AS_AT,
    BASELINE_LATEST,
    DELIVERED_ON,
    DUE_LATEST,
    LAST_UPDATE,
    WITHDRAWN_ON,
    After,
    AllOf,
    Before,
    Condition,
    DaysBefore,
    Facts,
    IsNull,
    IsSet,
    Limits,
    holds,
)
from rio.domain.state import Commitment, RecommendationState

RED, AMBER, GREEN = "Red", "Amber", "Green"
COMPLETE, WITHDRAWN, NOT_RATED = "Complete", "Withdrawn", "Not rated"
RATINGS = (RED, AMBER, GREEN, COMPLETE, WITHDRAWN)

# Worst first: a recommendation takes the worst rating among its open commitments.
SEVERITY = {RED: 3, AMBER: 2, GREEN: 1}


@dataclass(frozen=True)
class Rule:
    """One row of the table: its name, the rating it gives by default, and when it holds."""

    name: str
    rating: str
    when: Condition


# The first rule that holds rates the commitment. Each condition is written to stand on
# its own for an open commitment, so the alert policy can ask "is it overdue?" and "is
# it stale?" with the very same conditions. Stale comes before "no date" so that a quiet
# commitment is called stale by the rating exactly when the alerts call it stale, dated
# or not (an overdue one is reported as overdue, which says more).
OVERDUE = After(AS_AT, DUE_LATEST)
STALE = Before(LAST_UPDATE, DaysBefore(AS_AT, "stale_after_days"))
RULES: tuple[Rule, ...] = (
    Rule("withdrawn", WITHDRAWN, IsSet(WITHDRAWN_ON)),
    Rule(
        "delivered_late",
        COMPLETE,
        AllOf((IsSet(DELIVERED_ON), IsSet(BASELINE_LATEST), After(DELIVERED_ON, BASELINE_LATEST))),
    ),
    Rule("delivered_on_time", COMPLETE, IsSet(DELIVERED_ON)),
    Rule("overdue", RED, OVERDUE),
    Rule("stale", AMBER, STALE),
    Rule("no_date", AMBER, IsNull(DUE_LATEST)),
    Rule("slipped", AMBER, AllOf((IsSet(BASELINE_LATEST), After(DUE_LATEST, BASELINE_LATEST)))),
    Rule("on_track", GREEN, ALWAYS),
)
RULE_NAMES = tuple(rule.name for rule in RULES)


@dataclass(frozen=True)
class Policy:
    """Which rating each rule gives, and the thresholds the rules use."""

    # /2: stale is judged before "no date" (issue 12), so ratings and alerts agree.
    version: str = "rio-default/2"
    stale_after_days: int = 180
    ratings: Mapping[str, str] = field(
        default_factory=lambda: {rule.name: rule.rating for rule in RULES}
    )

    def __post_init__(self) -> None:
        # A policy is checked when it is made, so a bad override fails at start-up with
        # the setting named, not later in the middle of a report.
        unknown = set(self.ratings) - set(RULE_NAMES)
        if unknown:
            raise ValueError(f"unknown RAG rules: {', '.join(sorted(unknown))}")
        missing = [name for name in RULE_NAMES if name not in self.ratings]
        if missing:
            raise ValueError(f"RAG policy gives no rating for: {', '.join(missing)}")
        bad = {k: v for k, v in self.ratings.items() if v not in RATINGS}
        if bad:
            listed = ", ".join(f"{k}={v!r}" for k, v in sorted(bad.items()))
            raise ValueError(f"unknown RAG ratings ({listed}): use one of {', '.join(RATINGS)}")
        if isinstance(self.stale_after_days, bool) or self.stale_after_days < 0:
            raise ValueError(
                f"stale_after_days must be a whole number of days, 0 or more, "
                f"not {self.stale_after_days!r}"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policy:
        """An override from a settings file: unknown keys are refused rather than ignored."""
        default = cls()
        unknown = set(data) - {"version", "stale_after_days", "ratings"}
        if unknown:
            raise ValueError(f"unknown RAG policy settings: {', '.join(sorted(unknown))}")
        return cls(
            version=str(data.get("version", default.version)),
            stale_after_days=int(data.get("stale_after_days", default.stale_after_days)),
            ratings={**default.ratings, **dict(data.get("ratings", {}))},
        )

    @property
    def limits(self) -> Limits:
        """The thresholds, by the names the rule table uses."""
        return {"stale_after_days": self.stale_after_days}


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Rating:
    rating: str
    rule: str
    reason: str
    facts: Mapping[str, str]
    policy: str


def commitment_facts(c: Commitment, as_at: date) -> Facts:
    """The dates the rule table reads, for one commitment as at a date."""
    return {
        AS_AT.name: as_at,
        WITHDRAWN_ON.name: c.withdrawn.occurred if c.withdrawn else None,
        DELIVERED_ON.name: c.delivered.occurred if c.delivered else None,
        BASELINE_LATEST.name: c.baseline.latest if c.baseline else None,
        DUE_LATEST.name: c.due.latest if c.due else None,
        LAST_UPDATE.name: c.last_update or c.made_on,
    }


def rule_that_fires(facts: Facts, policy: Policy = DEFAULT_POLICY) -> Rule:
    """The first rule of the table that holds (the last always does)."""
    for rule in RULES:
        if holds(rule.when, facts, policy.limits):
            return rule
    raise AssertionError("the rule table ends with a rule that always holds")  # pragma: no cover


def rate_commitment(commitment: Commitment, as_at: date, policy: Policy = DEFAULT_POLICY) -> Rating:
    """The table decides the rule; the rule's sentence explains it with the facts it used."""
    c = commitment
    facts: dict[str, str] = {
        "commitment": c.commitment,
        "deliverable": c.deliverable,
        "promised_on": c.made_on.isoformat(),
        "promise_source": c.source.cite(),
        "as_at": as_at.isoformat(),
    }
    if c.baseline is not None:
        facts["baseline"] = f"{c.baseline.text} (by {c.baseline.latest.isoformat()})"
    if c.due is not None:
        facts["due"] = f"{c.due.text} (by {c.due.latest.isoformat()})"
    rule = rule_that_fires(commitment_facts(c, as_at), policy).name
    reason = _REASONS[rule](c, as_at, policy, facts)
    return Rating(policy.ratings[rule], rule, reason, facts, policy.version)


# --- the sentences each rule is explained with -------------------------------------------

_Reason = Callable[[Commitment, date, Policy, dict[str, str]], str]


def _withdrawn(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    assert c.withdrawn is not None  # the rule's condition
    facts["withdrawn_on"] = c.withdrawn.occurred.isoformat()
    return f"withdrawn on {c.withdrawn.occurred}: {c.withdrawn.detail}"


def _delivered(c: Commitment, facts: dict[str, str]) -> date:
    assert c.delivered is not None  # the rule's condition
    facts["delivered_on"] = c.delivered.occurred.isoformat()
    facts["evidence"] = c.delivered.detail
    return c.delivered.occurred


def _delivered_late(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    delivered_on = _delivered(c, facts)
    assert c.baseline is not None
    late = (delivered_on - c.baseline.latest).days
    facts["days_late"] = str(late)
    return (
        f"delivered on {delivered_on}, {late} days after the first promise "
        f"({c.baseline.text}, by {c.baseline.latest})"
    )


def _delivered_on_time(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    delivered_on = _delivered(c, facts)
    assert c.delivered is not None
    return f"delivered on {delivered_on}: {c.delivered.detail}"


def _no_date(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    return f"{c.deliverable!r} has no promised date"


def _overdue(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    assert c.due is not None
    overdue = (as_at - c.due.latest).days
    facts["days_overdue"] = str(overdue)
    return (
        f"{c.deliverable!r}, due {c.due.text!r} (by {c.due.latest}) {_said(c)}, has no "
        f"delivery recorded by {as_at}: {overdue} days overdue"
    )


def _stale(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    last = c.last_update or c.made_on
    facts["last_update"] = last.isoformat()
    return (
        f"no update on {c.deliverable!r} since {last} "
        f"({(as_at - last).days} days; the policy allows {policy.stale_after_days})"
    )


def _slipped(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    assert c.due is not None and c.baseline is not None
    facts["slip_days"] = str(c.slip_days)
    return (
        f"{c.deliverable!r} was first promised {c.baseline.text!r} and is now due "
        f"{c.due.text!r} (by {c.due.latest}): slipped {c.slip_days} days"
        + (" and the move was never explained" if _unexplained(c) else "")
    )


def _on_track(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    if c.due is None:  # pragma: no cover - no_date comes first in the table
        return f"{c.deliverable!r} is on track"
    return f"{c.deliverable!r} is due {c.due.text!r} (by {c.due.latest})"


_REASONS: dict[str, _Reason] = {
    "withdrawn": _withdrawn,
    "delivered_late": _delivered_late,
    "delivered_on_time": _delivered_on_time,
    "no_date": _no_date,
    "overdue": _overdue,
    "stale": _stale,
    "slipped": _slipped,
    "on_track": _on_track,
}


def _said(c: Commitment) -> str:
    said = c.revisions[-1].source if c.revisions and c.revisions[-1].due else c.source
    return f"as said in {said.cite()}"


def _unexplained(c: Commitment) -> bool:
    return any(r.unexplained for r in c.revisions)


# --- roll-up ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollUp:
    """A recommendation's rating from its commitments'; `worst` is the index of the
    commitment it takes its rating from, when one is still open."""

    rating: str
    rule: str
    worst: int | None = None


def roll_up(ratings: Sequence[tuple[str, str]]) -> RollUp:
    """From each commitment's (rating, rule), in order: the worst open one (the first of
    equals); Complete when all are closed and one was delivered; Withdrawn when all were
    withdrawn; Not rated when there are none."""
    open_ones = [i for i, (rating, _) in enumerate(ratings) if rating in SEVERITY]
    if open_ones:
        worst = max(open_ones, key=lambda i: SEVERITY[ratings[i][0]])  # max keeps the first
        return RollUp(ratings[worst][0], ratings[worst][1], worst)
    if any(rating == COMPLETE for rating, _ in ratings):
        return RollUp(COMPLETE, "all_closed")
    if ratings:
        return RollUp(WITHDRAWN, "all_withdrawn")
    return RollUp(NOT_RATED, "no_commitments")


def rate_recommendation(
    rec: RecommendationState, as_at: date, policy: Policy = DEFAULT_POLICY
) -> tuple[Rating, dict[str, Rating]]:
    """The worst open commitment's rating, or Complete when every commitment is closed."""
    ratings = {c.commitment: rate_commitment(c, as_at, policy) for c in rec.commitments}
    named = list(ratings.items())
    result = roll_up([(r.rating, r.rule) for _, r in named])
    facts = {"recommendation": str(rec.number), "as_at": as_at.isoformat()}
    if result.worst is not None:
        name, worst = named[result.worst]
        reason = f"worst open commitment {name!r}: {worst.reason}"
        return Rating(
            worst.rating, worst.rule, reason, {**worst.facts, **facts}, policy.version
        ), ratings
    reasons = {
        "all_closed": "every commitment closed; delivered: "
        + ", ".join(n for n, r in named if r.rating == COMPLETE),
        "all_withdrawn": "every commitment was withdrawn",
        "no_commitments": "no commitment has been recorded",
    }
    return Rating(result.rating, result.rule, reasons[result.rule], facts, policy.version), ratings
