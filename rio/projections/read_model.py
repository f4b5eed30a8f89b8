"""Bitemporal read models: the programme as at any date, as known at any moment, by indexed SQL.

Each recorded event recomputes its recommendation's valid-time timeline (one row per span
of days with the same state) and retires, from the event's recorded time, the rows it
changed. A row is therefore visible to the question (as_at, known_at) exactly when
valid_from <= as_at < valid_to and recorded_from <= known_at < recorded_to. The rows and
the tracking position commit in one transaction, so each event is applied exactly once.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
from uuid import UUID

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from rio.aggregates.history import effective
from rio.aggregates.recommendation import Recommendation
from rio.application import RIO
from rio.projections import codec
from rio.projections.replay import Commitment, Programme, RecommendationState, states
from rio.settings import get_settings

log = structlog.get_logger("rio.projections")

# Bump when what the tables mean changes: a read model with another definition is rebuilt.
DEFINITION_VERSION = "programme/1"
NAME = "programme"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

metadata = sa.MetaData()

tracking = sa.Table(
    "rio_rm_tracking",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("definition", sa.String(64), nullable=False),
)


def _bitemporal(name: str, *columns: sa.Column[Any]) -> sa.Table:
    table = sa.Table(
        name,
        metadata,
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rec_id", sa.String(36), nullable=False),
        *columns,
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),  # exclusive; NULL: still so
        sa.Column("recorded_from", sa.BigInteger, nullable=False),  # microseconds since 1970
        sa.Column("recorded_to", sa.BigInteger, nullable=True),  # exclusive; NULL: still known
        sa.Column("state", sa.Text, nullable=False),
    )
    sa.Index(f"{name}_open", table.c.rec_id, table.c.recorded_to)
    sa.Index(f"{name}_asat", table.c.valid_from, table.c.recorded_from)
    return table


recommendation_versions = _bitemporal(
    "rio_rm_recommendation_versions",
    sa.Column("review", sa.String(200), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
)

commitment_versions = _bitemporal(
    "rio_rm_commitment_versions",
    sa.Column("commitment", sa.String(200), nullable=False),
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("due_text", sa.String(200), nullable=True),
    sa.Column("due_latest", sa.Date, nullable=True),
    sa.Column("baseline_latest", sa.Date, nullable=True),
    sa.Column("delivered_on", sa.Date, nullable=True),
    sa.Column("withdrawn_on", sa.Date, nullable=True),
    sa.Column("unexplained_slips", sa.Integer, nullable=False),
)


def definition() -> str:
    """A fingerprint of the version and the table definitions: any change forces a rebuild."""
    text = DEFINITION_VERSION + "".join(
        f"{t.name}:{[(c.name, str(c.type), c.nullable) for c in t.columns]}"
        for t in metadata.sorted_tables
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def sqlalchemy_url(database_url: str) -> tuple[str, str | None]:
    """RIO's store URL as SQLAlchemy's, and the PostgreSQL schema it names (if any)."""
    parts = urlsplit(database_url)
    if parts.scheme.startswith("sqlite"):
        return database_url, None
    schema = parse_qs(parts.query).get("schema", [None])[0]
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, "", "")), schema


def make_engine(database_url: str) -> Engine:
    url, schema = sqlalchemy_url(database_url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below

        @sa.event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            # Take the write lock at the start, so two projectors serialise instead of racing.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = sa.create_engine(url, pool_pre_ping=True)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int
    definition_current: bool

    @property
    def lag(self) -> int:
        return self.head - self.position


@dataclass(frozen=True)
class _Span:
    valid_from: date
    valid_to: date | None
    state: str
    columns: tuple[tuple[str, Any], ...] = ()


class ReadModel:
    """The programme read model of one store: follow the log, answer as-at questions."""

    CACHE = 5000

    def __init__(self, app: RIO, engine: Engine | None = None, page: int | None = None) -> None:
        self.app = app
        self.engine = engine or make_engine(app.database_url)
        self.page = page or get_settings().projection_page
        self._histories: OrderedDict[UUID, list[Recommendation.Event]] = OrderedDict()
        self._ready = False

    # --- lifecycle -------------------------------------------------------------------------

    def ensure_tables(self) -> None:
        """Create the tables; rebuild them if their definition changed since they were made."""
        if self._ready:
            return
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(tracking).where(tracking.c.name == NAME)).first()
            if row is None:
                conn.execute(
                    tracking.insert().values(name=NAME, position=0, definition=definition())
                )
        if row is not None and row.definition != definition():
            log.warning("read_model_definition_changed", was=row.definition, now=definition())
            self._drop_and_create()
        self._ready = True

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop the tables and apply the whole log again; returns the number of events applied."""
        self._drop_and_create()
        self._ready = True
        return self.catch_up(progress)

    def _drop_and_create(self) -> None:
        metadata.drop_all(self.engine)
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            conn.execute(tracking.insert().values(name=NAME, position=0, definition=definition()))
        self._histories.clear()

    def status(self) -> Status:
        self.ensure_tables()
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(tracking).where(tracking.c.name == NAME)).one()
        return Status(NAME, row.position, self.app.position(), row.definition == definition())

    # --- following the log -----------------------------------------------------------------

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event recorded since the tracked position, a page per transaction."""
        self.ensure_tables()
        applied = 0
        while True:
            with self.engine.begin() as conn:
                position = self._position(conn)
                page = self.app.recorder.select_notifications(start=position + 1, limit=self.page)
                if not page:
                    return applied
                for notification in page:
                    event = self.app.mapper.to_domain_event(notification)
                    if isinstance(event, Recommendation.Event):
                        self._apply(conn, event)
                conn.execute(
                    tracking.update().where(tracking.c.name == NAME).values(position=page[-1].id)
                )
            applied += len(page)
            if progress is not None:
                progress(len(page))

    def _position(self, conn: Connection) -> int:
        query = sa.select(tracking.c.position).where(tracking.c.name == NAME)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return int(conn.execute(query).scalar_one())

    def _apply(self, conn: Connection, event: Recommendation.Event) -> None:
        history = self._history(event)
        spans, commitment_spans = timeline(effective(history))
        recorded = micros(event.timestamp)
        rec_id = str(event.originator_id)
        first = history[0]
        assert isinstance(first, Recommendation.Registered)
        identity = {"review": first.review, "number": first.number}
        _replace_open_rows(conn, recommendation_versions, rec_id, spans, recorded, identity)
        _replace_open_rows(conn, commitment_versions, rec_id, commitment_spans, recorded, {})

    def _history(self, event: Recommendation.Event) -> list[Recommendation.Event]:
        """The recommendation's events up to this one, from a small cache or the store."""
        history = self._histories.pop(event.originator_id, [])
        if len(history) >= event.originator_version:
            history = history[: event.originator_version - 1]
        if len(history) < event.originator_version - 1:
            stored = self.app.recorder.select_events(
                event.originator_id, gt=len(history), lte=event.originator_version - 1
            )
            history = history + [self.app.mapper.to_domain_event(s) for s in stored]  # type: ignore[misc]
        history = [*history, event]
        self._histories[event.originator_id] = history
        if len(self._histories) > self.CACHE:
            self._histories.popitem(last=False)
        return history

    # --- questions -------------------------------------------------------------------------

    def programme(self, as_at: date, known_at: datetime | None = None) -> Programme:
        """Exactly what `replay(events, as_at, known_at)` gives, from the read model."""
        self.catch_up()
        table = recommendation_versions
        query = (
            sa.select(table.c.state)
            .where(*_visible(table, as_at, known_at))
            .order_by(table.c.review, table.c.number)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).scalars().all()
        return Programme(
            as_at=as_at,
            known_at=known_at,
            recommendations=tuple(codec.loads_recommendation(text) for text in rows),
        )

    def commitments(self, as_at: date, known_at: datetime | None = None) -> list[Commitment]:
        self.catch_up()
        table = commitment_versions
        query = sa.select(table.c.state).where(*_visible(table, as_at, known_at))
        with self.engine.connect() as conn:
            return [codec.loads_commitment(text) for text in conn.execute(query).scalars()]

    def reviews(self) -> list[str]:
        """The reviews with a recommendation on record now."""
        self.catch_up()
        table = recommendation_versions
        query = sa.select(table.c.review).where(table.c.recorded_to.is_(None)).distinct()
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def close(self) -> None:
        self.engine.dispose()


def _visible(table: sa.Table, as_at: date, known_at: datetime | None) -> list[Any]:
    conditions = [
        table.c.valid_from <= as_at,
        sa.or_(table.c.valid_to.is_(None), table.c.valid_to > as_at),
    ]
    if known_at is None:
        conditions.append(table.c.recorded_to.is_(None))
    else:
        k = micros(known_at)
        conditions += [
            table.c.recorded_from <= k,
            sa.or_(table.c.recorded_to.is_(None), table.c.recorded_to > k),
        ]
    return conditions


def timeline(facts: Sequence[Recommendation.Event]) -> tuple[list[_Span], list[_Span]]:
    """Valid-time spans of the recommendation's state, and of each commitment's (merged)."""
    days = list(states(facts))
    spans = []
    commitments: dict[str, list[_Span]] = {}
    for index, (day, state) in enumerate(days):
        until = days[index + 1][0] if index + 1 < len(days) else None
        spans.append(_Span(day, until, codec.dumps(state)))
        for commitment in state.commitments:
            _extend(
                commitments.setdefault(commitment.commitment, []), day, until, commitment, state
            )
    return spans, [span for runs in commitments.values() for span in runs]


def _extend(
    runs: list[_Span], day: date, until: date | None, c: Commitment, rec: RecommendationState
) -> None:
    text = codec.dumps(c)
    if runs and runs[-1].state == text and runs[-1].valid_to == day:
        last = runs.pop()
        runs.append(_Span(last.valid_from, until, text, last.columns))
        return
    columns = (
        ("commitment", c.commitment),
        ("owner", rec.owner_of(c)),
        ("due_text", c.due.text if c.due else None),
        ("due_latest", c.due.latest if c.due else None),
        ("baseline_latest", c.baseline.latest if c.baseline else None),
        ("delivered_on", c.delivered.occurred if c.delivered else None),
        ("withdrawn_on", c.withdrawn.occurred if c.withdrawn else None),
        ("unexplained_slips", sum(1 for r in c.revisions if r.unexplained)),
    )
    runs.append(_Span(day, until, text, columns))


def _replace_open_rows(
    conn: Connection,
    table: sa.Table,
    rec_id: str,
    spans: Iterable[_Span],
    recorded: int,
    identity: dict[str, Any],
) -> None:
    """Retire the open rows that no longer hold and open the new ones, both from `recorded`."""
    open_rows = conn.execute(
        sa.select(table.c.row_id, table.c.valid_from, table.c.valid_to, table.c.state).where(
            table.c.rec_id == rec_id, table.c.recorded_to.is_(None)
        )
    ).all()
    current = {(r.valid_from, r.valid_to, r.state): r.row_id for r in open_rows}
    wanted = {(s.valid_from, s.valid_to, s.state): s for s in spans}
    retired = [row_id for key, row_id in current.items() if key not in wanted]
    if retired:
        conn.execute(table.update().where(table.c.row_id.in_(retired)).values(recorded_to=recorded))
    new = [
        {
            "rec_id": rec_id,
            **identity,
            **dict(span.columns),
            "valid_from": span.valid_from,
            "valid_to": span.valid_to,
            "recorded_from": recorded,
            "recorded_to": None,
            "state": span.state,
        }
        for key, span in wanted.items()
        if key not in current
    ]
    if new:
        conn.execute(table.insert(), new)
