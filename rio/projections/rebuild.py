"""Rebuilding the read model from the whole log: one process at a time, a recommendation's
history at a time, split by recommendation id across worker processes when the log is large.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from uuid import UUID

import structlog
from sqlalchemy.engine import Connection, Engine

from rio.application.service import RIO
from rio.persistence.locks import store_lock
from rio.projections.engine import make_engine
from rio.projections.rows import PageWriter, qualified
from rio.projections.tables import (
    BITEMPORAL,
    NAME,
    REBUILDING,
    definition,
    metadata,
    tracked,
    tracking,
)
from rio.projections.timeline import Timeline

log = structlog.get_logger("rio.projections")

BULK_ROWS = 20_000  # rows a rebuild writes per transaction
PARALLEL_FROM = 50_000  # events from which a rebuild is split across processes


class Rebuild:
    """Drops the tables and fills them again from events 1..head of the log."""

    def __init__(
        self,
        app: RIO,
        engine: Engine,
        workers: int,
        reopen: Callable[[], RIO],
        reset: Callable[[], None] = lambda: None,
    ) -> None:
        """`workers` 0 chooses (`_default_workers`); `reopen` opens the store in a worker
        process, so it is pickled; `reset` is told when the tables were dropped."""
        self.app = app
        self.engine = engine
        self.workers = workers
        self.reopen = reopen
        self.reset = reset
        self._writer = engine.execution_options(rio_write=True)

    def run(
        self, progress: Callable[[int], None] | None = None, only_if_stale: bool = False
    ) -> int | None:
        """One process at a time: a second waits, then finds the tables current (None: nothing
        done) or rebuilds; returns the head of the log the tables now reflect.

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
            if only_if_stale and tracked(self.engine)[1] == definition():
                return None
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
        return head

    def _bulk(self, head: int, progress: Callable[[int], None] | None) -> int:
        """Apply events 1..head to empty tables, one recommendation's history at a time,
        split by recommendation id across worker processes when the log is large."""
        indexes = [i for t in BITEMPORAL for i in t.indexes]
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
                    pool.submit(_bulk_range, self.reopen, head, low, high) for low, high in ranges
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
                for table in BITEMPORAL:
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
        writer, applied, pending = PageWriter(fresh=True), 0, 0
        for history in self.app.histories(head, low, high):
            line = Timeline([])
            for event in history:
                writer.add(line, line.add(event), event)
            applied += len(history)
            pending += len(history)
            if writer.rows >= BULK_ROWS:
                self._flush(writer)
                writer = PageWriter(fresh=True)
                if progress is not None:
                    progress(pending)
                pending = 0
        self._flush(writer)
        if progress is not None:
            progress(pending)
        return applied

    def _flush(self, writer: PageWriter) -> None:
        with self._writer.begin() as conn:
            self._check_rebuilding(conn)
            writer.flush(conn)

    def _check_rebuilding(self, conn: Connection) -> None:
        if tracked(self.engine, conn)[1] != REBUILDING + definition():
            raise RuntimeError("the read model was reset by another process during this rebuild")

    def _drop_and_create(self, marker: str) -> None:
        metadata.drop_all(self._writer)
        metadata.create_all(self._writer)
        with self._writer.begin() as conn:
            conn.execute(tracking.insert().values(name=NAME, position=0, definition=marker))
        self.reset()


def _bulk_range(reopen: Callable[[], RIO], head: int, low: UUID | None, high: UUID | None) -> int:
    """One rebuild worker: its own store connections, its share of the recommendations."""
    app = reopen()
    engine = make_engine(app.database_url)
    try:
        return Rebuild(app, engine, workers=1, reopen=reopen).bulk_range(head, low, high)
    finally:
        engine.dispose()
        app.close()
