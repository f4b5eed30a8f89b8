"""A rebuild reads every history in one pass, however long it takes over each one."""

from __future__ import annotations

import time
from datetime import date

import psycopg

from rio.application.service import RIO
from tests.support.commands import register


def _idle_reader(url: str) -> tuple[str, float] | None:
    """The histories reader's session as PostgreSQL sees it (the one session holding a lock
    on this store's event table): its state and how many seconds it has been in it."""
    schema = url.partition("?schema=")[2]
    with psycopg.connect(url.partition("?")[0], autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.state, extract(epoch FROM now() - a.state_change)::float "
            "FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
            "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = 'rio_events' AND a.pid <> pg_backend_pid()",
            (schema,),
        ).fetchone()
    return None if row is None else (row[0], row[1])


def test_a_reader_idle_past_the_stores_transaction_timeout_still_reads_every_history(
    postgres_url: str,
) -> None:
    # eventsourcing ends a session idle in a transaction after this many seconds (5 by
    # default); a rebuild that spends longer on one page of histories was cut off.
    rio = RIO(postgres_url, env={"POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "1"})
    for number in (1, 2, 3):
        register(rio, "messenger-2022", number, date(2022, 6, 8))
    reading = rio.histories(rio.position())
    try:
        first = next(reading)
        assert _idle_reader(postgres_url) is not None
        # Wait (on the condition, not a guess) until the reader has idled in its
        # transaction for twice the timeout, or has been ended by it.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen = _idle_reader(postgres_url)
            if seen is None or (seen[0] == "idle in transaction" and seen[1] > 2):
                break
            time.sleep(0.1)
        assert _idle_reader(postgres_url) is not None, "the reader's session was ended"
        rest = list(reading)
        assert len([first, *rest]) == 3
    finally:
        reading.close()
        rio.close()
