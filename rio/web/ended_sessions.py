"""Board sessions ended by signing out, kept in the store until their cookies expire anyway.

A signed cookie cannot be taken back, so signing out records the session's id here, and
every request checks it: a copy of the cookie (another tab, another machine, a proxy's log)
stops working at once, in every process and after restarts. A row is needed only while its
cookie could still be accepted, so each sign-out purges the rows past that.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

ended = sa.Table(
    "rio_board_sessions_ended",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    # When the session's cookie was signed (unix seconds): the row may go once the cookie
    # is older than a session lasts, since the signature check refuses it then.
    sa.Column("issued", sa.Float, nullable=False, index=True),
)


class EndedSessions:
    def __init__(
        self, engine: Engine, lifetime: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self._writer = engine.execution_options(rio_write=True)
        self.lifetime = lifetime
        self.clock = clock
        metadata.create_all(self._writer)

    def end(self, session_id: str, issued: float) -> None:
        """Record that `session_id` (signed at `issued`) has ended; ending it twice is harmless."""
        try:
            with self._writer.begin() as conn:
                conn.execute(ended.insert().values(session_id=session_id, issued=issued))
        except sa.exc.IntegrityError:  # ended already (another tab, another process)
            pass
        with self._writer.begin() as conn:
            conn.execute(ended.delete().where(ended.c.issued < self.clock() - self.lifetime))

    def has_ended(self, session_id: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(ended.c.session_id).where(ended.c.session_id == session_id)
            ).first()
        return found is not None

    def __len__(self) -> int:
        """How many ended sessions are kept (for tests of the purge)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(ended)).scalar_one())
