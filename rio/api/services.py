"""What one API process holds: the store, its read model, keys, idempotency records, limits.

Built by the app factory on the runtime (`rio.runtime`) and reached through
`deps.ServicesDep`, so tests build an app on their own store instead of patching globals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

import structlog
from sqlalchemy.engine import Engine

from rio.api.idempotency import IdempotencyStore
from rio.api.ratelimit import FailedAuthentications, RateLimiter
from rio.application.commands import RecommendationCommand
from rio.application.keys import Keys
from rio.application.service import RIO, Written
from rio.domain import clock
from rio.domain.errors import DomainError
from rio.domain.rag import Policy
from rio.domain.state import Programme
from rio.projections.read_model import ReadModel
from rio.runtime import Runtime

log = structlog.get_logger("rio.api")


@dataclass
class _Pending:
    rec: UUID
    command: RecommendationCommand
    expected_version: int | None
    outcome: Written | BaseException | None = None


class GroupCommit:
    """Commands that arrive while another is being committed wait for it, then go in one
    transaction together (`RIO.record_together`): one commit, one fsync, for all of them.
    A store takes one writer at a time (SQLite's lock, the event table's lock on
    PostgreSQL), so one commit per command made the disk's sync time the limit.

    The first thread to find no commit running leads: it takes what is queued (its own
    command among them) and commits it; the others wait and take their own outcomes."""

    MOST = 64  # commands in one transaction

    def __init__(self, rio: RIO, writing: Callable[[], AbstractContextManager[None]]) -> None:
        self.rio = rio
        self.writing = writing
        self._changed = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = False

    def record(
        self, rec: UUID, command: RecommendationCommand, expected_version: int | None
    ) -> Written:
        """As `RIO.record(rec, command, expected_version=...)`, perhaps with others."""
        mine = _Pending(rec, command, expected_version)
        with self._changed:
            self._queue.append(mine)
        while True:
            with self._changed:
                while mine.outcome is None and self._leading:
                    self._changed.wait()
                if mine.outcome is not None:
                    break
                self._leading = True
                batch, self._queue = self._queue[: self.MOST], self._queue[self.MOST :]
            try:
                self._commit(batch)
            except BaseException as error:  # e.g. the write turn could not be taken
                for pending in batch:
                    if pending.outcome is None:
                        pending.outcome = error  # never left waiting for a commit that failed
            finally:
                with self._changed:
                    self._leading = False
                    self._changed.notify_all()
        if isinstance(mine.outcome, BaseException):
            raise mine.outcome
        return mine.outcome

    def _commit(self, batch: list[_Pending]) -> None:
        with self.writing():
            outcomes: list[Written | DomainError] | None = None
            if len(batch) > 1:
                try:
                    outcomes = self.rio.record_together(
                        [(p.rec, p.command, p.expected_version) for p in batch]
                    )
                except Exception as error:  # each alone below meets it, or not, for itself
                    log.warning("group_commit_failed", error=f"{type(error).__name__}: {error}")
            if outcomes is not None:
                for pending, outcome in zip(batch, outcomes, strict=True):
                    pending.outcome = outcome
                return
            for pending in batch:  # one alone, or a group the store refused as a whole
                try:
                    pending.outcome = self.rio.record(
                        pending.rec, pending.command, expected_version=pending.expected_version
                    )
                except BaseException as error:
                    pending.outcome = error


class Services:
    FOLLOW_DELAY = 0.2  # seconds the read model may trail commands; queries never see it

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.settings = settings
        self.policy: Policy = runtime.policy  # the one policy the CLI and alerts rate by too
        self.rio: RIO = runtime.store
        self.engine: Engine = runtime.engine
        self.read_model: ReadModel = runtime.read_model
        self.keys: Keys = runtime.keys
        self.idempotency = IdempotencyStore(
            self.engine, settings.api_idempotency_pending_seconds, self.rio
        )
        self.limiter = RateLimiter(settings.api_rate_per_minute, settings.api_rate_burst)
        # API keys and board sign-ins alike
        self.failed_auth = FailedAuthentications(
            settings.api_failed_auth_burst, settings.api_failed_auth_per_minute
        )
        # SQLite takes one writer at a time: commands here queue on this lock rather than
        # on SQLite's busy timeout, one pooled connection each.
        self._write_lock = threading.RLock()
        self._catch_up_lock = threading.Lock()
        self._serial_writes = self.engine.dialect.name == "sqlite"
        self.group = GroupCommit(self.rio, self.writing)
        self.read_model.ensure_tables()
        self._recorded = threading.Event()
        self._closing = False
        # An API worker of `rio serve` leaves following to the store's one follower process
        # (Runtime.serve_follower); an app on its own (tests, embedding) follows here.
        self._follows = not runtime.followed_elsewhere
        self._follower = threading.Thread(target=self._follow, name="rio-read-model", daemon=True)
        if self._follows:
            self._follower.start()

    def close(self) -> None:
        self.stop_following()
        self.runtime.close()

    def stop_following(self) -> None:
        """Stop the follower thread; queries still catch up for themselves. Lets a probe
        of read-model lag see lag that no background catch-up can race away."""
        self._closing = True
        self._recorded.set()
        if self._follower.is_alive():
            self._follower.join(timeout=30)

    def recorded(self, position: int | None = None) -> None:
        """A command recorded events (up to `position` in the log, if known): the follower
        brings the read model up to date, this process's thread or the store's follower.

        Commands answer without waiting for it (many commands share one catch-up), and every
        query waits for the log's head before it answers, so a client reads its own writes.
        """
        if self._follows:
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
        lock only while it writes rows it has already worked out. Where the store's follower
        is another process, wait for it to pass the log's head instead (`ReadModel.refresh`)."""
        if not self._follows:
            self.read_model.refresh()
            return 0
        with self._catch_up_lock:
            return self.read_model.catch_up(pages=pages)

    def programme(
        self,
        as_at: date,
        known_at: datetime | None = None,
        *,
        replay: bool = False,
        only: UUID | None = None,
        public_at: date | None = None,
    ) -> Programme:
        """The programme (or just recommendation `only`) from the read model or the replay;
        with `public_at`, from the fold of what was on the public record then."""
        if replay or public_at is not None:
            reader = self.runtime.reader(replay=True, public_at=public_at)
            programme = reader.programme(as_at, known_at)
            if only is None:
                return programme
            return replace(
                programme,
                recommendations=tuple(r for r in programme.recommendations if r.id == only),
            )
        if self._follows:
            self.catch_up()
        return self.read_model.programme(as_at, known_at, only=only)

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
