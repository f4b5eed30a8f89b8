"""Bitemporal read models: the programme as at any date, as known at any moment, by indexed SQL.

Each recorded event recomputes its recommendation's valid-time timeline (one row per span
of days with the same state) and retires, from the event's recorded time, the rows it
changed. A row is therefore visible to the question (as_at, known_at) exactly when
valid_from <= as_at < valid_to and recorded_from <= known_at < recorded_to. The rows and
the tracking position commit in one transaction, so each event is applied exactly once.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import multiprocessing
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
from uuid import UUID

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from rio.domain.history import effective, valid_order
from rio.domain.replay import Commitment, Fold, Programme, replace
from rio.persistence.locks import store_lock
from rio.projections import codec
from rio.settings import get_settings

log = structlog.get_logger("rio.projections")

# Bump when what the tables mean changes: a read model with another definition is rebuilt.
DEFINITION_VERSION = "programme/6"
NAME = "programme"
REBUILDING = "rebuilding:"  # prefixes the definition in the tracking row during a rebuild
BULK_ROWS = 20_000  # rows a rebuild writes per transaction
PARALLEL_FROM = 50_000  # events from which a rebuild is split across processes
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
LAST = 2**62  # sorts after any phase or version in a valid-order key

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
    sa.Column("review", sa.String(200), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("commitment", sa.String(200), nullable=False),
    sa.Column("ordinal", sa.Integer, nullable=False),  # its place in the recommendation
    sa.Column("owner", sa.String(200), nullable=True),  # its own owner, else the accountable one
    sa.Column("due_text", sa.String(200), nullable=True),
    sa.Column("due_latest", sa.Date, nullable=True),
    sa.Column("baseline_latest", sa.Date, nullable=True),
    sa.Column("delivered_on", sa.Date, nullable=True),
    sa.Column("withdrawn_on", sa.Date, nullable=True),
    sa.Column("unexplained_slips", sa.Integer, nullable=False),
    sa.Column("last_update", sa.Date, nullable=False),
)
sa.Index("rio_rm_commitment_versions_owner", commitment_versions.c.owner)
# Portfolio questions about what is known now read only this index, never the wide rows.
_NOW_COLUMNS = ("valid_from", "valid_to", "withdrawn_on", "delivered_on", "baseline_latest")
sa.Index(
    "rio_rm_commitment_versions_now",
    *(commitment_versions.c[name] for name in _NOW_COLUMNS),
    commitment_versions.c.due_latest,
    commitment_versions.c.last_update,
    sqlite_where=commitment_versions.c.recorded_to.is_(None),
    postgresql_where=commitment_versions.c.recorded_to.is_(None),
)
sa.Index(
    "rio_rm_commitment_versions_review", commitment_versions.c.review, commitment_versions.c.number
)
sa.Index(
    "rio_rm_recommendation_versions_review",
    recommendation_versions.c.review,
    recommendation_versions.c.number,
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
        def _begin(connection: Connection) -> None:
            # A writer takes the lock at the start, so two projectors serialise instead of
            # racing; readers never wait for it.
            writing = connection.get_execution_options().get("rio_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

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
    ordinal: int | None = None
    owner: str | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.valid_from, self.valid_to, self.state, self.ordinal, self.owner)


class ReadModel:
    """The programme read model of one store: follow the log, answer as-at questions."""

    CACHE = 1000  # recommendations whose timelines stay in memory between events

    def __init__(
        self,
        app: RIO,
        engine: Engine | None = None,
        page: int | None = None,
        workers: int | None = None,
    ) -> None:
        self.app = app
        self.workers = workers or get_settings().rebuild_workers  # 0: see _default_workers
        self.engine = engine or make_engine(app.database_url)
        self._writer = self.engine.execution_options(rio_write=True)
        self.page = page or get_settings().projection_page
        self._timelines: OrderedDict[UUID, _Timeline] = OrderedDict()
        self._ready = False

    # --- lifecycle -------------------------------------------------------------------------

    def ensure_tables(self) -> None:
        """Create the tables; rebuild them if their definition changed since they were made
        (or a rebuild was cut off): a read model is rebuilt from the log, never migrated."""
        if self._ready:
            return
        metadata.create_all(self._writer)
        with self._writer.begin() as conn:
            row = conn.execute(sa.select(tracking).where(tracking.c.name == NAME)).first()
            if row is None:
                conn.execute(
                    tracking.insert().values(name=NAME, position=0, definition=definition())
                )
        self._ready = True
        if row is not None and row.definition != definition():
            log.warning("read_model_definition_changed", was=row.definition, now=definition())
            self._rebuild(only_if_stale=True)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop the tables and build them again from the whole log; returns the number of
        events the tables now reflect that they did not before (the whole log)."""
        self._ready = True
        return self._rebuild(progress)

    def _rebuild(
        self, progress: Callable[[int], None] | None = None, only_if_stale: bool = False
    ) -> int:
        """One process at a time: a second waits, then finds the tables current or rebuilds.

        The log up to its head is read once, a recommendation at a time, and every version of
        each row is inserted with its final recorded times; the tracking row says "rebuilding"
        until the last chunk commits, so followers wait instead of applying events twice, and
        a rebuild cut off part-way is started again by the next process to open the tables.
        """
        lock = store_lock(self.app.database_url, "read-model-rebuild")
        while not lock.acquire():
            log.info("read_model_rebuild_waiting")
            time.sleep(0.5)
        try:
            if only_if_stale and self._tracked()[1] == definition():
                return 0
            started = time.perf_counter()
            self._drop_and_create(REBUILDING + definition())
            head = self.app.position()
            applied = self._bulk(head, progress)
            log.info(
                "read_model_rebuilt",
                events=head,
                recommendation_events=applied,
                seconds=round(time.perf_counter() - started, 3),
            )
        finally:
            lock.release()
        return head + self.catch_up(progress)

    def _bulk(self, head: int, progress: Callable[[int], None] | None) -> int:
        """Apply events 1..head to empty tables, one recommendation's history at a time,
        split by recommendation id across worker processes when the log is large."""
        indexes = [i for t in (recommendation_versions, commitment_versions) for i in t.indexes]
        with self._writer.begin() as conn:  # indexes are built once at the end, not row by row
            for index in indexes:
                index.drop(conn)
        workers = self.workers or self._default_workers(head)
        if workers == 1:
            applied = self.bulk_range(head, None, None, progress)
        else:
            bounds = [UUID(int=i * 2**128 // workers) for i in range(1, workers)]
            ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                futures = [
                    pool.submit(_bulk_range, self.app.database_url, head, low, high)
                    for low, high in ranges
                ]
                applied = 0
                for future in as_completed(futures):
                    done = future.result()
                    applied += done
                    if progress is not None:
                        progress(done)
        with self._writer.begin() as conn:
            self._check_rebuilding(conn)
            for index in indexes:
                index.create(conn)
            conn.execute(
                tracking.update()
                .where(tracking.c.name == NAME)
                .values(position=head, definition=definition())
            )
        if self.engine.dialect.name == "postgresql":
            # Freshly copied rows have no statistics and no visibility map: without this the
            # portfolio counts read the table instead of the covering index (4x slower).
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in (recommendation_versions, commitment_versions):
                    conn.exec_driver_sql(f"VACUUM ANALYZE {qualified(conn, table)}")
        if progress is not None:
            progress(head - applied)
        return applied

    def _default_workers(self, head: int) -> int:
        """PostgreSQL takes writers in parallel; SQLite's one writer made two workers slower
        than one (bench/RESULTS.md), so it rebuilds in one process."""
        if head < PARALLEL_FROM or self.engine.dialect.name != "postgresql":
            return 1
        if multiprocessing.current_process().daemon:  # may not start processes of its own
            return 1
        return min(os.cpu_count() or 1, 4)

    def bulk_range(
        self,
        head: int,
        low: UUID | None,
        high: UUID | None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Rows for the recommendations with low <= id < high, in chunks of BULK_ROWS."""
        writer, applied, pending = _PageWriter(), 0, 0
        for history in self.app.histories(head, low, high):
            line = _Timeline([])
            for event in history:
                line.add(event)
                self._write(writer, line, event)
            applied += len(history)
            pending += len(history)
            if writer.rows >= BULK_ROWS:
                self._flush_rebuilt(writer)
                writer = _PageWriter()
                if progress is not None:
                    progress(pending)
                pending = 0
        self._flush_rebuilt(writer)
        if progress is not None:
            progress(pending)
        return applied

    def _flush_rebuilt(self, writer: _PageWriter) -> None:
        with self._writer.begin() as conn:
            self._check_rebuilding(conn)
            writer.flush(conn)

    def _check_rebuilding(self, conn: Connection) -> None:
        if self._tracked(conn)[1] != REBUILDING + definition():
            raise RuntimeError("the read model was reset by another process during this rebuild")

    def _drop_and_create(self, marker: str) -> None:
        metadata.drop_all(self._writer)
        metadata.create_all(self._writer)
        with self._writer.begin() as conn:
            conn.execute(tracking.insert().values(name=NAME, position=0, definition=marker))
        self._timelines.clear()

    def status(self) -> Status:
        self.ensure_tables()
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(tracking).where(tracking.c.name == NAME)).one()
        return Status(NAME, row.position, self.app.position(), row.definition == definition())

    # --- following the log -----------------------------------------------------------------

    def catch_up(
        self, progress: Callable[[int], None] | None = None, pages: int | None = None
    ) -> int:
        """Apply every event recorded since the tracked position (or at most `pages` pages),
        a page per transaction."""
        self.ensure_tables()
        applied = 0
        while pages is None or pages > 0:
            # Everything is read and worked out before the write lock is taken: on SQLite,
            # reading the event store while holding it could deadlock with writers waiting
            # for it, and commands wait for nothing longer than the rows being written.
            position, current = self._tracked()
            if current != definition():
                # Another process is rebuilding (or was cut off doing so): wait for it, or
                # rebuild here, rather than apply events to tables it is filling.
                return applied + self._rebuild(progress, only_if_stale=True)
            page = self.app.recorder.select_notifications(start=position + 1, limit=self.page)
            if not page:
                return applied
            decoded = [self.app.mapper.to_domain_event(n) for n in page]
            events = [e for e in decoded if isinstance(e, Recommendation.Event)]
            self._prefetch(events)
            try:
                writer = self._prepare(events)
                with self._writer.begin() as conn:
                    if self._tracked(conn) != (position, definition()):
                        # Another projector applied this page first, or a rebuild began: the
                        # open rows read above may be stale, and so are the timelines.
                        self._timelines.clear()
                        continue
                    writer.flush(conn)
                    conn.execute(
                        tracking.update()
                        .where(tracking.c.name == NAME)
                        .values(position=page[-1].id)
                    )
            except BaseException:
                self._timelines.clear()  # they may be ahead of what was committed
                raise
            applied += len(page)
            if pages is not None:
                pages -= 1
            if progress is not None:
                progress(len(page))
        return applied

    def _prefetch(self, events: list[Recommendation.Event]) -> None:
        """Load the histories this page needs that the cache lacks, outside any transaction."""
        firsts: dict[UUID, int] = {}
        for event in events:
            firsts.setdefault(event.originator_id, event.originator_version)
        for rec_id, version in firsts.items():
            line = self._timelines.get(rec_id)
            if line is None or line.version != version - 1:
                stored = self.app.recorder.select_events(rec_id, lte=version - 1)
                history = [self.app.mapper.to_domain_event(s) for s in stored]
                self._timelines[rec_id] = _Timeline(history)  # type: ignore[arg-type]

    def follow(self, stopped: Callable[[], bool], interval: float = 1.0) -> None:
        """Keep caught up until `stopped()`: LISTEN/NOTIFY on PostgreSQL, polling on SQLite."""
        self.catch_up()
        if self.engine.dialect.name != "postgresql":
            while not stopped():
                time.sleep(interval)
                self.catch_up()
            return
        with self.app.recorder.subscribe(gt=self.status().position) as subscription:
            for notification in subscription:
                if notification.id > self.status().position:
                    applied = self.catch_up()
                    log.info("read_model_followed", applied=applied, position=notification.id)
                if stopped():
                    return

    def _tracked(self, conn: Connection | None = None) -> tuple[int, str]:
        """(position, definition) from the tracking row; locked when read in a write."""
        query = sa.select(tracking.c.position, tracking.c.definition).where(tracking.c.name == NAME)
        if conn is None:
            with self.engine.connect() as reading:
                row = reading.execute(query).one()
        else:
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).one()
        return int(row.position), str(row.definition)

    def _prepare(self, events: list[Recommendation.Event]) -> _PageWriter:
        """The page's row changes, against the open rows as of the position just read (only
        a projector that moves the position changes them; the caller re-checks it)."""
        writer = _PageWriter()
        with self.engine.connect() as conn:
            writer.load(conn, {str(e.originator_id) for e in events})
        for event in events:
            self._write(writer, self._timeline(event), event)
        return writer

    @staticmethod
    def _write(writer: _PageWriter, line: _Timeline, event: Recommendation.Event) -> None:
        recorded = micros(event.timestamp)
        rec_id = str(event.originator_id)
        writer.replace(recommendation_versions, rec_id, line.recommendation_spans(), recorded)
        writer.replace(commitment_versions, rec_id, line.commitment_spans(), recorded)

    def _timeline(self, event: Recommendation.Event) -> _Timeline:
        """The recommendation's timeline with this event added, from the cache or the store."""
        line = self._timelines.pop(event.originator_id, None)
        if line is None or line.version != event.originator_version - 1:
            stored = self.app.recorder.select_events(
                event.originator_id, lte=event.originator_version - 1
            )
            history = [self.app.mapper.to_domain_event(s) for s in stored]
            line = _Timeline(history)  # type: ignore[arg-type]
        line.add(event)
        self._timelines[event.originator_id] = line
        if len(self._timelines) > self.CACHE:
            self._timelines.popitem(last=False)
        return line

    # --- questions -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Catch up before answering, so a reader sees its own writes; cheap when current."""
        if self.status().lag > 0:
            self.catch_up()

    def programme(
        self, as_at: date, known_at: datetime | None = None, only: UUID | None = None
    ) -> Programme:
        """Exactly what `replay(events, as_at, known_at)` gives, from the read model.

        `only` restricts the answer to one recommendation (an indexed lookup).
        """
        self.refresh()
        recs, commits = recommendation_versions, commitment_versions
        rec_filter = [] if only is None else [recs.c.rec_id == str(only)]
        commitment_filter = [] if only is None else [commits.c.rec_id == str(only)]
        rec_query = (
            sa.select(recs.c.rec_id, recs.c.state)
            .where(*visible(recs, as_at, known_at), *rec_filter)
            .order_by(recs.c.review, recs.c.number)
        )
        commitment_query = (
            sa.select(commits.c.rec_id, commits.c.state)
            .where(*visible(commits, as_at, known_at), *commitment_filter)
            .order_by(commits.c.rec_id, commits.c.ordinal)
        )
        with self.engine.connect() as conn:
            rec_rows = conn.execute(rec_query).all()
            by_rec: dict[str, list[Commitment]] = {}
            for rec_id, text in conn.execute(commitment_query):
                by_rec.setdefault(rec_id, []).append(codec.loads_commitment(text))
        return Programme(
            as_at=as_at,
            known_at=known_at,
            recommendations=tuple(
                replace(codec.loads_recommendation(text), commitments=tuple(by_rec.get(rec_id, ())))
                for rec_id, text in rec_rows
            ),
        )

    def commitments(self, as_at: date, known_at: datetime | None = None) -> list[Commitment]:
        self.refresh()
        table = commitment_versions
        query = sa.select(table.c.state).where(*visible(table, as_at, known_at))
        with self.engine.connect() as conn:
            return [codec.loads_commitment(text) for text in conn.execute(query).scalars()]

    def reviews(self) -> list[str]:
        """The reviews with a recommendation on record now."""
        self.refresh()
        table = recommendation_versions
        query = sa.select(table.c.review).where(table.c.recorded_to.is_(None)).distinct()
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def close(self) -> None:
        self.engine.dispose()


def _bulk_range(database_url: str, head: int, low: UUID | None, high: UUID | None) -> int:
    """One rebuild worker: its own store connections, its share of the recommendations."""
    model = ReadModel(RIO(database_url), workers=1)
    try:
        return model.bulk_range(head, low, high)
    finally:
        model.close()
        model.app.close()


def visible(table: sa.Table, as_at: date, known_at: datetime | None) -> list[Any]:
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


class _Timeline:
    """One recommendation's valid-time timeline, kept between events so following is cheap.

    A new fact refolds only from the first day it can change, resuming from the fold as it
    stood at the end of the day before; a correction (which can move any fact) refolds all.
    """

    def __init__(self, history: list[Recommendation.Event]) -> None:
        self.history = history
        self.version = len(history)
        self._encoded: dict[int, tuple[Commitment, str]] = {}
        self._columns: dict[str, tuple[tuple[str, Any], ...]] = {}
        self.facts: list[Recommendation.Event] = []
        self.keys: list[tuple[date, int, int]] = []
        self.days: list[tuple[date, str, tuple[_DayCommitment, ...]]] = []
        self.dates: list[date] = []  # each day's date, for bisecting
        self.folds: list[Fold] = []  # the fold at the end of each day
        self._refold_from(0, effective(self.history))

    @property
    def fold(self) -> Fold:
        return self.folds[-1] if self.folds else Fold()

    def add(self, event: Recommendation.Event) -> None:
        self.history.append(event)
        self.version = event.originator_version
        if isinstance(event, Recommendation.EventCorrected):
            self._refold_from(0, effective(self.history))
            return
        key = valid_order(event)
        at = bisect.bisect_left(self.keys, key)
        self.facts.insert(at, event)
        self.keys.insert(at, key)
        self._refold_from(bisect.bisect_left(self.dates, event.occurred))

    def _refold_from(self, first_day: int, facts: list[Recommendation.Event] | None = None) -> None:
        """Keep days before `first_day`; fold the facts of the rest (or all of `facts`) again."""
        if facts is not None:
            self.facts = facts
            self.keys = [valid_order(f) for f in facts]
        del self.days[first_day:]
        del self.folds[first_day:]
        del self.dates[first_day:]
        folding = self.folds[-1].copy() if self.folds else Fold()
        start = bisect.bisect_right(self.keys, (self.dates[-1], LAST, LAST)) if self.dates else 0
        open_day = False  # whether `folding` holds a day not yet in self.days
        for fact in itertools.islice(self.facts, start, None):
            if open_day and fact.occurred != folding.day:
                self._keep(folding.copy())
            folding.apply(fact)
            open_day = True
        if open_day:
            self._keep(folding)

    def _keep(self, fold: Fold) -> None:
        """Close the day `fold` ends: its rows' encoded state, its date and the fold itself."""
        day = self._day(fold)
        self.days.append(day)
        self.dates.append(day[0])
        self.folds.append(fold)

    def _day(self, fold: Fold) -> tuple[date, str, tuple[_DayCommitment, ...]]:
        state = fold.snapshot()
        assert fold.day is not None
        commitments = tuple(
            (c.commitment, ordinal, self._encode(c), state.owner_of(c))
            for ordinal, c in enumerate(state.commitments)
        )
        return fold.day, codec.dumps(replace(state, commitments=())), commitments

    def _encode(self, c: Commitment) -> str:
        cached = self._encoded.get(id(c))
        if cached is not None and cached[0] is c:
            return cached[1]
        text = codec.dumps(c)
        self._encoded[id(c)] = (c, text)
        self._columns[text] = _commitment_columns(c)
        return text

    def recommendation_spans(self) -> list[_Span]:
        state = self.fold.state
        identity = () if state is None else (("review", state.review), ("number", state.number))
        return [
            _Span(day, self._until(i), text, identity) for i, (day, text, _) in enumerate(self.days)
        ]

    def commitment_spans(self) -> list[_Span]:
        state = self.fold.state
        assert state is not None
        identity = (("review", state.review), ("number", state.number))
        runs: dict[str, _Span] = {}
        spans: list[_Span] = []
        for i, (day, _, commitments) in enumerate(self.days):
            until = self._until(i)
            for name, ordinal, text, owner in commitments:
                run = runs.get(name)
                if (
                    run is not None
                    and (run.ordinal, run.state, run.owner) == (ordinal, text, owner)
                    and run.valid_to == day
                ):
                    runs[name] = _Span(run.valid_from, until, text, run.columns, ordinal, owner)
                    continue
                if run is not None:
                    spans.append(run)
                columns = (
                    *identity,
                    ("commitment", name),
                    ("ordinal", ordinal),
                    ("owner", owner),
                    *self._columns[text],
                )
                runs[name] = _Span(day, until, text, columns, ordinal, owner)
        return spans + list(runs.values())

    def _until(self, index: int) -> date | None:
        return self.days[index + 1][0] if index + 1 < len(self.days) else None


_DayCommitment = tuple[str, int, str, str | None]  # name, ordinal, encoded state, owner


def _commitment_columns(c: Commitment) -> tuple[tuple[str, Any], ...]:
    """Columns for SQL questions across the portfolio (owners' alerts, overdue counts)."""
    return (
        ("last_update", c.last_update or c.made_on),
        ("due_text", c.due.text if c.due else None),
        ("due_latest", c.due.latest if c.due else None),
        ("baseline_latest", c.baseline.latest if c.baseline else None),
        ("delivered_on", c.delivered.occurred if c.delivered else None),
        ("withdrawn_on", c.withdrawn.occurred if c.withdrawn else None),
        ("unexplained_slips", sum(1 for r in c.revisions if r.unexplained)),
    )


class _PageWriter:
    """Applies a page of events' row changes in memory, then writes them in a few statements."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str], dict[tuple[Any, ...], int | dict[str, Any]]] = {}
        self.retire: dict[str, list[dict[str, int]]] = {}
        self.insert: dict[str, list[dict[str, Any]]] = {}
        self.rows = 0

    def load(self, conn: Connection, rec_ids: set[str]) -> None:
        """Start from the rows of these recommendations that are open (still known)."""
        for table in (recommendation_versions, commitment_versions):
            for rec_id in rec_ids:
                self.open[(table.name, rec_id)] = {}
            ids = sorted(rec_ids)
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                commitment = "ordinal" in table.c
                ordinal = table.c.ordinal if commitment else sa.null()
                owner = table.c.owner if commitment else sa.null()
                query = sa.select(
                    table.c.row_id,
                    table.c.rec_id,
                    table.c.valid_from,
                    table.c.valid_to,
                    table.c.state,
                    ordinal.label("ordinal"),
                    owner.label("owner"),
                ).where(table.c.rec_id.in_(chunk), table.c.recorded_to.is_(None))
                for row in conn.execute(query):
                    key = (row.valid_from, row.valid_to, row.state, row.ordinal, row.owner)
                    self.open[(table.name, row.rec_id)][key] = row.row_id

    def replace(self, table: sa.Table, rec_id: str, spans: list[_Span], recorded: int) -> None:
        """Retire the open rows that no longer hold and open the new ones, from `recorded`."""
        current = self.open.setdefault((table.name, rec_id), {})
        wanted = {s.key: s for s in spans}
        for key in [k for k in current if k not in wanted]:
            row = current.pop(key)
            if isinstance(row, dict):
                row["recorded_to"] = recorded  # opened earlier in this page
            else:
                self.retire.setdefault(table.name, []).append({"rid": row, "rto": recorded})
        for key, span in wanted.items():
            if key in current:
                continue
            row = {
                "rec_id": rec_id,
                **dict(span.columns),
                "valid_from": span.valid_from,
                "valid_to": span.valid_to,
                "recorded_from": recorded,
                "recorded_to": None,
                "state": span.state,
            }
            current[key] = row
            self.insert.setdefault(table.name, []).append(row)
            self.rows += 1

    def flush(self, conn: Connection) -> None:
        for table in (recommendation_versions, commitment_versions):
            retired = self.retire.get(table.name)
            if retired:
                conn.execute(
                    table.update()
                    .where(table.c.row_id == sa.bindparam("rid"))
                    .values(recorded_to=sa.bindparam("rto")),
                    retired,
                )
            new = self.insert.get(table.name)
            if new:
                insert_rows(conn, table, new)


def qualified(conn: Connection, table: sa.Table) -> str:
    """The table's name as raw SQL needs it: in the store's PostgreSQL schema, if it has one."""
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    return f'"{schema}".{table.name}' if schema else table.name


def insert_rows(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Many rows at once through the driver: COPY on PostgreSQL, executemany on SQLite.

    SQLAlchemy's per-row parameter processing cost more than SQLite's own insert did.
    """
    columns = [c.name for c in table.columns if c.name != "row_id"]
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        target = qualified(conn, table)
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    dates = {c.name for c in table.columns if isinstance(c.type, sa.Date)}
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})",
        [
            tuple(
                row[c].isoformat() if c in dates and row[c] is not None else row[c] for c in columns
            )
            for row in rows
        ],
    )
