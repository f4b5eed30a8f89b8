"""The board's rows: each recommendation of a review with its RAG, owner, next promise and slip.

Read straight from the commitment read model with the rule table compiled to SQL, so a
board costs two indexed queries rather than decoding every commitment's history. The
roll-up and the slip are the domain's own (`rio.domain.rag.roll_up`, `rio.domain.slip`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from rio.domain import access, clock
from rio.domain.access import Role
from rio.domain.rag import DEFAULT_POLICY, Policy, rate_commitment, roll_up, salience
from rio.domain.slip import slip_days
from rio.domain.state import Commitment, Programme, RecommendationState, StatusReport
from rio.domain.values import REVIEW_WIDE, ReportedStatus
from rio.projections import codec
from rio.projections.portfolio import rule_expression
from rio.projections.read_model import (
    ReadModel,
    commitment_versions,
    facts,
    recommendation_versions,
    visible,
)
from rio.projections.timeline import serves_column


@dataclass(frozen=True)
class NextPromise:
    """The earliest due window among a recommendation's open commitments."""

    commitment: str
    text: str
    latest: date
    days_left: int  # negative: overdue by that many days


@dataclass(frozen=True)
class BoardRow:
    number: int
    title: str
    rating: str
    rule: str
    owner: str | None
    next_promise: NextPromise | None
    slip_days: int  # the largest slip of any commitment against its first promise
    unexplained_slips: int
    commitments: int
    reported: str | None = None  # the latest status its owner reported, in words

    @property
    def review_wide(self) -> bool:
        """The review's own row: its promises about the review as a whole, counted once."""
        return self.number == REVIEW_WIDE


@dataclass(frozen=True)
class _CommitmentRow:
    commitment: str
    rating: str
    rule: str
    due_text: str | None
    due_latest: date | None
    baseline_latest: date | None
    open: bool
    withdrawn: bool
    unexplained_slips: int
    serves: str | None = None
    shared_rating: str | None = None  # a review-wide row as judged for those it serves
    shared_rule: str | None = None

    def serves_number(self, number: int) -> bool:
        return self.serves == "all" or str(number) in (self.serves or "").split(",")

    def shared(self) -> _CommitmentRow:
        assert self.shared_rating is not None and self.shared_rule is not None
        return _CommitmentRow(
            self.commitment,
            self.shared_rating,
            self.shared_rule,
            self.due_text,
            self.due_latest,
            self.baseline_latest,
            self.open,
            self.withdrawn,
            self.unexplained_slips,
        )

    @property
    def slip_days(self) -> int:
        """As `Commitment.slip_days`: how far the date now due lies past the first promise."""
        return slip_days(self.due_latest, self.baseline_latest)


def board(
    model: ReadModel,
    review: str,
    as_at: date,
    known_at: datetime | None = None,
    *,
    numbers: set[int] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> list[BoardRow]:
    """The review as at `as_at`, known at `known_at`; only recommendations `numbers` if given."""
    recs, c = recommendation_versions, commitment_versions.c
    rec_query = (
        sa.select(recs.c.number, recs.c.state)
        .where(*visible(recs, as_at, known_at), recs.c.review == review)
        .order_by(recs.c.number)
    )
    commitment_query = (
        sa.select(
            c.number,
            c.commitment,
            c.due_text,
            c.due_latest,
            c.baseline_latest,
            c.delivered_on,
            c.withdrawn_on,
            c.superseded_on,
            c.serves,
            c.unexplained_slips,
            rule_expression(as_at, policy).label("rule"),
            rule_expression(as_at, policy, from_review=True).label("shared_rule"),
        )
        .where(*visible(commitment_versions, as_at, known_at), c.review == review)
        .order_by(c.number, c.ordinal)
    )
    by_number: dict[int, list[_CommitmentRow]] = {}
    with model.engine.connect() as conn:
        rec_rows = conn.execute(rec_query).all()
        for row in conn.execute(commitment_query):
            by_number.setdefault(row.number, []).append(
                _CommitmentRow(
                    commitment=row.commitment,
                    rating=policy.ratings[row.rule],
                    rule=row.rule,
                    due_text=row.due_text,
                    due_latest=row.due_latest,
                    baseline_latest=row.baseline_latest,
                    open=row.delivered_on is None
                    and row.withdrawn_on is None
                    and row.superseded_on is None,
                    withdrawn=row.withdrawn_on is not None,
                    unexplained_slips=row.unexplained_slips,
                    serves=row.serves,
                    shared_rating=policy.ratings[row.shared_rule],
                    shared_rule=row.shared_rule,
                )
            )
        reported = _reported(conn, review, as_at, known_at)
    states = [(number, codec.loads_recommendation(text)) for number, text in rec_rows]
    return _rows(states, by_number, reported, as_at, numbers)


def board_of(
    programme: Programme,
    review: str,
    *,
    numbers: set[int] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> list[BoardRow]:
    """The same rows from the fold's state, for what the read model cannot answer: the
    board "as the public record stood" (`rio.domain.public_record`), which the fold alone
    knows. The rule table and the roll-up are the same ones `board` compiles to SQL."""
    as_at = programme.as_at
    states = sorted(
        ((r.number, r) for r in programme.recommendations if r.review == review),
        key=lambda pair: pair[0],
    )
    by_number = {
        number: [_commitment_row(c, state, as_at, policy) for c in state.commitments]
        for number, state in states
    }
    reported = {
        number: _reported_words(list(state.statuses)) for number, state in states if state.statuses
    }
    return _rows(states, by_number, reported, as_at, numbers)


def _commitment_row(
    c: Commitment, state: RecommendationState, as_at: date, policy: Policy
) -> _CommitmentRow:
    rule = rate_commitment(c, as_at, policy)
    shared = rate_commitment(c, as_at, policy, from_review=True)
    return _CommitmentRow(
        commitment=c.commitment,
        rating=rule.rating,
        rule=rule.rule,
        due_text=c.due.text if c.due else None,
        due_latest=c.due.latest if c.due else None,
        baseline_latest=c.baseline.latest if c.baseline else None,
        open=c.is_open,
        withdrawn=c.withdrawn is not None,
        unexplained_slips=sum(1 for r in c.revisions if r.unexplained),
        serves=serves_column(c, state.review_wide),
        shared_rating=shared.rating,
        shared_rule=shared.rule,
    )


def _rows(
    states: list[tuple[int, RecommendationState]],
    by_number: dict[int, list[_CommitmentRow]],
    reported: dict[int, str],
    as_at: date,
    numbers: set[int] | None,
) -> list[BoardRow]:
    wide = by_number.get(REVIEW_WIDE, [])
    result = []
    for number, state in states:
        if numbers is not None and number not in numbers:
            continue
        commitments = by_number.get(number, [])
        judged = commitments
        if number != REVIEW_WIDE:
            judged = [*commitments, *(r.shared() for r in wide if r.serves_number(number))]
        rolled = roll_up(
            [(r.rating, r.rule) for r in judged],
            [
                salience(r.rule, as_at, r.due_latest, r.baseline_latest, r.unexplained_slips)
                for r in judged
            ],
        )
        result.append(
            BoardRow(
                number=number,
                title=state.title,
                rating=rolled.rating,
                rule=rolled.rule,
                owner=state.accountable_owner,
                next_promise=_next_promise(commitments, as_at),
                slip_days=max((r.slip_days for r in commitments if not r.withdrawn), default=0),
                unexplained_slips=sum(r.unexplained_slips for r in commitments),
                commitments=len(commitments),
                reported=reported.get(number),
            )
        )
    return result


def _reported(
    conn: sa.Connection, review: str, as_at: date, known_at: datetime | None
) -> dict[int, str]:
    """Each recommendation's latest reported status as at `as_at`, in words: the owners'
    own accounts, shown beside the computed rating (never instead of it)."""
    recs = recommendation_versions
    query = (
        sa.select(recs.c.number, facts.c.state)
        .join(recs, recs.c.rec_id == facts.c.rec_id)
        .where(
            *visible(facts, as_at, known_at),
            *visible(recs, as_at, known_at),
            recs.c.review == review,
            facts.c.kind == "statuses",
        )
        .order_by(recs.c.number, facts.c.valid_from, facts.c.phase, facts.c.version)
    )
    latest: dict[int, list[StatusReport]] = {}
    for number, text in conn.execute(query):
        latest.setdefault(number, []).append(codec.loads(StatusReport, text))
    return {number: _reported_words(reports) for number, reports in latest.items()}


def _reported_words(reports: list[StatusReport]) -> str:
    """The latest day's reported statuses (in valid-time order), in words."""
    last = reports[-1].occurred
    same_day = [r for r in reports if r.occurred == last]
    about = ", ".join(r.commitment or r.action or "the recommendation" for r in same_day)
    words = sorted({ReportedStatus(r.status).words for r in same_day})
    return f"reported {' / '.join(words)} ({about}) as of {last}, {same_day[-1].source.cite()}"


def _next_promise(commitments: list[_CommitmentRow], as_at: date) -> NextPromise | None:
    dated = [r for r in commitments if r.open and r.due_latest is not None and r.due_text]
    # (a review-wide promise is the review's own row's, not each recommendation's)
    if not dated:
        return None
    first = min(dated, key=lambda r: r.due_latest or date.max)
    assert first.due_latest is not None and first.due_text is not None
    return NextPromise(
        first.commitment, first.due_text, first.due_latest, (first.due_latest - as_at).days
    )


def review_exists(model: ReadModel, review: str) -> bool:
    """Whether any recommendation of `review` is on record now."""
    recs = recommendation_versions
    query = (
        sa.select(recs.c.rec_id)
        .where(recs.c.review == review, recs.c.recorded_to.is_(None))
        .limit(1)
    )
    with model.engine.connect() as conn:
        return conn.execute(query).first() is not None


def owned(model: ReadModel, review: str, role: Role, owner: str | None) -> set[int]:
    """The recommendations of `review` a key of `role` (naming `owner`) reads, as things stand."""
    return owned_by_review(model, role, owner, review).get(review, set())


def owned_by_review(
    model: ReadModel, role: Role, owner: str | None, review: str | None = None
) -> dict[str, set[int]]:
    """For each review (or just `review`), the recommendations a key of `role` (naming
    `owner`) reads, as things stand; a review it reads none of is left out.

    The API's rule (`rio.domain.access.may_read`) on the current rows: the commitment rows'
    owner column is each commitment's own owner, else the accountable one.
    """
    today = clock.today()
    recs, c = recommendation_versions, commitment_versions.c
    rec_query = sa.select(recs.c.review, recs.c.number, recs.c.state).where(
        *visible(recs, today, None)
    )
    commitment_query = sa.select(c.review, c.number, c.owner).where(
        *visible(commitment_versions, today, None)
    )
    if review is not None:
        rec_query = rec_query.where(recs.c.review == review)
        commitment_query = commitment_query.where(c.review == review)
    owners: dict[str, dict[int, list[str | None]]] = {}
    with model.engine.connect() as conn:
        for name, number, text in conn.execute(rec_query):
            accountable = codec.loads_recommendation(text).accountable_owner
            owners.setdefault(name, {}).setdefault(number, []).append(accountable)
        for name, number, commitment_owner in conn.execute(commitment_query):
            owners.setdefault(name, {}).setdefault(number, []).append(commitment_owner)
    readable = {name: access.readable_numbers(role, owner, by) for name, by in owners.items()}
    return {name: numbers for name, numbers in readable.items() if numbers}
