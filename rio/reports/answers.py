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
from rio.domain.durations import in_words
from rio.domain.errors import DatesOutOfOrder
from rio.domain.rag import DEFAULT_POLICY, Policy, Rating, rate_recommendation
from rio.domain.slip import shift_days
from rio.domain.state import Commitment, Programme, RecommendationState, StatusReport
from rio.domain.values import ReportedStatus, Source


class Outcome(StrEnum):
    DELIVERED_ON_TIME = "delivered on time"
    DELIVERED_LATE = "delivered late"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded by its next stage"
    SLIPPED = "slipped"
    OVERDUE = "overdue"
    NOT_YET_DUE = "not yet due"
    # Where nothing was delivered but the owner said where it stood: not "no evidence".
    REPORTED_NOT_DELIVERED = "reported not delivered"
    REPORTED_IN_PROGRESS = "reported in progress"
    REPORTED_NOT_STARTED = "reported not started"
    REPORTED_COMPLETE = "reported complete (no evidence of delivery)"
    NO_EVIDENCE = "no evidence"


_REPORTED = {
    ReportedStatus.REPORTED_NOT_DELIVERED: Outcome.REPORTED_NOT_DELIVERED,
    ReportedStatus.IN_PROGRESS: Outcome.REPORTED_IN_PROGRESS,
    ReportedStatus.NOT_STARTED: Outcome.REPORTED_NOT_STARTED,
    ReportedStatus.REPORTED_COMPLETE: Outcome.REPORTED_COMPLETE,
}


def reported_words(report: StatusReport) -> str:
    """'reported not delivered as of 2024-10-01 (Tracker (2024-10-01)): "…"'."""
    return report.words()


@dataclass(frozen=True)
class PromiseOutcome:
    """One promise against its outcome. A review-wide promise has one row, recommendation
    0 (`REVIEW_WIDE`), and `serves` says which recommendations (None: all)."""

    recommendation: int
    title: str
    commitment: str
    deliverable: str
    owner: str | None  # when it was judged (delivered_as_at)
    promised: DueWindow | None
    promised_in: Source
    outcome: Outcome
    detail: str
    days: int | None
    now_due: DueWindow | None
    unexplained_slips: int
    owner_when_promised: str | None = None  # who held the promise at promised_as_at
    review_wide: bool = False
    serves: tuple[int, ...] | None = None
    inferred: bool = False
    now_deliverable: str | None = None  # the deliverable when judged, where its scope changed
    reported: StatusReport | None = None  # the owner's latest reported status, when judged
    stages: tuple[str, ...] = ()  # the line of work it belongs to, when it has stages

    @property
    def recommendations(self) -> str:
        """The recommendation it belongs to, or those a review-wide promise serves."""
        if not self.review_wide:
            return str(self.recommendation)
        return "all" if self.serves is None else ", ".join(str(n) for n in self.serves)

    @property
    def scope_changed(self) -> bool:
        return self.now_deliverable is not None

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
        """Each distinct promise counted once (a review-wide one too); inferred promises,
        reconstructed from loose wording, counted apart."""
        stated = [row for row in self.rows if not row.inferred]
        inferred = [row for row in self.rows if row.inferred]
        text = (
            f"{len(self.rows)} commitments as promised at {self.promised_as_at} "
            f"({len(stated)} stated, {len(inferred)} inferred), outcome as at "
            f"{self.delivered_as_at}: " + _counts(stated)
        )
        if inferred:
            text += f"; inferred: {_counts(inferred)}"
        wide = sum(1 for row in self.rows if row.review_wide)
        if wide:
            text += f"; {wide} of them for the review as a whole, counted once"
        return text


def _counts(rows: list[PromiseOutcome]) -> str:
    counts = Counter(row.outcome for row in rows)
    return ", ".join(f"{counts[o]} {o.value}" for o in Outcome if counts[o]) or "none"


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
            rows.append(_outcome(rec, rec_later, promise, outcome, later.as_at))
    return PromisedVsDelivered(review, then.as_at, later.as_at, then.known_at, tuple(rows))


def _outcome(
    rec: RecommendationState,
    rec_later: RecommendationState,
    promise: Commitment,
    later: Commitment,
    as_at: date,
) -> PromiseOutcome:
    promised = promise.due
    reported = rec_later.reported(later)
    scope = later.deliverable if later.deliverable != promise.deliverable else None
    owner_then, owner_now = rec.owner_of(promise), rec_later.owner_of(later)
    stages = rec_later.stages(later)

    def row(outcome: Outcome, detail: str, days: int | None = None) -> PromiseOutcome:
        notes = []
        if promise.inferred:
            notes.append("an inferred promise, reconstructed from loose wording")
        if scope is not None:
            notes.append(f"scope changed: now {scope!r}")
        if reported is not None and outcome not in _REPORTED.values():
            notes.append(reported_words(reported))
        if owner_then != owner_now:
            notes.append(f"owner when promised {owner_then or 'none'}, when judged {owner_now}")
        return PromiseOutcome(
            recommendation=rec.number,
            title=rec.title,
            commitment=promise.commitment,
            deliverable=promise.deliverable,
            owner=owner_now,
            promised=promised,
            promised_in=(promise.revisions[-1].source if promise.revisions else promise.source),
            outcome=outcome,
            detail="; ".join([detail.rstrip(".") if notes else detail, *notes]),
            days=days,
            now_due=later.due,
            unexplained_slips=sum(1 for r in later.revisions if r.unexplained),
            owner_when_promised=owner_then,
            review_wide=rec.review_wide,
            serves=promise.serves if rec.review_wide else None,
            inferred=promise.inferred,
            now_deliverable=scope,
            reported=reported,
            stages=tuple(c.commitment for c in stages) if len(stages) > 1 else (),
            review=rec.review,
        )

    if later.superseded is not None:
        nxt = rec_later.commitment(later.superseded.detail)
        on = later.superseded.occurred
        due = later.due
        past = (on - due.latest).days if due is not None and on > due.latest else None
        after = f", {in_words(past)} after its date ({due.text})" if past and due else ""
        next_due = f" (due {nxt.due.text})" if nxt.due else " (no date)"
        return row(
            Outcome.SUPERSEDED,
            f"not delivered; superseded on {on}{after} by its next stage "
            f"{nxt.commitment!r}: {nxt.deliverable!r}{next_due}",
            past,
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
    if reported is not None and (promised is None or as_at <= promised.latest):
        # Nothing delivered and nothing overdue yet: what the owner said is the finding.
        words = reported_words(reported)
        return row(_REPORTED[ReportedStatus(reported.status)], f"{words}; no delivery recorded")
    if promised is None:
        if later.due is not None:
            return row(Outcome.NOT_YET_DUE, f"no date then; now due {later.due.text}")
        return row(Outcome.NO_EVIDENCE, "no date was promised and no delivery is recorded")
    if later.due is not None and later.due.latest > promised.latest:
        slip = (later.due.latest - promised.latest).days
        overdue = (
            f"; overdue by {in_words((as_at - later.due.latest).days)}"
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
            f"overdue by {in_words(overdue_days)}: no evidence of delivery and no new date",
            overdue_days,
        )
    return row(Outcome.NOT_YET_DUE, f"due by {promised.latest}; nothing recorded yet")


# --- slippage timeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineStep:
    occurred: date
    kind: str  # "promised", "revised", "reported", "delivered", "withdrawn", "superseded"
    due: DueWindow | None
    slip_days: int | None
    reason: str | None
    unexplained: bool
    source: Source
    deliverable: str | None = None  # a revision that changed the scope: the new deliverable
    status: str | None = None  # a reported status (`ReportedStatus`)


@dataclass(frozen=True)
class Timeline:
    recommendation: int
    commitment: str
    deliverable: str
    baseline: DueWindow | None
    steps: tuple[TimelineStep, ...]
    stages: tuple[str, ...] = ()  # its line of work, first stage first, when it has stages
    inferred: bool = False


def timelines(rec: RecommendationState) -> list[Timeline]:
    """How each promised date drifted, update by update, against the first promise (of its
    own stage: a next stage starts a baseline of its own); what the owner reported on the
    way; a change of scope named as such."""
    result = []
    for c in rec.commitments:
        baseline = c.baseline

        def slip(due: DueWindow | None, baseline: DueWindow | None = baseline) -> int | None:
            return shift_days(due.latest if due else None, baseline.latest if baseline else None)

        reason = f"next stage of {c.supersedes!r}" if c.supersedes else None
        steps = [
            TimelineStep(
                c.made_on, "promised", c.baseline, slip(c.baseline), reason, False, c.source
            )
        ]
        for r in c.revisions:
            steps.append(
                TimelineStep(
                    r.occurred,
                    "revised",
                    r.due,
                    slip(r.due),
                    r.reason,
                    r.unexplained,
                    r.source,
                    deliverable=r.deliverable,
                )
            )
        for report in rec.statuses:
            about = report.commitment == c.commitment or (
                report.commitment is None and c.action is not None and report.action == c.action
            )
            if about:
                steps.append(
                    TimelineStep(
                        report.occurred,
                        "reported",
                        None,
                        None,
                        reported_words(report),
                        False,
                        report.source,
                        status=report.status,
                    )
                )
        closures = (
            ("delivered", c.delivered),
            ("withdrawn", c.withdrawn),
            ("superseded", c.superseded),
        )
        for kind, closure in closures:
            if closure is not None:
                detail = (
                    f"by its next stage {closure.detail!r}" if kind == "superseded" else None
                ) or closure.detail
                steps.append(
                    TimelineStep(closure.occurred, kind, None, None, detail, False, closure.source)
                )
        steps.sort(key=lambda step: step.occurred)  # stable: same-day steps keep their order
        line = rec.stages(c)
        result.append(
            Timeline(
                rec.number,
                c.commitment,
                c.deliverable,
                baseline,
                tuple(steps),
                tuple(x.commitment for x in line) if len(line) > 1 else (),
                c.inferred,
            )
        )
    return result


# --- status ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendationStatus:
    state: RecommendationState
    rating: Rating
    commitments: dict[str, Rating]


def status(programme: Programme, policy: Policy = DEFAULT_POLICY) -> list[RecommendationStatus]:
    """Each recommendation's rating, the review's own stream (its promises about the review
    as a whole) first; those promises are judged for each recommendation they serve by the
    policy's `from_review` rule."""
    result = []
    for rec in programme.recommendations:
        shared = programme.shared_with(rec)
        rating, ratings = rate_recommendation(rec, programme.as_at, policy, shared)
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
        if hasattr(value, "summary"):  # a report's one-line summary (a property)
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
