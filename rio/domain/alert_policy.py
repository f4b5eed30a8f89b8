"""The alert policy: which alerts are due for the programme as it stood on a date.

Pure: a function of the programme, the date of the previous run and the thresholds, with
no store, clock or mail server, so a run can be reproduced and explained afterwards.

Overdue and stale are the RAG rule table's own conditions (`rio.domain.rag.OVERDUE`,
`STALE`), judged under the same `Policy`, so an alert never calls stale what the status and
the board rate otherwise. Due soon is an alert's question only; it is written here, once,
in the same vocabulary.

Each alert has a deterministic id over who it is for and what it is about (owner, review,
recommendation, commitment, kind, due window), so the same finding on another day, in
another run or in another process is the same alert, and is sent once. Stale alerts also
key on the last update, so a commitment that goes quiet again after an update is alerted
again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from rio.domain.access import owner_key
from rio.domain.due_window import DueWindow
from rio.domain.rag import DEFAULT_POLICY, OVERDUE, STALE, Policy, commitment_facts
from rio.domain.rules import AS_AT, DUE_LATEST, After, DaysAfter, Limits, Not, holds
from rio.domain.state import Commitment, Programme, RecommendationState, Revision
from rio.domain.values import REVIEW_WIDE, OwnerRole, Source

POLICY_VERSION = "rio-alerts/1"


class AlertKind(StrEnum):
    ESCALATION = "escalation"
    OVERDUE = "overdue"
    UNEXPLAINED_SLIP = "unexplained_slip"
    SLIPPED = "slipped"
    DUE_SOON = "due_soon"
    STALE = "stale"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def rank(self) -> int:
        """Most urgent first: the order items take in a digest."""
        return list(AlertKind).index(self)


_LABELS = {
    AlertKind.ESCALATION: "Escalated to you as senior owner",
    AlertKind.OVERDUE: "Overdue",
    AlertKind.UNEXPLAINED_SLIP: "Date moved without a reason",
    AlertKind.SLIPPED: "Date moved later",
    AlertKind.DUE_SOON: "Due soon",
    AlertKind.STALE: "No update for a long time",
}


# Due by the end of the window `due_soon_days` from as_at (an undated commitment never is).
DUE_SOON = Not(After(DUE_LATEST, DaysAfter(AS_AT, "due_soon_days")))


@dataclass(frozen=True)
class Thresholds:
    """The alert-only thresholds, and the RAG policy that says what overdue and stale are."""

    due_soon_days: int = 30
    escalate_after_days: int = 30
    policy: Policy = DEFAULT_POLICY

    @property
    def stale_after_days(self) -> int:
        return self.policy.stale_after_days

    @property
    def rule_limits(self) -> Limits:
        return {**self.policy.limits, "due_soon_days": self.due_soon_days}


@dataclass(frozen=True)
class AlertDue:
    """One alert the policy finds due: to whom, about what, and why, in a sentence."""

    id: UUID
    kind: AlertKind
    owner: str
    role: str
    review: str
    number: int
    title: str
    commitment: str
    deliverable: str
    due: DueWindow | None
    previous_due: DueWindow | None
    source: Source
    why: str
    days: int | None
    as_at: date


@dataclass(frozen=True)
class Unaddressed:
    """A finding with nobody to send it to: reported by the run, never silently dropped."""

    review: str
    number: int
    commitment: str
    kind: AlertKind
    reason: str


@dataclass(frozen=True)
class Findings:
    alerts: tuple[AlertDue, ...]
    unaddressed: tuple[Unaddressed, ...]


def alert_id(
    *,
    owner: str,
    review: str,
    number: int,
    commitment: str,
    kind: AlertKind | str,
    due: DueWindow | None,
    occasion: str = "",
) -> UUID:
    window = f"{due.text}|{due.latest.isoformat()}" if due is not None else "no date"
    key = "|".join(
        (
            "rio:alert",
            owner_key(owner),
            review.strip().casefold(),
            str(number),
            commitment,
            str(kind),
            window,
            occasion,
        )
    )
    return uuid5(NAMESPACE_URL, key)


def alerts_due(
    programme: Programme, previous_run: date | None = None, thresholds: Thresholds | None = None
) -> Findings:
    """Every alert due as at `programme.as_at`; `previous_run` is the last run's as-at date."""
    limits = thresholds or Thresholds()
    alerts: list[AlertDue] = []
    unaddressed: list[Unaddressed] = []
    for rec in programme.recommendations:
        for commitment in rec.commitments:
            if not commitment.is_open:
                continue
            for finding in _findings(rec, commitment, programme.as_at, previous_run, limits):
                senior = finding.role == OwnerRole.SENIOR
                owner = rec.senior_owner if senior else rec.owner_of(commitment)
                if owner is None:
                    who = "senior owner" if senior else "owner"
                    unaddressed.append(
                        Unaddressed(
                            rec.review,
                            rec.number,
                            commitment.commitment,
                            finding.kind,
                            f"{_which(rec.number)} has no {who} on record",
                        )
                    )
                    continue
                alerts.append(_alert(rec, commitment, finding, owner, programme.as_at))
    alerts.sort(key=lambda a: (a.owner, a.kind.rank, a.review, a.number, a.commitment))
    return Findings(tuple(alerts), tuple(unaddressed))


def resolution(
    programme: Programme,
    *,
    review: str,
    number: int,
    commitment: str,
    kind: AlertKind | str,
    due: DueWindow | None,
    as_at: date,
    days: int | None,
) -> str | None:
    """Why an alert raised as at `as_at` is no longer news as at `programme.as_at`, or None
    while it still stands. Asked of a pending alert before it is sent (it may have waited
    out a mail outage): a resolved matter is withdrawn, never sent."""
    try:
        rec = programme.recommendation(review, number)
        c = rec.commitment(commitment)
    except KeyError:
        return f"recommendation {number}, {commitment}, is no longer on record"
    when = _day(programme.as_at)
    if c.delivered is not None:
        return f"“{c.deliverable}” was delivered on {_day(c.delivered.occurred)}"
    if c.withdrawn is not None:
        return f"“{c.deliverable}” was withdrawn on {_day(c.withdrawn.occurred)}"
    kind = AlertKind(kind)
    if kind is not AlertKind.STALE and c.due != due:
        now_due = f"due {c.due.text}" if c.due is not None else "undated"
        return f"“{c.deliverable}” was re-planned since (as at {when} it is {now_due})"
    if kind is AlertKind.STALE and days is not None:
        quiet_since = as_at - timedelta(days=days)
        last = c.last_update or c.made_on
        if last > quiet_since:
            return f"“{c.deliverable}” was updated on {_day(last)}"
    return None


@dataclass(frozen=True)
class _Finding:
    kind: AlertKind
    role: str
    due: DueWindow | None
    previous_due: DueWindow | None
    source: Source
    why: str
    days: int | None
    occasion: str = ""


@dataclass(frozen=True)
class _Move:
    """A revision that changed the due window, and the window it changed."""

    revision: Revision
    before: DueWindow
    after: DueWindow


def _findings(
    rec: RecommendationState,
    c: Commitment,
    as_at: date,
    previous_run: date | None,
    limits: Thresholds,
) -> Iterator[_Finding]:
    name = f"“{c.deliverable}”"
    due = c.due
    facts = commitment_facts(c, as_at)
    overdue = holds(OVERDUE, facts, limits.rule_limits)
    if due is not None and overdue:
        days = (as_at - due.latest).days
        promise = _promise_source(c)
        promised = f"{name} {_promised(c)}, due {due.text}, that is by {_day(due.latest)}"
        yield _Finding(
            AlertKind.OVERDUE,
            OwnerRole.ACCOUNTABLE,
            due,
            None,
            promise,
            f"{promised}. No delivery has been recorded, and as at {_day(as_at)} it is "
            f"{_days(days)} overdue.",
            days,
        )
        owner = rec.owner_of(c)
        if days >= limits.escalate_after_days and rec.senior_owner != owner:
            yield _Finding(
                AlertKind.ESCALATION,
                OwnerRole.SENIOR,
                due,
                None,
                promise,
                f"{promised}. No delivery has been recorded, and as at {_day(as_at)} it is "
                f"{_days(days)} overdue. It is owned by {owner or 'nobody on record'}; a "
                f"commitment overdue for {_days(limits.escalate_after_days)} or more is brought "
                f"to the senior owner of {_which(rec.number)}.",
                days,
            )
    elif due is not None and holds(DUE_SOON, facts, limits.rule_limits):
        days = (due.latest - as_at).days
        when = "today" if days == 0 else f"{_days(days)} from {_day(as_at)}"
        yield _Finding(
            AlertKind.DUE_SOON,
            OwnerRole.ACCOUNTABLE,
            due,
            None,
            _promise_source(c),
            f"{name} {_promised(c)}, due {due.text}, that is by {_day(due.latest)}: "
            f"{when}. No delivery has been recorded yet.",
            days,
        )
    moves = _moves(c)
    if moves:
        move = moves[-1]
        yield from _slip(name, move, previous_run)
    last = c.last_update or c.made_on
    quiet = (as_at - last).days
    # Open, not overdue and quiet: exactly when the rule table rates it "stale".
    if not overdue and holds(STALE, facts, limits.rule_limits):
        yield _Finding(
            AlertKind.STALE,
            OwnerRole.ACCOUNTABLE,
            due,
            None,
            _promise_source(c),
            f"Nothing has been recorded about {name} since {_day(last)}: {_days(quiet)} by "
            f"{_day(as_at)}, longer than the {_days(limits.stale_after_days)} the secretariat "
            "allows between updates.",
            quiet,
            occasion=f"since {last.isoformat()}",
        )


def _slip(name: str, move: _Move, previous_run: date | None) -> Iterator[_Finding]:
    revision, before, after = move.revision, move.before, move.after
    shift = (after.latest - before.latest).days
    direction = f"{_days(shift)} later" if shift >= 0 else f"{_days(-shift)} earlier"
    moved = (
        f"On {_day(revision.occurred)} the date for {name} was moved from {before.text} "
        f"(by {_day(before.latest)}) to {after.text} (by {_day(after.latest)}), {direction}, "
        f"in {revision.source.document}"
    )
    if not revision.reason:
        # A standing finding (DAO 02/20): raised whenever seen, once per window.
        yield _Finding(
            AlertKind.UNEXPLAINED_SLIP,
            OwnerRole.ACCOUNTABLE,
            after,
            before,
            revision.source,
            f"{moved}, and no reason was given. HM Treasury's DAO 02/20 asks that every "
            "revised date be explained.",
            shift,
        )
    elif shift > 0 and (previous_run is None or revision.occurred > previous_run):
        yield _Finding(
            AlertKind.SLIPPED,
            OwnerRole.ACCOUNTABLE,
            after,
            before,
            revision.source,
            f"{moved}. The reason given: {revision.reason.rstrip('.')}.",
            shift,
        )


def _moves(c: Commitment) -> list[_Move]:
    """Each revision that changed the window; the first dated promise is not a move."""
    moves: list[_Move] = []
    current = c.baseline
    for revision in c.revisions:
        if revision.due is None:
            continue
        if current is not None and revision.due != current:
            moves.append(_Move(revision, current, revision.due))
        current = revision.due
    return moves


def _alert(
    rec: RecommendationState, c: Commitment, finding: _Finding, owner: str, as_at: date
) -> AlertDue:
    return AlertDue(
        id=alert_id(
            owner=owner,
            review=rec.review,
            number=rec.number,
            commitment=c.commitment,
            kind=finding.kind,
            due=finding.due,
            occasion=finding.occasion,
        ),
        kind=finding.kind,
        owner=owner,
        role=finding.role,
        review=rec.review,
        number=rec.number,
        title=rec.title,
        commitment=c.commitment,
        deliverable=c.deliverable,
        due=finding.due,
        previous_due=finding.previous_due,
        source=finding.source,
        why=finding.why,
        days=finding.days,
        as_at=as_at,
    )


def _promise_source(c: Commitment) -> Source:
    """The document that set the date now in force: the latest dated revision, or the promise."""
    for revision in reversed(c.revisions):
        if revision.due is not None:
            return revision.source
    return c.source


def _promised(c: Commitment) -> str:
    """'was promised on 20 November 2023', or 're-planned' when a revision set today's date."""
    for revision in reversed(c.revisions):
        if revision.due is not None:
            return f"was re-planned on {_day(revision.occurred)}"
    return f"was promised on {_day(c.made_on)}"


def _which(number: int) -> str:
    return "the review as a whole" if number == REVIEW_WIDE else f"recommendation {number}"


def day_in_words(day: date) -> str:
    """'30 April 2024': how a secretariat writes a date."""
    return f"{day.day} {day:%B} {day.year}"


def _day(day: date) -> str:
    return day_in_words(day)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"
