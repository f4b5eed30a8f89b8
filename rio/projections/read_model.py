"""Bitemporal read models: the programme as at any date, as known at any moment, by indexed SQL.

Each recorded event recomputes its recommendation's valid-time timeline from the first day
it can change (one row per run of days with the same bounded state, `timeline`; the notes,
revisions and other append-only facts in rows of their own, `parts`) and retires, from the
event's recorded time, the rows it changed (`rows`). A row is therefore visible to the
question (as_at, known_at) exactly when valid_from <= as_at < valid_to and
recorded_from <= known_at < recorded_to (`tables`). The rows and the tracking position
commit in one transaction (`projector`), so each event is applied exactly once; a rebuild
fills the tables from the whole log (`rebuild`); `queries` answers from them. `ReadModel`
is the one door to all of it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa
import structlog
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier
from sqlalchemy.engine import Engine

from rio.application.service import RIO
from rio.domain.state import Commitment, Programme
from rio.projections import queries
from rio.projections.engine import make_engine, sqlalchemy_url
from rio.projections.projector import Projector
from rio.projections.rebuild import Rebuild
from rio.projections.tables import (
    BITEMPORAL,
    DEFINITION_VERSION,
    NAME,
    REBUILDING,
    Status,
    commitment_versions,
    days,
    definition,
    facts,
    metadata,
    recommendation_versions,
    tracking,
    visible,
)

# What callers import from here; each lives in the module named above.
__all__ = [
    "BITEMPORAL",
    "DEFINITION_VERSION",
    "PAGE",
    "REBUILDING",
    "ReadModel",
    "Status",
    "commitment_versions",
    "days",
    "definition",
    "facts",
    "make_engine",
    "recommendation_versions",
    "sqlalchemy_url",
    "tracking",
    "visible",
]

log = structlog.get_logger("rio.projections")

# Built once: every answer asks it first (`refresh`), and building it cost more than running it.
_TRACKING_ROW = sa.select(tracking).where(tracking.c.name == NAME)

PAGE = 500  # events per transaction when catching up (RIO_PROJECTION_PAGE's default)


class ReadModel:
    """The programme read model of one store: follow the log, answer as-at questions."""

    FOLLOWER_WAIT = 10.0  # seconds a question waits for another process's follower

    def __init__(
        self,
        app: RIO,
        engine: Engine | None = None,
        page: int | None = None,
        workers: int | None = None,
        reopen: Callable[[], RIO] | None = None,
    ) -> None:
        """`page` and `workers` come from settings, through the runtime (rio.runtime);
        `reopen` opens the store again in a rebuild worker process, so it is pickled: the
        runtime gives one that carries the database URL and nothing else."""
        self.app = app
        self.workers = workers or 0  # 0: see Rebuild._default_workers
        # Without the runtime's (tests, bench): the same store, from its URL alone.
        self.reopen: Callable[[], RIO] = reopen or functools.partial(RIO, app.database_url)
        self.engine = engine or make_engine(app.database_url)
        self._writer = self.engine.execution_options(rio_write=True)
        self.page = page or PAGE
        self._projector = Projector(app, self.engine, self.page)
        self._rebuild_run = Rebuild(
            app, self.engine, self.workers, self.reopen, reset=self._projector.forget
        )
        self._ready = False
        # Set by the runtime of an API worker whose store is followed by another process.
        self.followed_elsewhere = False

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
        """Rebuild (one process at a time; see `Rebuild.run`), then apply what was recorded
        meanwhile; 0 if another process had already made the tables current."""
        head = self._rebuild_run.run(progress, only_if_stale)
        if head is None:
            return 0
        return head + self.catch_up(progress)

    def status(self) -> Status:
        self.ensure_tables()
        with self.engine.connect() as conn:
            row = conn.execute(_TRACKING_ROW).one()
        return Status(NAME, row.position, self.app.position(), row.definition == definition())

    def close(self) -> None:
        self.engine.dispose()

    # --- following the log -----------------------------------------------------------------

    def catch_up(
        self, progress: Callable[[int], None] | None = None, pages: int | None = None
    ) -> int:
        """Apply every event recorded since the tracked position (or at most `pages` pages),
        a page per transaction."""
        self.ensure_tables()
        applied, stale = self._projector.catch_up(progress, pages)
        if stale:
            # Another process is rebuilding (or was cut off doing so): wait for it, or
            # rebuild here, rather than apply events to tables it is filling.
            return applied + self._rebuild(progress, only_if_stale=True)
        return applied

    def follow(
        self, stopped: Callable[[], bool], interval: float = 1.0, settle: float = 0.0
    ) -> None:
        """Keep caught up until `stopped()`: LISTEN/NOTIFY on PostgreSQL, polling on SQLite.
        `settle`: seconds to wait after a notification, so a burst shares one catch-up."""
        if self.engine.dialect.name != "postgresql":
            self.catch_up()
            while not stopped():
                time.sleep(interval)
                self.catch_up()
            return
        recorder = self.app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder), recorder
        with recorder.datastore.get_connection() as conn:
            # LISTEN before catching up, so an event committed in between still wakes us
            # (eventsourcing's own subscription starts listening in a thread of its own, after
            # its first read: an event committed in that gap waited for the next one). The
            # timeout is a backstop: a lost notification costs at most `interval` seconds.
            conn.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
            while not stopped():
                applied = self.catch_up()
                if applied:
                    log.info("read_model_followed", applied=applied)
                for _ in conn.notifies(timeout=interval, stop_after=1):
                    time.sleep(settle)

    # --- questions -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Catch up before answering, so a reader sees its own writes (and every write
        acknowledged before it asked); cheap when current. Where the store's one follower
        runs in another process (`rio serve`), wait for it to pass the log's head instead,
        and catch up here only if it does not within FOLLOWER_WAIT (stopped, or far behind)."""
        status = self.status()
        if status.lag <= 0:
            return
        if self.followed_elsewhere and self._reached(status.head, self.FOLLOWER_WAIT):
            return
        self.catch_up()

    def _reached(self, head: int, seconds: float) -> bool:
        """Whether the tracked position reaches `head` within `seconds` (polled: one indexed
        read each time, more often at first)."""
        deadline = time.monotonic() + seconds
        pause = 0.001
        query = sa.select(tracking.c.position).where(tracking.c.name == NAME)
        while True:
            with self.engine.connect() as conn:
                if conn.execute(query).scalar_one() >= head:
                    return True
            if time.monotonic() > deadline:
                log.warning("read_model_follower_behind", head=head, waited_s=seconds)
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def programme(
        self, as_at: date, known_at: datetime | None = None, only: UUID | None = None
    ) -> Programme:
        """Exactly what `replay(events, as_at, known_at)` gives, from the read model.

        `only` restricts the answer to one recommendation (an indexed lookup).
        """
        self.refresh()
        return queries.programme(self.engine, as_at, known_at, only)

    def commitments(self, as_at: date, known_at: datetime | None = None) -> list[Commitment]:
        self.refresh()
        return queries.commitments(self.engine, as_at, known_at)

    def reviews(self) -> list[str]:
        """The reviews with a recommendation on record now."""
        self.refresh()
        return queries.reviews(self.engine)
