"""Store-wide locks: at most one process per store does a given job at a time.

APScheduler 3 must not share a job store between two running schedulers, and two read-model
rebuilds must not interleave, so a process does either only while it holds a lock: a
PostgreSQL advisory lock on a connection kept open while held, or, on SQLite, an exclusive
`flock` on a file beside the database. Either is released by the operating system or the
server if the process dies, so a lock that is free means nobody is doing the job.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from typing import IO, Any, Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

from rio.persistence.url import event_store_env


class StoreLock(Protocol):
    def acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...


def store_lock(database_url: str, purpose: str) -> StoreLock:
    env = event_store_env(database_url)
    if "SQLITE_DBNAME" in env:
        return FileLock(f"{env['SQLITE_DBNAME']}.{purpose}-lock")
    return AdvisoryLock(database_url, purpose)


def scheduler_lock(database_url: str) -> StoreLock:
    return store_lock(database_url, "scheduler")


class FileLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryLock:
    """`pg_try_advisory_lock` on a key derived from the database and schema of the store."""

    def __init__(self, database_url: str, purpose: str = "scheduler") -> None:
        parts = urlsplit(database_url)
        schema = parse_qs(parts.query).get("schema", ["public"])[0]
        self.conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
        name = f"rio-{purpose}:{parts.path.lstrip('/')}:{schema}"
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self._conn: Any = None

    def acquire(self) -> bool:
        import psycopg

        if self._conn is not None:
            return True
        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        if not (row and row[0]):
            conn.close()
            return False
        self._conn = conn
        return True

    def held(self) -> bool:
        """False once the lock's connection is gone (and with it the lock)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except Exception:  # any failure means the session, and so the lock, is gone
            self._conn = None
            return False
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        except Exception:  # the session is gone, and the lock with it
            pass
        finally:
            conn.close()
