"""The composition root: one process's RIO, built from one `Settings`.

The CLI, the app factory, the scheduler's jobs and the read model's rebuild workers all ask
a `Runtime` for the store, the read model, the RAG policy, the keys and the alert service,
so every door rates with the same policy and reads the same settings. Settings are read
here (through `rio.settings.get_settings`) and nowhere else; below this module they are
passed in. Parts are opened on first use, so a command that needs no store opens none.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from types import TracebackType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from rio.alerts.mailer import Mailer
from rio.alerts.scheduler import serve_forever, start_scheduler
from rio.alerts.service import AlertService
from rio.application.keys import Keys
from rio.application.reviews import Reviews
from rio.application.service import RIO
from rio.domain.rag import Policy
from rio.logging import configure
from rio.persistence.locks import store_lock
from rio.projections.read_model import ReadModel, make_engine
from rio.projections.readers import PublicRecordReader, Reader, ReplayReader
from rio.projections.reviews import ReviewRegister
from rio.settings import Door, Settings, get_settings

log = structlog.get_logger("rio.runtime")

FOLLOWER = "read-model-follower"  # the store lock's purpose: one follower per store
# SQLite has no notifications: the follower polls (an indexed read). Each catch-up is a
# write transaction that a command must wait out (SQLite's busy handler sleeps), so it polls
# seldom enough that a burst of commands shares one, and a question waits at most this long.
FOLLOW_POLL_SQLITE = 0.1
# On PostgreSQL each commit notifies: the follower waits this long after one, so the commits
# of a burst share a catch-up instead of a transaction each.
SETTLE = 0.05


class Runtime:
    """Everything one process needs on one store, and the one policy it rates by."""

    def __init__(
        self,
        settings: Settings | None = None,
        policy: Policy | None = None,
        *,
        followed_elsewhere: bool = False,
    ) -> None:
        """`settings` default to the environment's; `policy` to the one they ask for.
        `followed_elsewhere`: another process follows the log into the read model (an API
        worker of `rio serve`), so this one's questions wait for it (`ReadModel.refresh`)."""
        self.settings = settings if settings is not None else get_settings()
        self.followed_elsewhere = followed_elsewhere
        self.policy: Policy = policy if policy is not None else self.settings.rag_policy()
        self._store: RIO | None = None
        self._engine: Engine | None = None
        self._read_model: ReadModel | None = None
        self._keys: Keys | None = None
        self._review_register: ReviewRegister | None = None

    # --- parts, each opened once, on first use ---------------------------------------------

    @property
    def store(self) -> RIO:
        """The application service on the configured store (the event log)."""
        if self._store is None:
            self._store = StoreOpener(self.settings.database_url)()
        return self._store

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine the read model (and the API's own tables) use."""
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def read_model(self) -> ReadModel:
        if self._read_model is None:
            self._read_model = ReadModel(
                self.store,
                engine=self.engine,
                page=self.settings.projection_page,
                workers=self.settings.rebuild_workers,
                reopen=StoreOpener(self.settings.database_url),
            )
            self._read_model.followed_elsewhere = self.followed_elsewhere
        return self._read_model

    def reader(self, replay: bool = False, public_at: date | None = None) -> Reader:
        """The read model, or (replay) a fold over every event: the reference answer; with
        `public_at`, the fold of what was on the public record then."""
        if public_at is not None:
            return PublicRecordReader(self.store, public_at)
        return ReplayReader(self.store) if replay else self.read_model

    @property
    def keys(self) -> Keys:
        if self._keys is None:
            self._keys = Keys(self.store)
        return self._keys

    @property
    def reviews(self) -> Reviews:
        """Registering reviews (their titles, kinds and response deadlines)."""
        return Reviews(self.store)

    @property
    def review_register(self) -> ReviewRegister:
        """The registered reviews, followed from the log into a table of their own."""
        if self._review_register is None:
            self._review_register = ReviewRegister(self.store, self.engine)
        return self._review_register

    def alerts(self, principal: str, mailer: Mailer | None = None) -> AlertService:
        """The alert service, judging overdue and stale by this runtime's policy."""
        return AlertService(
            self.store,
            self.settings,
            mailer=mailer,
            principal=principal,
            policy=self.policy,
            read_model=self.read_model,
        )

    @contextmanager
    def alert_session(self, principal: str) -> Iterator[AlertService]:
        """An alert service on store connections of its own, closed after: for a scheduler
        job, which runs in its own thread beside whatever else the host process does."""
        with Runtime(self.settings, self.policy) as own:
            yield own.alerts(principal)

    # --- processes ---------------------------------------------------------------------------

    def configure_logging(self, door: Door) -> None:
        configure(level=self.settings.log_level_for(door), fmt=self.settings.log_format)

    def start_scheduler(self) -> BackgroundScheduler | None:
        """The alert scheduler in the background, or None if another process holds it."""
        return start_scheduler(self)

    def serve_scheduler(self, stop: threading.Event, poll_seconds: float) -> None:
        """Hold the alert scheduler until `stop` is set (`rio scheduler`)."""
        serve_forever(self, stop=stop, poll_seconds=poll_seconds)

    def serve_follower(
        self, stop: Callable[[], bool], interval: float | None = None, poll_seconds: float = 2.0
    ) -> None:
        """Follow the log into the read model until `stop()`, while this process holds the
        store's follower lock: one follower per store, however many API processes or hosts
        serve it. Without the lock, try again every `poll_seconds`, so another host's
        follower is replaced soon after it stops. `interval`: seconds between polls of the
        log (SQLite) or the longest wait for a notification (PostgreSQL)."""
        lock = store_lock(self.settings.database_url, FOLLOWER)
        model = self.read_model
        if interval is None:
            interval = FOLLOW_POLL_SQLITE if self.engine.dialect.name == "sqlite" else 1.0
        while not stop():
            if not lock.acquire():
                time.sleep(poll_seconds)
                continue
            log.info("read_model_follower_started", pid=os.getpid())
            try:
                model.follow(
                    stopped=lambda: stop() or not lock.held(), interval=interval, settle=SETTLE
                )
            except Exception as error:  # the store went away: release, wait, try again
                log.warning("read_model_follow_failed", error=f"{type(error).__name__}: {error}")
                time.sleep(poll_seconds)
            finally:
                lock.release()

    # --- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self._store is not None:
            self._store.close()
        self._store = self._engine = self._read_model = self._keys = None
        self._review_register = None

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def follower_process(parent: int) -> None:
    """`rio serve`'s read-model follower, in a process of its own: the environment's settings
    (as the API workers read them), until SIGTERM or SIGINT, or its parent `parent` is gone."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with Runtime() as root:
        root.configure_logging("service")
        root.serve_follower(lambda: stop.is_set() or os.getppid() != parent)


@dataclass(frozen=True)
class StoreOpener:
    """How this runtime opens its store, from the settings that needs: the URL, no more.

    Rebuild workers get one (pickled) to open the store again in their own process, so a
    worker reads no environment and is sent no setting it does not need (no SMTP password)."""

    database_url: str

    def __call__(self) -> RIO:
        return RIO(self.database_url)
