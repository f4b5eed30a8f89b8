"""Reports built on the programme state: status, promised-vs-delivered, slippage timelines.

Each report is plain data (dataclasses) so the CLI, the API and the board render the same
answer; `to_json` gives the stable, documented JSON shape.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from rio.domain.due_window import DueWindow
from rio.domain.errors import DatesOutOfOrder
from rio.domain.rag import DEFAULT_POLICY, Policy, Rating, rate_recommendation
from rio.domain.slip import shift_days
from rio.domain.state import Commitment, Programme, RecommendationState
from rio.domain.values import Source


class Outcome(StrEnum):
    DELIVERED_ON_TIME = "delivered on time"
    DELIVERED_LATE = "delivered late"
    WITHDRAWN = "withdrawn"
    SLIPPED = "slipped"
    OVERDUE = "overdue"
    NOT_YET_DUE = "not yet due"
    NO_EVIDENCE = "no evidence"


@dataclass(frozen=True)
class PromiseOutcome:
    recommendation: int
    title: str
    commitment: str
    deliverable: str
    owner: str | None
    promised: DueWindow | None
    promised_in: Source
    outcome: Outcome
    detail: str
    days: int | None
    now_due: DueWindow | None
    unexplained_slips: int
    review: str = ""  # the review the commitment belongs to (rows of many reviews meet)


@dataclass(frozen=True)
class PromisedVsDelivered:
    review: str | None
    promised_as_at: date
    delivered_as_at: date
    known_at: datetime | None
    rows: tuple[PromiseOutcome, ...]

    @property
    def summary(self) -> str:
        counts = Counter(row.outcome for row in self.rows)
        parts = [f"{counts[o]} {o.value}" for o in Outcome if counts[o]]
        return (
            f"{len(self.rows)} commitments as promised at {self.promised_as_at}, "
            f"outcome as at {self.delivered_as_at}: " + (", ".join(parts) or "none")
        )


def promised_vs_delivered(
    then: Programme, later: Programme, review: str | None = None
) -> PromisedVsDelivered:
    """Every commitment as it stood in `then` against its outcome in `later` (same known_at).

    Refused when `later` is before `then`: an outcome is judged after the promise was taken.
    """
    if later.as_at < then.as_at:
        raise DatesOutOfOrder(
            f"delivered_as_at {later.as_at} is before promised_as_at {then.as_at}: outcomes are "
            "judged after the promises were taken"
        )
    rows = []
    for rec in then.recommendations:
        if review is not None and rec.review != review:
            continue
        rec_later = later.recommendation(rec.review, rec.number)
        for promise in rec.commitments:
            if not promise.is_open and promise.delivered is None:
                continue  # already withdrawn when the promise was taken: nothing was promised
            outcome = rec_later.commitment(promise.commitment)
            rows.append(_outcome(rec, promise, outcome, later.as_at))
    return PromisedVsDelivered(review, then.as_at, later.as_at, then.known_at, tuple(rows))


def _outcome(
    rec: RecommendationState, promise: Commitment, later: Commitment, as_at: date
) -> PromiseOutcome:
    promised = promise.due

    def row(outcome: Outcome, detail: str, days: int | None = None) -> PromiseOutcome:
        return PromiseOutcome(
            recommendation=rec.number,
            title=rec.title,
            commitment=promise.commitment,
            deliverable=promise.deliverable,
            owner=rec.owner_of(later),
            promised=promised,
            promised_in=(promise.revisions[-1].source if promise.revisions else promise.source),
            outcome=outcome,
            detail=detail,
            days=days,
            now_due=later.due,
            unexplained_slips=sum(1 for r in later.revisions if r.unexplained),
            review=rec.review,
        )

    if later.delivered is not None:
        on = later.delivered.occurred
        if promised is None or on <= promised.latest:
            return row(Outcome.DELIVERED_ON_TIME, f"delivered {on}: {later.delivered.detail}")
        late = (on - promised.latest).days
        return row(
            Outcome.DELIVERED_LATE,
            f"delivered {on}, {late} days late: {later.delivered.detail}",
            late,
        )
    if later.withdrawn is not None:
        return row(
            Outcome.WITHDRAWN, f"withdrawn {later.withdrawn.occurred}: {later.withdrawn.detail}"
        )
    if promised is None:
        if later.due is not None:
            return row(Outcome.NOT_YET_DUE, f"no date then; now due {later.due.text}")
        return row(Outcome.NO_EVIDENCE, "no date was promised and no delivery is recorded")
    if later.due is not None and later.due.latest > promised.latest:
        slip = (later.due.latest - promised.latest).days
        overdue = (
            f"; overdue by {(as_at - later.due.latest).days} days"
            if as_at > later.due.latest
            else ""
        )
        unexplained = (
            " (never explained)" if later.revisions and later.revisions[-1].unexplained else ""
        )
        return row(
            Outcome.SLIPPED,
            f"slipped to {later.due.text} (+{slip} days){unexplained}{overdue}; "
            "no delivery recorded",
            slip,
        )
    if as_at > promised.latest:
        overdue_days = (as_at - promised.latest).days
        return row(
            Outcome.OVERDUE,
            f"overdue by {overdue_days} days: no evidence of delivery and no new date",
            overdue_days,
        )
    return row(Outcome.NOT_YET_DUE, f"due by {promised.latest}; nothing recorded yet")


# --- slippage timeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineStep:
    occurred: date
    kind: str  # "promised", "revised", "delivered", "withdrawn"
    due: DueWindow | None
    slip_days: int | None
    reason: str | None
    unexplained: bool
    source: Source


@dataclass(frozen=True)
class Timeline:
    recommendation: int
    commitment: str
    deliverable: str
    baseline: DueWindow | None
    steps: tuple[TimelineStep, ...]


def timelines(rec: RecommendationState) -> list[Timeline]:
    """How each promised date drifted, update by update, against the first promise."""
    result = []
    for c in rec.commitments:
        baseline = c.baseline

        def slip(due: DueWindow | None, baseline: DueWindow | None = baseline) -> int | None:
            return shift_days(due.latest if due else None, baseline.latest if baseline else None)

        steps = [
            TimelineStep(c.made_on, "promised", c.baseline, slip(c.baseline), None, False, c.source)
        ]
        for r in c.revisions:
            steps.append(
                TimelineStep(
                    r.occurred, "revised", r.due, slip(r.due), r.reason, r.unexplained, r.source
                )
            )
        for kind, closure in (("delivered", c.delivered), ("withdrawn", c.withdrawn)):
            if closure is not None:
                steps.append(
                    TimelineStep(
                        closure.occurred, kind, None, None, closure.detail, False, closure.source
                    )
                )
        result.append(Timeline(rec.number, c.commitment, c.deliverable, baseline, tuple(steps)))
    return result


# --- status ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendationStatus:
    state: RecommendationState
    rating: Rating
    commitments: dict[str, Rating]


def status(programme: Programme, policy: Policy = DEFAULT_POLICY) -> list[RecommendationStatus]:
    result = []
    for rec in programme.recommendations:
        rating, ratings = rate_recommendation(rec, programme.as_at, policy)
        result.append(RecommendationStatus(rec, rating, ratings))
    return result


# --- JSON ------------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """Dates as ISO strings, due windows as {text, earliest, latest, edtf}, enums by value."""
    if isinstance(value, DueWindow):
        return value.to_dict()
    if isinstance(value, Source):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, PromisedVsDelivered):
            data["summary"] = value.summary
        return data
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value
