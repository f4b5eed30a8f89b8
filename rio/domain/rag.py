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

from rio.domain.durations import in_words
from rio.domain.rules import (
    ALWAYS,
    AS_AT,
    BASELINE_LATEST,
    DELIVERED_ON,
    DUE_LATEST,
    FROM_REVIEW,
    LAST_UPDATE,
    SUPERSEDED_ON,
    WITHDRAWN_ON,
    After,
    AllOf,
    Before,
    Condition,
    DaysBefore,
    Facts,
    IsNull,
    IsSet,
    IsTrue,
    Limits,
    holds,
)
from rio.domain.slip import slip_days
from rio.domain.state import Commitment, RecommendationState

RED, AMBER, GREEN = "Red", "Amber", "Green"
COMPLETE, WITHDRAWN, NOT_RATED = "Complete", "Withdrawn", "Not rated"
SUPERSEDED = "Superseded"
# Not rated: a rule may leave a commitment out of a roll-up (a review-wide promise, judged
# once for the review rather than once per recommendation it serves).
RATINGS = (RED, AMBER, GREEN, COMPLETE, WITHDRAWN, SUPERSEDED, NOT_RATED)

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
#
# A superseded stage is closed like a withdrawn one (its next stage carries the promise on).
# A review-wide promise judged for a recommendation it serves gives that recommendation
# whatever the policy says (`from_review`; by default Not rated: it is judged once, for
# the review as a whole). Overdue turns Red only after the policy's grace (default none).
OVERDUE = After(AS_AT, DUE_LATEST)
PAST_GRACE = After(DaysBefore(AS_AT, "overdue_grace_days"), DUE_LATEST)
STALE = Before(LAST_UPDATE, DaysBefore(AS_AT, "stale_after_days"))
RULES: tuple[Rule, ...] = (
    Rule("withdrawn", WITHDRAWN, IsSet(WITHDRAWN_ON)),
    Rule("superseded", SUPERSEDED, IsSet(SUPERSEDED_ON)),
    Rule(
        "delivered_late",
        COMPLETE,
        AllOf((IsSet(DELIVERED_ON), IsSet(BASELINE_LATEST), After(DELIVERED_ON, BASELINE_LATEST))),
    ),
    Rule("delivered_on_time", COMPLETE, IsSet(DELIVERED_ON)),
    Rule("from_review", NOT_RATED, IsTrue(FROM_REVIEW)),
    Rule("overdue", RED, PAST_GRACE),
    Rule("overdue_in_grace", AMBER, OVERDUE),
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
    # /3 (issue 14): superseded stages are closed; a review-wide promise is judged once for
    # the review, Not rated for each recommendation it serves (`from_review`); an optional
    # grace before overdue turns Red (`overdue_in_grace`, Amber; default 0 days, so no
    # default rating of an overdue commitment changed).
    version: str = "rio-default/3"
    stale_after_days: int = 180
    overdue_grace_days: int = 0
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
        for name in ("stale_after_days", "overdue_grace_days"):
            days = getattr(self, name)
            if isinstance(days, bool) or days < 0:
                raise ValueError(f"{name} must be a whole number of days, 0 or more, not {days!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policy:
        """An override from a settings file: unknown keys are refused rather than ignored."""
        default = cls()
        known = {"version", "stale_after_days", "overdue_grace_days", "ratings"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown RAG policy settings: {', '.join(sorted(unknown))}")
        return cls(
            version=str(data.get("version", default.version)),
            stale_after_days=int(data.get("stale_after_days", default.stale_after_days)),
            overdue_grace_days=int(data.get("overdue_grace_days", default.overdue_grace_days)),
            ratings={**default.ratings, **dict(data.get("ratings", {}))},
        )

    @property
    def limits(self) -> Limits:
        """The thresholds, by the names the rule table uses."""
        return {
            "stale_after_days": self.stale_after_days,
            "overdue_grace_days": self.overdue_grace_days,
        }


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Rating:
    rating: str
    rule: str
    reason: str
    facts: Mapping[str, str]
    policy: str


def commitment_facts(c: Commitment, as_at: date, from_review: bool = False) -> Facts:
    """The dates the rule table reads, for one commitment as at a date (`from_review`: judged
    for a recommendation it serves, as a promise of the review as a whole)."""
    return {
        AS_AT.name: as_at,
        FROM_REVIEW.name: from_review,
        SUPERSEDED_ON.name: c.superseded.occurred if c.superseded else None,
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


def rate_commitment(
    commitment: Commitment,
    as_at: date,
    policy: Policy = DEFAULT_POLICY,
    from_review: bool = False,
) -> Rating:
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
    if c.inferred:
        facts["inferred"] = "yes"
    rule = rule_that_fires(commitment_facts(c, as_at, from_review), policy).name
    reason = _REASONS[rule](c, as_at, policy, facts)
    if c.inferred:
        reason += " (an inferred promise, reconstructed from loose wording)"
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


def _superseded(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    assert c.superseded is not None  # the rule's condition
    facts["superseded_on"] = c.superseded.occurred.isoformat()
    facts["next_stage"] = c.superseded.detail
    return f"superseded on {c.superseded.occurred} by its next stage {c.superseded.detail!r}"


def _from_review(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    rating = policy.ratings["from_review"]
    if rating == NOT_RATED:
        effect = "it is rated once, for the review as a whole, and does not set this rating"
    else:
        effect = f"while it is open the policy rates it {rating} for each recommendation it serves"
    return f"{c.deliverable!r} is a promise of the review as a whole: {effect}"


def _overdue(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    assert c.due is not None
    overdue = (as_at - c.due.latest).days
    facts["days_overdue"] = str(overdue)
    facts["overdue"] = in_words(overdue)
    return (
        f"{c.deliverable!r}, due {c.due.text!r} (by {c.due.latest}) {_said(c)}, has no "
        f"delivery recorded by {as_at}: {in_words(overdue)} overdue" + _earlier_slip(c)
    )


def _overdue_in_grace(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    return _overdue(c, as_at, policy, facts) + (
        f", within the policy's grace of {in_words(policy.overdue_grace_days)} before Red"
    )


def _earlier_slip(c: Commitment) -> str:
    if c.slip_days <= 0 or c.baseline is None:
        return ""
    unexplained = " unexplained" if _unexplained(c) else ""
    return f", after a {c.slip_days}-day{unexplained} slip from {c.baseline.text!r}"


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
    unexplained = _unexplained(c)
    return (
        f"a {c.slip_days}-day{' unexplained' if unexplained else ''} slip: {c.deliverable!r} "
        f"was first promised {c.baseline.text!r} and is now due {c.due.text!r} "
        f"(by {c.due.latest}): slipped {c.slip_days} days"
        + (" and the move was never explained" if unexplained else "")
    )


def _on_track(c: Commitment, as_at: date, policy: Policy, facts: dict[str, str]) -> str:
    if c.due is None:  # pragma: no cover - no_date comes first in the table
        return f"{c.deliverable!r} is on track"
    return f"{c.deliverable!r} is due {c.due.text!r} (by {c.due.latest})"


_REASONS: dict[str, _Reason] = {
    "withdrawn": _withdrawn,
    "superseded": _superseded,
    "from_review": _from_review,
    "overdue_in_grace": _overdue_in_grace,
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


Salience = tuple[int, int, int]


def salience(
    rule: str,
    as_at: date,
    due_latest: date | None,
    baseline_latest: date | None,
    unexplained_slips: int,
) -> Salience:
    """Which of equally rated commitments tells the recommendation's story: the oldest
    overdue, then the longest unexplained slip, then the longest slip. From dates alone, so
    the board (read-model columns) and the replay (state) weigh them the same."""
    overdue = 0
    if rule in ("overdue", "overdue_in_grace") and due_latest is not None:
        overdue = (as_at - due_latest).days
    slip = slip_days(due_latest, baseline_latest)
    return (overdue, slip if unexplained_slips else 0, slip)


def roll_up(
    ratings: Sequence[tuple[str, str]], saliences: Sequence[Salience] | None = None
) -> RollUp:
    """From each commitment's (rating, rule), in order: the worst open one (among equals,
    the most salient, then the first); Complete when all are closed and one was delivered;
    Withdrawn when all were withdrawn or superseded; Not rated when none is rated."""
    open_ones = [i for i, (rating, _) in enumerate(ratings) if rating in SEVERITY]
    if open_ones:

        def weight(i: int) -> tuple[int, Salience]:
            return SEVERITY[ratings[i][0]], saliences[i] if saliences else (0, 0, 0)

        worst = max(open_ones, key=weight)  # max keeps the first of equals
        return RollUp(ratings[worst][0], ratings[worst][1], worst)
    if any(rating == COMPLETE for rating, _ in ratings):
        return RollUp(COMPLETE, "all_closed")
    if any(rating in (WITHDRAWN, SUPERSEDED) for rating, _ in ratings):
        return RollUp(WITHDRAWN, "all_withdrawn")
    return RollUp(NOT_RATED, "no_commitments")


def rate_recommendation(
    rec: RecommendationState,
    as_at: date,
    policy: Policy = DEFAULT_POLICY,
    shared: Sequence[Commitment] = (),
) -> tuple[Rating, dict[str, Rating]]:
    """The worst open commitment's rating (the most salient of equals), or Complete when
    every commitment is closed. `shared`: the review-wide promises that serve `rec`
    (`Programme.shared_with`), judged for it by the policy's `from_review` rule and named in
    the reason; the ratings returned are `rec`'s own commitments'."""
    ratings = {c.commitment: rate_commitment(c, as_at, policy) for c in rec.commitments}
    wide = [(c, rate_commitment(c, as_at, policy, from_review=True)) for c in shared]
    judged = [*zip(rec.commitments, ratings.values(), strict=True), *wide]
    named = [(c.commitment, r) for c, r in judged]
    result = roll_up(
        [(r.rating, r.rule) for _, r in named],
        [_salience_of(c, r, as_at) for c, r in judged],
    )
    facts = {"recommendation": str(rec.number), "as_at": as_at.isoformat()}
    review_note = _review_note(wide)
    if result.worst is not None:
        name, worst = named[result.worst]
        own = result.worst < len(ratings)
        where = "" if own else " (a promise of the review as a whole)"
        reported = rec.reported(judged[result.worst][0]) if own else None
        said = f"; {reported.words(quoted=False)}" if reported is not None else ""
        reason = f"worst open commitment {name!r}{where}: {worst.reason}{said}{review_note}"
        return Rating(
            worst.rating, worst.rule, reason, {**worst.facts, **facts}, policy.version
        ), ratings
    reasons = {
        "all_closed": "every commitment closed; delivered: "
        + ", ".join(n for n, r in named if r.rating == COMPLETE),
        "all_withdrawn": "every commitment was withdrawn or superseded",
        "no_commitments": "no commitment of its own has been recorded"
        if wide
        else "no commitment has been recorded",
    }
    reason = reasons[result.rule] + review_note
    return Rating(result.rating, result.rule, reason, facts, policy.version), ratings


def _salience_of(c: Commitment, rating: Rating, as_at: date) -> Salience:
    unexplained = sum(1 for r in c.revisions if r.unexplained)
    return salience(
        rating.rule,
        as_at,
        c.due.latest if c.due else None,
        c.baseline.latest if c.baseline else None,
        unexplained,
    )


def _review_note(wide: Sequence[tuple[Commitment, Rating]]) -> str:
    """What the policy did with the review-wide promises, said once in the reason."""
    left_out = [c.commitment for c, r in wide if r.rating == NOT_RATED]
    if not left_out:
        return ""
    names = ", ".join(repr(n) for n in left_out)
    return (
        f"; the review-wide {names} {'is' if len(left_out) == 1 else 'are'} rated once for "
        "the review as a whole, not here (policy rule from_review)"
    )
