"""What one API process holds: the store, its read model, keys, idempotency records, limits.

Built by the app factory from settings and reached through `deps.ServicesDep`, so tests
build an app on their own store instead of patching globals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from uuid import UUID

import structlog
from sqlalchemy.engine import Engine

from rio.aggregates.api_key import Role
from rio.api.idempotency import IdempotencyStore
from rio.api.ratelimit import RateLimiter
from rio.application.keys import Keys, Principal
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.replay import Programme, RecommendationState
from rio.projections.read_model import ReadModel, make_engine
from rio.projections.readers import ReplayReader
from rio.settings import Settings

log = structlog.get_logger("rio.api")


class Services:
    FOLLOW_DELAY = 0.2  # seconds the read model may trail commands; queries never see it

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rio = RIO(settings.database_url)
        self.engine: Engine = make_engine(settings.database_url)
        self.read_model = ReadModel(self.rio, engine=self.engine)
        self.keys = Keys(self.rio)
        self.idempotency = IdempotencyStore(self.engine, settings.api_idempotency_pending_seconds)
        self.limiter = RateLimiter(settings.api_rate_per_minute, settings.api_rate_burst)
        # SQLite takes one writer at a time: commands here queue on this lock rather than
        # on SQLite's busy timeout, one pooled connection each.
        self._write_lock = threading.RLock()
        self._catch_up_lock = threading.Lock()
        self._serial_writes = self.engine.dialect.name == "sqlite"
        self.read_model.ensure_tables()
        self._recorded = threading.Event()
        self._closing = False
        self._follower = threading.Thread(target=self._follow, name="rio-read-model", daemon=True)
        self._follower.start()

    def close(self) -> None:
        self._closing = True
        self._recorded.set()
        self._follower.join(timeout=30)
        self.engine.dispose()
        self.rio.close()

    def recorded(self) -> None:
        """A command recorded events: the follower thread brings the read model up to date.

        Commands answer without waiting for it (many commands share one catch-up), and every
        query catches up before it answers, so a client still reads its own writes.
        """
        self._recorded.set()

    def _follow(self) -> None:
        while not self._closing:
            if not self._recorded.wait(timeout=1.0):
                continue
            time.sleep(self.FOLLOW_DELAY)  # let a burst of commands share one catch-up
            self._recorded.clear()
            try:
                # A page at a time: SQLite's write lock is held briefly, and a query's own
                # catch-up (same lock here) goes in between.
                while not self._closing and self.catch_up(pages=1):
                    pass
            except Exception as error:  # recorded already; the next query catches up
                log.warning("read_model_catch_up_failed", error=f"{type(error).__name__}: {error}")

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around a command: one at a time on SQLite; PostgreSQL takes concurrent writers."""
        if self._serial_writes:
            with self._write_lock:
                yield
        else:
            yield

    def catch_up(self, pages: int | None = None) -> int:
        """Apply what was recorded since the read model's position: one thread at a time here
        (they share the timelines in memory); other processes are serialised by the read
        model's own transaction. Commands go on meanwhile: a catch-up holds SQLite's write
        lock only while it writes rows it has already worked out."""
        with self._catch_up_lock:
            return self.read_model.catch_up(pages=pages)

    def programme(
        self,
        as_at: date,
        known_at: datetime | None = None,
        *,
        replay: bool = False,
        only: UUID | None = None,
    ) -> Programme:
        """The programme (or just recommendation `only`) from the read model or the replay."""
        if replay:
            programme = ReplayReader(self.rio).programme(as_at, known_at)
            if only is None:
                return programme
            return replace(
                programme,
                recommendations=tuple(r for r in programme.recommendations if r.id == only),
            )
        self.catch_up()
        return self.read_model.programme(as_at, known_at, only=only)

    def owns(self, principal: Principal, state: RecommendationState) -> bool:
        """An owner key reads a recommendation it is accountable for or owns a commitment of."""
        if principal.role is not Role.OWNER:
            return True
        wanted = (principal.owner or "").strip().casefold()
        owners = [state.accountable_owner, *(c.owner for c in state.commitments)]
        return any(o is not None and o.strip().casefold() == wanted for o in owners)

    def current(self, only: UUID | None = None) -> Programme:
        """The programme as it stands today, as known now: whose items are whose."""
        return self.programme(clock.today(), only=only)

    def sqlite_durability(self) -> tuple[str, int] | None:
        """(journal mode, synchronous level) of the event store, when it is SQLite."""
        datastore = getattr(self.rio.recorder, "datastore", None)
        pool = getattr(datastore, "pool", None)
        if pool is None or not hasattr(pool, "db_name"):
            return None
        with datastore.transaction(commit=False) as cursor:  # type: ignore[union-attr]
            cursor.execute("PRAGMA journal_mode")
            mode = str(cursor.fetchone()[0])
            cursor.execute("PRAGMA synchronous")
            level = int(cursor.fetchone()[0])
        return mode, level
