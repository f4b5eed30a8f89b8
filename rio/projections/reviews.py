"""The store's reviews as a read model, and the questions asked across them.

The register (`ReviewRegister`) follows the log for Review events only, into a table of its
own with its own tracking row, so it never forces the programme read model to rebuild and a
list of reviews costs one indexed query however long the log. A review never registered is
still listed, titled by its key.

The questions across reviews (`index`, `portfolio`) are counted in the database from the
programme read model's commitment rows, with the rule table compiled to SQL
(`rio.projections.portfolio.rule_expression`) and the recommendation roll-up compiled from
the domain's severity order (`ROLL_UP_RANK`); tests/store/test_reviews_portfolio.py checks
both against the pure replay's status on both stores.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from rio.aggregates.review import Review, ReviewDetails, ReviewKind
from rio.application.reviews import REVIEW_TOPICS
from rio.application.service import RIO
from rio.domain import access, clock, rag
from rio.domain.access import Role
from rio.domain.rag import (
    COMPLETE,
    DEFAULT_POLICY,
    NOT_RATED,
    RULES,
    SEVERITY,
    SUPERSEDED,
    WITHDRAWN,
    Policy,
)
from rio.domain.slip import slip_days
from rio.domain.values import REVIEW_WIDE
from rio.persistence.paging import notification_pages
from rio.projections import codec
from rio.projections.portfolio import commitment_facts_columns, rule_expression
from rio.projections.read_model import ReadModel, commitment_versions, recommendation_versions
from rio.projections.tables import micros, tracked, visible

metadata = sa.MetaData()

review_versions = sa.Table(
    "rio_rm_review_versions",
    metadata,
    sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("review_id", sa.String(36), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("sponsor", sa.Text, nullable=True),
    sa.Column("published", sa.Date, nullable=True),
    sa.Column("response_days", sa.Integer, nullable=True),
    sa.Column("themes", sa.Text, nullable=False),  # JSON: number -> theme
    sa.Column("recorded_from", sa.BigInteger, nullable=False),
    sa.Column("recorded_to", sa.BigInteger, nullable=True),
)
sa.Index("rio_rm_review_versions_id", review_versions.c.review_id, review_versions.c.recorded_to)

# The portfolio's questions about what is known now read only these indexes, never the wide
# rows (a lookup of the row per commitment cost five times the scan): the range of days
# first, then every column the rule table reads (compiled from the same list of facts), the
# review and number a count groups by, and recorded_to, which SQLite needs in the index to
# use it alone. Created by the register (below), beside the programme read model's tables,
# so their definition and rebuilds are untouched.
_c = commitment_versions.c
_NOW = _c.recorded_to.is_(None)
COMMITMENTS_NOW = sa.Index(
    "rio_rm_commitment_versions_portfolio_now",
    _c.valid_from,
    _c.valid_to,
    _c.recorded_to,
    _c.review,
    _c.number,
    *commitment_facts_columns().values(),
    _c.unexplained_slips,
    _c.row_id,
    sqlite_where=_NOW,
    postgresql_where=_NOW,
)
_r = recommendation_versions.c
RECOMMENDATIONS_NOW = sa.Index(  # in the order they are counted: review first
    "rio_rm_recommendation_versions_portfolio_now",
    _r.review,
    _r.number,
    _r.valid_from,
    _r.valid_to,
    _r.recorded_to,
    _r.row_id,
    sqlite_where=_r.recorded_to.is_(None),
    postgresql_where=_r.recorded_to.is_(None),
)
PORTFOLIO_INDEXES = (COMMITMENTS_NOW, RECOMMENDATIONS_NOW)
# Made by earlier versions of the register, and superseded by the two above.
_RETIRED_INDEXES = ("rio_rm_commitment_versions_review_now",)

review_tracking = sa.Table(
    "rio_rm_review_tracking",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)
TRACKING_NAME = "reviews"
ANSWERS_KEPT = 64  # questions remembered per register (`ReviewRegister.remember`)
_T = TypeVar("_T")

# Overdue, within a grace period before Red or past it (`rio.domain.rag`'s two rules).
OVERDUE_RULES = tuple(r.name for r in RULES if r.when in (rag.OVERDUE, rag.PAST_GRACE))
# A recommendation's rating is the worst of its open commitments, else Complete when one
# was delivered, else Withdrawn (`rio.domain.rag.roll_up`): as a number per commitment
# whose maximum over a recommendation is that rating, and NULL for none (Not rated).
# Superseded closes a stage as Withdrawn does; Not rated has no rank (left out, as roll_up does).
ROLL_UP_RANK: Mapping[str, int] = {**SEVERITY, COMPLETE: -1, WITHDRAWN: -2, SUPERSEDED: -2}
_RATING_OF_RANK = {
    -2: WITHDRAWN,
    **{rank: rating for rating, rank in ROLL_UP_RANK.items() if rating != SUPERSEDED},
}
RATING_ORDER = ("Red", "Amber", "Green", COMPLETE, WITHDRAWN, NOT_RATED)


@dataclass(frozen=True)
class ReviewInfo:
    """A review as the doors show it: registered, or known only by its key."""

    key: str
    details: ReviewDetails
    registered: bool

    @property
    def title(self) -> str:
        return self.details.title

    @property
    def kind(self) -> str:
        return self.details.kind

    def as_dict(self) -> dict[str, Any]:
        d = self.details
        return {
            "key": self.key,
            "title": d.title,
            "kind": d.kind,
            "sponsor": d.sponsor,
            "published": d.published,
            "response_days": d.response_days,
            "response_due": d.response_due,
            "registered": self.registered,
        }


def unregistered(key: str) -> ReviewInfo:
    """A review known only from its recommendations: titled by its key."""
    return ReviewInfo(key, ReviewDetails(key, ReviewKind.REVIEW.value, None, None, None, {}), False)


class ReviewRegister:
    """The registered reviews of one store, followed from its log."""

    def __init__(self, app: RIO, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self._writer = engine.execution_options(rio_write=True)
        self._ready = False
        self._indexed = False
        self._now: tuple[int | None, dict[str, ReviewInfo]] | None = None
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()

    def ensure_tables(self) -> None:
        if self._ready:
            return
        metadata.create_all(self._writer)
        with self._writer.begin() as conn:
            if conn.execute(_tracking_query()).first() is None:
                conn.execute(review_tracking.insert().values(name=TRACKING_NAME, position=0))
        self._ready = True

    def ensure_index(self) -> None:
        """The covering indexes the portfolio's questions read, on a read model made before
        them (a read model built since has them: they are declared on its tables)."""
        if self._indexed:
            return
        with self._writer.begin() as conn:
            if not sa.inspect(conn).has_table(commitment_versions.name):
                return  # the read model creates them with its tables
            for index in PORTFOLIO_INDEXES:
                index.create(conn, checkfirst=True)
            for name in _RETIRED_INDEXES:
                conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
        self._indexed = True

    def catch_up(self) -> int:
        """Apply the Review events recorded since the tracked position; how many."""
        self.ensure_tables()
        applied = 0
        while True:
            with self.engine.connect() as conn:
                position = int(conn.execute(_tracking_query()).scalar_one())
            head = self.app.position()
            if head <= position:
                return applied
            # Read the log before taking the write lock (on SQLite the log is in the same
            # file, and readers must never wait on a writer waiting for them).
            events = [
                self.app.mapper.to_domain_event(n)
                for page in notification_pages(
                    self.app.recorder, after=position, topics=REVIEW_TOPICS, stop=head
                )
                for n in page
            ]
            with self._writer.begin() as conn:
                query = _tracking_query()
                if conn.dialect.name == "postgresql":
                    query = query.with_for_update()
                if int(conn.execute(query).scalar_one()) != position:
                    continue  # another process applied these first: read again
                for event in events:
                    if isinstance(event, Review.Registered | Review.Revised):
                        _apply(conn, event)
                        applied += 1
                conn.execute(
                    review_tracking.update()
                    .where(review_tracking.c.name == TRACKING_NAME)
                    .values(position=head)
                )

    def registered(self, known_at: datetime | None = None) -> dict[str, ReviewInfo]:
        """The registered reviews (as known at `known_at`), by key (a new dict each call)."""
        self.catch_up()
        t = review_versions
        query = sa.select(t)
        if known_at is None:
            query = query.where(t.c.recorded_to.is_(None))
        else:
            k = micros(known_at)
            query = query.where(
                t.c.recorded_from <= k, sa.or_(t.c.recorded_to.is_(None), t.c.recorded_to > k)
            )
        with self.engine.connect() as conn:
            # The rows only ever grow: the last row id says whether what is known now changed
            # since it was last read (a thousand reviews cost more to decode than to count).
            stamp = conn.execute(sa.select(sa.func.max(t.c.row_id))).scalar()
            if known_at is None and self._now is not None and self._now[0] == stamp:
                return dict(self._now[1])
            found = {row.key: _info(row) for row in conn.execute(query)}
        if known_at is None:
            self._now = (stamp, found)
        return dict(found)

    def reviews(self, model: ReadModel, known_at: datetime | None = None) -> dict[str, ReviewInfo]:
        """Every review: registered, or with a recommendation on record; by key, in order."""
        found = self.registered(known_at)
        for key in model.reviews():
            found.setdefault(key, unregistered(key))
        return dict(sorted(found.items()))

    def info(self, key: str) -> ReviewInfo:
        return self.registered().get(key) or unregistered(key)

    def remember(self, model: ReadModel, question: Hashable, answer: Callable[[], _T]) -> _T:
        """`answer()`, or what it gave when last asked `question` with both read models at
        the positions they are at now (and on the same day, which an owner's scope is read
        as at): the rows an answer is counted from change only when an event is applied, so
        the board reloaded or the API polled costs two indexed reads, not a count."""
        model.refresh()
        self.catch_up()
        with self.engine.connect() as conn:
            register_position = int(conn.execute(_tracking_query()).scalar_one())
        key = (question, tracked(model.engine)[0], register_position, clock.today())
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]  # type: ignore[no-any-return]
        found = answer()
        self._answers[key] = found
        while len(self._answers) > ANSWERS_KEPT:
            self._answers.popitem(last=False)
        return found


def _tracking_query() -> sa.Select[Any]:
    return sa.select(review_tracking.c.position).where(review_tracking.c.name == TRACKING_NAME)


def _apply(conn: Connection, event: Review.Registered | Review.Revised) -> None:
    t = review_versions
    review_id = str(event.originator_id)
    moment = micros(event.timestamp)
    key = event.key if isinstance(event, Review.Registered) else None
    if key is None:
        key = conn.execute(
            sa.select(t.c.key).where(t.c.review_id == review_id, t.c.recorded_to.is_(None))
        ).scalar_one()
    conn.execute(
        t.update()
        .where(t.c.review_id == review_id, t.c.recorded_to.is_(None))
        .values(recorded_to=moment)
    )
    conn.execute(
        t.insert().values(
            review_id=review_id,
            key=key,
            **ReviewDetails.read_from(event).as_fields()
            | {"themes": json.dumps(event.themes, sort_keys=True)},
            recorded_from=moment,
            recorded_to=None,
        )
    )


def _info(row: Any) -> ReviewInfo:
    return ReviewInfo(row.key, ReviewDetails.read_from(row, themes=json.loads(row.themes)), True)


# --- who reads what, and which recommendations a filter keeps ------------------------------

Scope = dict[str, set[int] | None]  # review -> the numbers kept (None: all of them)


def readable_scope(model: ReadModel, role: Role | None, owner: str | None) -> Scope | None:
    """For a key that does not read everything, the recommendations it reads in each
    review, as things stand (the rule is `rio.domain.access.may_read`); None: all."""
    if access.reads_all(role):
        return None
    return {key: set(numbers) for key, numbers in owners_readable(model, role, owner).items()}


def owners_readable(model: ReadModel, role: Role | None, owner: str | None) -> dict[str, set[int]]:
    """Each review's recommendations a key of `role` naming `owner` reads, now."""
    model.refresh()
    today = clock.today()
    recs, c = recommendation_versions, commitment_versions.c
    owners: dict[str, dict[int, list[str | None]]] = {}
    with model.engine.connect() as conn:
        for review, number, text in conn.execute(
            sa.select(recs.c.review, recs.c.number, recs.c.state).where(*visible(recs, today, None))
        ):
            accountable = codec.loads_recommendation(text).accountable_owner
            owners.setdefault(review, {}).setdefault(number, []).append(accountable)
        for review, number, commitment_owner in conn.execute(
            sa.select(c.review, c.number, c.owner).where(*visible(commitment_versions, today, None))
        ):
            owners.setdefault(review, {}).setdefault(number, []).append(commitment_owner)
    result = {key: access.readable_numbers(role, owner, by) for key, by in owners.items()}
    return {key: numbers for key, numbers in result.items() if numbers}


def intersect(first: Scope | None, second: Scope | None) -> Scope | None:
    if first is None:
        return second
    if second is None:
        return first
    result: Scope = {}
    for key in first.keys() & second.keys():
        a, b = first[key], second[key]
        result[key] = b if a is None else a if b is None else a & b
    return result


@dataclass(frozen=True)
class Filters:
    """What a portfolio question is narrowed to; each is optional."""

    owner: str | None = None
    kind: str | None = None
    theme: str | None = None
    review: str | None = None

    def scope(self, model: ReadModel, reviews: Mapping[str, ReviewInfo]) -> Scope | None:
        scope: Scope | None = None
        if self.review is not None:
            wanted = self.review.strip().casefold()
            scope = {k: None for k in reviews if k.casefold() == wanted}
        if self.kind is not None:
            scope = intersect(scope, {k: None for k, r in reviews.items() if r.kind == self.kind})
        if self.theme is not None:
            wanted = " ".join(self.theme.split()).casefold()
            themed: Scope = {}
            for key, info in reviews.items():
                numbers = {
                    int(n)
                    for n, theme in info.details.themes.items()
                    if " ".join(theme.split()).casefold() == wanted
                }
                if numbers:
                    themed[key] = numbers
            scope = intersect(scope, themed)
        if self.owner is not None:
            scope = intersect(scope, readable_scope(model, Role.OWNER, self.owner))
        return scope


# --- counts per review -------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewCounts:
    review: ReviewInfo
    recommendations: int
    ratings: dict[str, int]  # recommendations by rolled-up rating
    outcomes: dict[str, int] = field(default_factory=dict)  # commitments by the rule that fired

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.review.as_dict(),
            "recommendations": self.recommendations,
            "ratings": self.ratings,
            "outcomes": self.outcomes,
        }


def _ranks(policy: Policy) -> dict[str, int]:
    """Each rule's place in the roll-up (`ROLL_UP_RANK` of the rating it gives)."""
    return {
        name: ROLL_UP_RANK[rating]
        for name, rating in policy.ratings.items()
        if rating in ROLL_UP_RANK
    }


Counts = dict[str, dict[str, int]]  # review -> rating or rule -> how many


def _add(result: Counts, review: str, name: str, count: int) -> None:
    per = result.setdefault(review, {})
    per[name] = per.get(name, 0) + count


def counts(
    model: ReadModel,
    as_at: date,
    known_at: datetime | None,
    policy: Policy,
    scope: Scope | None,
    outcomes: bool = True,
) -> tuple[Counts, Counts]:
    """Recommendations by rolled-up rating, and commitments by the rule that rates them (on
    track, overdue, delivered late...; only if `outcomes`), per review (only those in
    `scope`).

    The rule is computed once per commitment row, in one scan of a covering index: the
    worst rank of each recommendation's commitments is counted per review and rank, the
    rules per review, in one statement; the recommendations with no commitment are the
    difference from a count of the recommendation rows (Not rated). Never a row per
    recommendation for a whole-review question."""
    recs, c = recommendation_versions, commitment_versions.c
    by_number = scope is not None and any(v is not None for v in scope.values())
    # The review's own stream (promises of the review as a whole) is not a recommendation.
    rec_where = [*visible(recs, as_at, known_at), recs.c.number != REVIEW_WIDE]
    where = visible(commitment_versions, as_at, known_at)
    if scope is not None and not by_number and len(scope) <= 500:
        rec_where.append(recs.c.review.in_(sorted(scope)))
        where.append(c.review.in_(sorted(scope)))
    rule = rule_expression(as_at, policy).label("rule")
    ranks = _ranks(policy)
    # Materialized: read by the range of days from the covering index, then grouped (left to
    # itself, SQLite groups by reading the rows whole in the order of the review's index).
    rated = sa.select(c.review, c.number, rule).where(*where).cte("rated")
    rated = rated.prefix_with("MATERIALIZED")
    ratings: Counts = {}
    by_rule: Counts = {}
    with model.engine.connect() as conn:
        if by_number:
            assert scope is not None
            worst: dict[tuple[str, int], int | None] = {}
            grouped = sa.select(rated.c.review, rated.c.number, rated.c.rule, sa.func.count())
            for review, number, name, count in conn.execute(
                grouped.group_by(rated.c.review, rated.c.number, rated.c.rule)
            ):
                kept = scope.get(review, set())
                if review not in scope or (kept is not None and number not in kept):
                    continue
                _add(by_rule, review, name, int(count))
                if number == REVIEW_WIDE:
                    continue
                rank, was = ranks.get(name), worst.get((review, number))
                if rank is None:  # Not rated: no rank, as roll_up leaves it out
                    worst.setdefault((review, number), None)
                else:
                    worst[review, number] = rank if was is None else max(was, rank)
            for review, number in conn.execute(
                sa.select(recs.c.review, recs.c.number).where(*rec_where)
            ):
                kept = scope.get(review, set())
                if review in scope and (kept is None or number in kept):
                    _add(ratings, review, _rating(worst.get((review, number))), 1)
            return ratings, by_rule if outcomes else {}
        rank_of = sa.case(ranks, value=rated.c.rule)
        worst_of = (
            sa.select(rated.c.review, sa.func.max(rank_of).label("rank"))
            .where(rated.c.number != REVIEW_WIDE)
            .group_by(rated.c.review, rated.c.number)
            .subquery()
        )
        parts: list[sa.Select[Any]] = [
            sa.select(
                sa.literal(True).label("is_rating"),
                worst_of.c.review,
                sa.cast(worst_of.c.rank, sa.String).label("name"),
                sa.func.count().label("n"),
            ).group_by(worst_of.c.review, worst_of.c.rank)
        ]
        if outcomes:
            parts.append(
                sa.select(
                    sa.literal(False), rated.c.review, rated.c.rule, sa.func.count()
                ).group_by(rated.c.review, rated.c.rule)
            )
        rated_count: dict[str, int] = {}
        for is_rating, review, name, count in conn.execute(sa.union_all(*parts)):
            if scope is not None and review not in scope:
                continue
            if not is_rating:
                _add(by_rule, review, name, int(count))
                continue
            _add(ratings, review, _rating(None if name is None else int(name)), int(count))
            rated_count[review] = rated_count.get(review, 0) + int(count)
        for review, count in conn.execute(
            sa.select(recs.c.review, sa.func.count()).where(*rec_where).group_by(recs.c.review)
        ):
            unrated = int(count) - rated_count.get(review, 0)
            if unrated and (scope is None or review in scope):
                _add(ratings, review, NOT_RATED, unrated)
    return ratings, by_rule


def _rating(rank: int | None) -> str:
    return NOT_RATED if rank is None else _RATING_OF_RANK[rank]


def index(
    model: ReadModel,
    register: ReviewRegister,
    as_at: date,
    known_at: datetime | None = None,
    *,
    policy: Policy = DEFAULT_POLICY,
    scope: Scope | None = None,
    outcomes: bool = False,
) -> list[ReviewCounts]:
    """Each review (in `scope`, if given) by title, with its recommendations counted by
    rating as at `as_at`, known at `known_at` (and its commitments by outcome)."""
    question = ("index", as_at, known_at, _policy_key(policy), _scope_key(scope), outcomes)
    return list(
        register.remember(
            model,
            question,
            lambda: _index(model, register, as_at, known_at, policy, scope, outcomes),
        )
    )


def _index(
    model: ReadModel,
    register: ReviewRegister,
    as_at: date,
    known_at: datetime | None,
    policy: Policy,
    scope: Scope | None,
    outcomes: bool,
) -> list[ReviewCounts]:
    register.ensure_index()
    ratings, by_rule = counts(model, as_at, known_at, policy, scope, outcomes)
    # Registered reviews, and those known only by their recommendations as at `as_at`.
    reviews = register.registered(known_at)
    for key in ratings.keys() - reviews.keys():
        reviews[key] = unregistered(key)
    result = []
    for key, info in sorted(reviews.items()):
        if scope is not None and key not in scope:
            continue
        per = ratings.get(key, {})
        result.append(
            ReviewCounts(
                review=info,
                recommendations=sum(per.values()),
                ratings={r: per[r] for r in RATING_ORDER if per.get(r)},
                outcomes=_in_rule_order(by_rule.get(key), policy),
            )
        )
    return sorted(result, key=lambda r: (r.review.title.casefold(), r.review.key))


def _in_rule_order(counted: dict[str, int] | None, policy: Policy) -> dict[str, int]:
    if not counted:
        return {}
    return {name: counted[name] for name in policy.ratings if counted.get(name)}


# --- across the portfolio ----------------------------------------------------------------


@dataclass(frozen=True)
class PromiseRow:
    """One commitment of the portfolio, with the review it belongs to."""

    review: str
    review_title: str
    number: int
    commitment: str
    owner: str | None
    due_text: str | None
    due_latest: date | None
    baseline_latest: date | None
    unexplained_slips: int
    days: int  # overdue by, or slipped by


@dataclass(frozen=True)
class Portfolio:
    as_at: date
    known_at: datetime | None
    filters: Filters
    reviews: tuple[ReviewCounts, ...]
    oldest_overdue: tuple[PromiseRow, ...]
    longest_unexplained_slips: tuple[PromiseRow, ...]

    @property
    def totals(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for r in self.reviews:
            for rating, count in r.ratings.items():
                total[rating] = total.get(rating, 0) + count
        return {r: total[r] for r in RATING_ORDER if total.get(r)}

    def as_dict(self) -> dict[str, Any]:
        """The portfolio as the CLI's --json and the API answer it."""
        return {
            "as_at": self.as_at,
            "known_at": self.known_at,
            "filters": self.filters,
            "totals": self.totals,
            "reviews": [r.as_dict() for r in self.reviews],
            "oldest_overdue": self.oldest_overdue,
            "longest_unexplained_slips": self.longest_unexplained_slips,
        }


def portfolio(
    model: ReadModel,
    register: ReviewRegister,
    as_at: date,
    known_at: datetime | None = None,
    *,
    policy: Policy = DEFAULT_POLICY,
    filters: Filters = Filters(),
    readable: Scope | None = None,
    limit: int = 10,
) -> Portfolio:
    """The portfolio as at `as_at`, known at `known_at`: counts per review, the oldest
    overdue promises and the longest unexplained slips, narrowed by `filters` and to what
    the reader may read (`readable`, from `readable_scope`)."""
    question = ("portfolio", as_at, known_at, _policy_key(policy), filters, _scope_key(readable))
    return register.remember(
        model,
        (*question, limit),
        lambda: _portfolio(model, register, as_at, known_at, policy, filters, readable, limit),
    )


def _portfolio(
    model: ReadModel,
    register: ReviewRegister,
    as_at: date,
    known_at: datetime | None,
    policy: Policy,
    filters: Filters,
    readable: Scope | None,
    limit: int,
) -> Portfolio:
    narrowed = filters != Filters()
    # Unregistered reviews matter to a filter (their kind is "review"); otherwise the
    # counts below name every review that has recommendations as at the date.
    reviews = register.reviews(model, known_at) if narrowed else register.registered(known_at)
    scope = intersect(filters.scope(model, reviews), readable)
    counts = index(model, register, as_at, known_at, policy=policy, scope=scope, outcomes=True)
    c = commitment_versions.c
    rule = rule_expression(as_at, policy)
    # Ordered by what the covering index holds, so only the rows listed are read whole.
    keys = sa.select(c.row_id, c.review, c.number).where(
        *visible(commitment_versions, as_at, known_at)
    )
    overdue = keys.where(rule.in_(OVERDUE_RULES)).order_by(
        c.due_latest, c.review, c.number, c.row_id
    )
    slip = _days_between(model.engine, c.due_latest, c.baseline_latest)
    slipped = keys.where(
        c.unexplained_slips > 0,
        c.delivered_on.is_(None),
        c.withdrawn_on.is_(None),
        slip > 0,
    ).order_by(slip.desc(), c.review, c.number, c.row_id)
    with model.engine.connect() as conn:
        late = _rows(conn, overdue, scope, reviews, limit, lambda r: (as_at - r.due_latest).days)
        drifted = _rows(
            conn,
            slipped,
            scope,
            reviews,
            limit,
            lambda r: slip_days(r.due_latest, r.baseline_latest),
        )
    return Portfolio(as_at, known_at, filters, tuple(counts), late, drifted)


def _policy_key(policy: Policy) -> Hashable:
    """Every field of the policy, so two that rate alike share answers and no others do."""
    return tuple(
        (f.name, tuple(sorted(v.items())) if isinstance(v, Mapping) else v)
        for f in fields(policy)
        for v in [getattr(policy, f.name)]
    )


def _scope_key(scope: Scope | None) -> Hashable:
    if scope is None:
        return None
    return frozenset(
        (key, None if numbers is None else frozenset(numbers)) for key, numbers in scope.items()
    )


def _days_between(engine: Engine, later: Any, earlier: Any) -> sa.ColumnElement[Any]:
    if engine.dialect.name == "sqlite":
        return sa.func.julianday(later) - sa.func.julianday(earlier)
    return later - earlier  # type: ignore[no-any-return]


def _rows(
    conn: Connection,
    query: sa.Select[Any],
    scope: Scope | None,
    reviews: Mapping[str, ReviewInfo],
    limit: int,
    days: Any,
) -> tuple[PromiseRow, ...]:
    """The first `limit` rows of `query` (row id, review, number) in `scope`, read whole."""
    c = commitment_versions.c
    by_number = scope is not None and any(v is not None for v in scope.values())
    if scope is not None and len(scope) <= 500:
        query = query.where(c.review.in_(sorted(scope)))
        if not by_number:
            query = query.limit(limit)
    elif scope is None:
        query = query.limit(limit)
    ids: list[int] = []
    for row_id, review, number in conn.execute(query.execution_options(yield_per=500)):
        if scope is not None:
            if review not in scope:
                continue
            kept = scope[review]
            if kept is not None and number not in kept:
                continue
        ids.append(row_id)
        if len(ids) >= limit:
            break
    if not ids:
        return ()
    whole = {
        row.row_id: row
        for row in conn.execute(
            # The row's columns are named by the promise's own fields.
            sa.select(c.row_id, *(c[f.name] for f in fields(PromiseRow) if f.name in c)).where(
                c.row_id.in_(ids)
            )
        )
    }
    result = []
    for row in (whole[i] for i in ids):
        info = reviews.get(row.review) or unregistered(row.review)
        result.append(
            PromiseRow(
                review=row.review,
                review_title=info.title,
                number=row.number,
                commitment=row.commitment,
                owner=row.owner,
                due_text=row.due_text,
                due_latest=row.due_latest,
                baseline_latest=row.baseline_latest,
                unexplained_slips=row.unexplained_slips,
                days=days(row),
            )
        )
    return tuple(result)
