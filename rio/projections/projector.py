"""Following the log: each page of new events becomes row changes, committed with the new
tracking position in one transaction, so each event is applied exactly once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from uuid import UUID

from sqlalchemy.engine import Engine

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from rio.projections.rows import PageWriter
from rio.projections.tables import NAME, definition, tracked, tracking
from rio.projections.timeline import Change, Timeline


class Projector:
    """Applies new events page by page, keeping recently changed timelines in memory."""

    CACHE = 1000  # recommendations whose timelines stay in memory between events

    def __init__(self, app: RIO, engine: Engine, page: int) -> None:
        self.app = app
        self.engine = engine
        self.page = page
        self._writer = engine.execution_options(rio_write=True)
        self._timelines: OrderedDict[UUID, Timeline] = OrderedDict()

    def forget(self) -> None:
        """Drop the timelines in memory: the tables were reset under them."""
        self._timelines.clear()

    def catch_up(
        self, progress: Callable[[int], None] | None = None, pages: int | None = None
    ) -> tuple[int, bool]:
        """Apply every event recorded since the tracked position (or at most `pages` pages),
        a page per transaction: (events applied, whether it stopped because the tables'
        definition is not this one's, so they must be rebuilt first)."""
        applied = 0
        while pages is None or pages > 0:
            # Everything is read and worked out before the write lock is taken: on SQLite,
            # reading the event store while holding it could deadlock with writers waiting
            # for it, and commands wait for nothing longer than the rows being written.
            position, current = tracked(self.engine)
            if current != definition():
                # Another process is rebuilding (or was cut off doing so): the caller waits
                # for it, or rebuilds, rather than apply events to tables it is filling.
                return applied, True
            page = self.app.recorder.select_notifications(start=position + 1, limit=self.page)
            if not page:
                return applied, False
            decoded = [self.app.mapper.to_domain_event(n) for n in page]
            events = [e for e in decoded if isinstance(e, Recommendation.Event)]
            self._prefetch(events)
            try:
                writer = self._prepare(events)
                with self._writer.begin() as conn:
                    if tracked(self.engine, conn) != (position, definition()):
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
        return applied, False

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
                self._timelines[rec_id] = Timeline(history)  # type: ignore[arg-type]

    def _prepare(self, events: list[Recommendation.Event]) -> PageWriter:
        """The page's row changes, against the open rows as of the position just read (only
        a projector that moves the position changes them; the caller re-checks it)."""
        writer = PageWriter()
        bounds: dict[str, date | None] = {}
        corrected: set[str] = set()
        for event in events:
            rec_id = str(event.originator_id)
            bound = None
            if isinstance(event, Recommendation.EventCorrected):
                corrected.add(rec_id)
            elif (line := self._timelines.get(event.originator_id)) is not None:
                # Before the page: later events of the page add days, so reach no further.
                bound = line.day_before(event.occurred)
            if rec_id not in bounds:
                bounds[rec_id] = bound
            elif bound is None or (earlier := bounds[rec_id]) is None:
                bounds[rec_id] = None
            else:
                bounds[rec_id] = min(earlier, bound)
        with self.engine.connect() as conn:
            writer.load(conn, bounds, corrected)
        for event in events:
            writer.add(*self._timeline(event), event)
        return writer

    def _timeline(self, event: Recommendation.Event) -> tuple[Timeline, Change]:
        """The recommendation's timeline with this event added, from the cache or the store,
        and what the event changed in it."""
        line = self._timelines.pop(event.originator_id, None)
        if line is None or line.version != event.originator_version - 1:
            stored = self.app.recorder.select_events(
                event.originator_id, lte=event.originator_version - 1
            )
            history = [self.app.mapper.to_domain_event(s) for s in stored]
            line = Timeline(history)  # type: ignore[arg-type]
        change = line.add(event)
        self._timelines[event.originator_id] = line
        if len(self._timelines) > self.CACHE:
            self._timelines.popitem(last=False)
        return line, change
