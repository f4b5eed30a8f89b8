"""RAG ratings computed from the facts, each with the rule that fired and the facts it used.

The policy is data (versioned, overridable): an auditor can see why a recommendation was
red on a date, and a replay under the same policy version gives the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rio.domain.replay import Commitment, RecommendationState

RED, AMBER, GREEN = "Red", "Amber", "Green"
COMPLETE, WITHDRAWN, NOT_RATED = "Complete", "Withdrawn", "Not rated"

# Worst first: a recommendation takes the worst rating among its open commitments.
SEVERITY = {RED: 3, AMBER: 2, GREEN: 1}


@dataclass(frozen=True)
class Policy:
    """Which rating each rule gives, and the thresholds the rules use."""

    version: str = "rio-default/1"
    stale_after_days: int = 180
    ratings: Mapping[str, str] = field(
        default_factory=lambda: {
            "delivered_on_time": COMPLETE,
            "delivered_late": COMPLETE,
            "withdrawn": WITHDRAWN,
            "overdue": RED,
            "no_date": AMBER,
            "stale": AMBER,
            "slipped": AMBER,
            "on_track": GREEN,
        }
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policy:
        """An override from a settings file: unknown keys are refused rather than ignored."""
        default = cls()
        unknown = set(data) - {"version", "stale_after_days", "ratings"}
        if unknown:
            raise ValueError(f"unknown RAG policy settings: {', '.join(sorted(unknown))}")
        ratings = {**default.ratings, **dict(data.get("ratings", {}))}
        bad = set(ratings) - set(default.ratings)
        if bad:
            raise ValueError(f"unknown RAG rules: {', '.join(sorted(bad))}")
        return cls(
            version=str(data.get("version", default.version)),
            stale_after_days=int(data.get("stale_after_days", default.stale_after_days)),
            ratings=ratings,
        )


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Rating:
    rating: str
    rule: str
    reason: str
    facts: Mapping[str, str]
    policy: str


def rate_commitment(commitment: Commitment, as_at: date, policy: Policy = DEFAULT_POLICY) -> Rating:
    """Rules in order; the first that holds gives the rating and the reason."""
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

    def rated(rule: str, reason: str) -> Rating:
        return Rating(policy.ratings[rule], rule, reason, facts, policy.version)

    if c.withdrawn is not None:
        facts["withdrawn_on"] = c.withdrawn.occurred.isoformat()
        return rated("withdrawn", f"withdrawn on {c.withdrawn.occurred}: {c.withdrawn.detail}")
    if c.delivered is not None:
        delivered_on = c.delivered.occurred
        facts["delivered_on"] = delivered_on.isoformat()
        facts["evidence"] = c.delivered.detail
        if c.baseline is not None and delivered_on > c.baseline.latest:
            late = (delivered_on - c.baseline.latest).days
            facts["days_late"] = str(late)
            return rated(
                "delivered_late",
                f"delivered on {delivered_on}, {late} days after the first promise "
                f"({c.baseline.text}, by {c.baseline.latest})",
            )
        return rated("delivered_on_time", f"delivered on {delivered_on}: {c.delivered.detail}")
    if c.due is None:
        return rated("no_date", f"{c.deliverable!r} has no promised date")
    if as_at > c.due.latest:
        overdue = (as_at - c.due.latest).days
        facts["days_overdue"] = str(overdue)
        return rated(
            "overdue",
            f"{c.deliverable!r}, due {c.due.text!r} (by {c.due.latest}) {_said(c)}, has no "
            f"delivery recorded by {as_at}: {overdue} days overdue",
        )
    last = c.last_update or c.made_on
    if (as_at - last).days > policy.stale_after_days:
        facts["last_update"] = last.isoformat()
        return rated(
            "stale",
            f"no update on {c.deliverable!r} since {last} "
            f"({(as_at - last).days} days; the policy allows {policy.stale_after_days})",
        )
    if c.slip_days > 0 and c.baseline is not None:
        facts["slip_days"] = str(c.slip_days)
        return rated(
            "slipped",
            f"{c.deliverable!r} was first promised {c.baseline.text!r} and is now due "
            f"{c.due.text!r} (by {c.due.latest}): slipped {c.slip_days} days"
            + (" and the move was never explained" if _unexplained(c) else ""),
        )
    return rated("on_track", f"{c.deliverable!r} is due {c.due.text!r} (by {c.due.latest})")


def rate_recommendation(
    rec: RecommendationState, as_at: date, policy: Policy = DEFAULT_POLICY
) -> tuple[Rating, dict[str, Rating]]:
    """The worst open commitment's rating, or Complete when every commitment is closed."""
    ratings = {c.commitment: rate_commitment(c, as_at, policy) for c in rec.commitments}
    open_ratings = [(name, r) for name, r in ratings.items() if r.rating in SEVERITY]
    facts = {"recommendation": str(rec.number), "as_at": as_at.isoformat()}
    if open_ratings:
        name, worst = max(open_ratings, key=lambda item: SEVERITY[item[1].rating])
        reason = f"worst open commitment {name!r}: {worst.reason}"
        return Rating(
            worst.rating, worst.rule, reason, {**worst.facts, **facts}, policy.version
        ), ratings
    delivered = [n for n, r in ratings.items() if r.rating == COMPLETE]
    if delivered:
        reason = f"every commitment closed; delivered: {', '.join(delivered)}"
        return Rating(COMPLETE, "all_closed", reason, facts, policy.version), ratings
    if ratings:
        return (
            Rating(
                WITHDRAWN, "all_withdrawn", "every commitment was withdrawn", facts, policy.version
            ),
            ratings,
        )
    return (
        Rating(
            NOT_RATED, "no_commitments", "no commitment has been recorded", facts, policy.version
        ),
        ratings,
    )


def _said(c: Commitment) -> str:
    said = c.revisions[-1].source if c.revisions and c.revisions[-1].due else c.source
    return f"as said in {said.cite()}"


def _unexplained(c: Commitment) -> bool:
    return any(r.unexplained for r in c.revisions)
