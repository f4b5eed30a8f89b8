"""Someone with database access, editing RIO's tables with plain SQL behind its back."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from eventsourcing.persistence import StoredEvent

from rio.audit.verification import Digest
from rio.persistence.chain import GENESIS, Link, encoding, link_hash
from rio.persistence.merkle import append, leaf_hash
from tests.conftest import POSTGRES_URL

TIMESTAMP = re.compile(rb'"timestamp":\{"_type_":"datetime_iso","_data_":"([^"]+)"\}')


class Tamperer:
    """Direct SQL on a RIO store: `id` is the notification id (rowid on SQLite)."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith("postgres")
        if self.postgres:
            self.schema = parse_qs(urlsplit(url).query)["schema"][0]
            self.events = f'"{self.schema}".rio_events'
            self.chain = f'"{self.schema}".rio_events_chain'
            self.id = "notification_id"
            self.p = "%s"
        else:
            path = url.split("://", 1)[1]
            self.path = path[1:] if path.startswith("/") else path
            self.events, self.chain, self.id, self.p = (
                "stored_events",
                "stored_events_chain",
                "rowid",
                "?",
            )

    @contextmanager
    def sql(self) -> Iterator[Any]:
        """A cursor in one committed transaction."""
        if self.postgres:
            import psycopg

            with psycopg.connect(POSTGRES_URL.split("?")[0]) as conn, conn.cursor() as cur:
                yield cur
            return
        db = sqlite3.connect(self.path)
        try:
            with db:
                yield db.cursor()
        finally:
            db.close()

    def q(self, statement: str) -> str:
        merkle = self.chain.replace("_chain", "_merkle")
        return statement.format(
            events=self.events, chain=self.chain, merkle=merkle, id=self.id, p=self.p
        )

    def state(self, n: int) -> bytes:
        with self.sql() as cur:
            cur.execute(self.q("SELECT state FROM {events} WHERE {id} = {p}"), (n,))
            return bytes(cur.fetchone()[0])

    def set_state(self, n: int, state: bytes) -> None:
        with self.sql() as cur:
            cur.execute(self.q("UPDATE {events} SET state = {p} WHERE {id} = {p}"), (state, n))

    def flip_byte(self, n: int) -> None:
        """Change one byte of one event's state (a letter's case, in the middle)."""
        state = bytearray(self.state(n))
        k = next(i for i in range(len(state) // 2, len(state)) if chr(state[i]).isalpha())
        state[k] ^= 0x20
        self.set_state(n, bytes(state))

    def backdate(self, n: int, days: int = 1) -> None:
        """Move an event's recorded timestamp, which lives inside its state."""
        state = self.state(n)
        found = TIMESTAMP.search(state)
        assert found is not None, state
        moved = datetime.fromisoformat(found.group(1).decode()) - timedelta(days=days)
        self.set_state(n, state.replace(found.group(1), moved.isoformat().encode(), 1))

    def delete(self, n: int) -> None:
        with self.sql() as cur:
            cur.execute(self.q("DELETE FROM {events} WHERE {id} = {p}"), (n,))

    def delete_link(self, n: int) -> None:
        with self.sql() as cur:
            cur.execute(self.q("DELETE FROM {chain} WHERE notification_id = {p}"), (n,))

    def swap(self, a: int, b: int) -> None:
        """Exchange two events' positions in the log (their notification ids)."""
        with self.sql() as cur:
            for old, new in ((a, -1), (b, a), (-1, b)):
                cur.execute(self.q("UPDATE {events} SET {id} = {p} WHERE {id} = {p}"), (new, old))

    def insert(self, like: int, version: int) -> int:
        """Add an event row (a copy of event `like`, as a new version); return its id."""
        with self.sql() as cur:
            cur.execute(
                self.q("SELECT originator_id, topic, state FROM {events} WHERE {id} = {p}"),
                (like,),
            )
            originator_id, topic, state = cur.fetchone()
            cur.execute(
                self.q(
                    "INSERT INTO {events} (originator_id, originator_version, topic, state) "
                    "VALUES ({p}, {p}, {p}, {p})"
                ),
                (originator_id, version, topic, state),
            )
            cur.execute(self.q("SELECT MAX({id}) FROM {events}"))
            return int(cur.fetchone()[0])

    def rechain(self) -> Digest:
        """Rewrite the whole chain to match the events as they now are (a thorough forger)."""
        with self.sql() as cur:
            cur.execute(
                self.q(
                    "SELECT {id}, originator_id, originator_version, topic, state "
                    "FROM {events} ORDER BY {id}"
                )
            )
            rows = cur.fetchall()
            cur.execute(self.q("DELETE FROM {chain}"))
            cur.execute(self.q("DELETE FROM {merkle}"))  # and the Merkle tree, thoroughly
            prev = GENESIS
            leaves = []
            for n, originator_id, version, topic, state in rows:
                oid = str(originator_id) if self.postgres else _hyphenated(originator_id)
                link = Link(n, prev, _hash(prev, n, oid, version, topic, bytes(state)))
                cur.execute(
                    self.q("INSERT INTO {chain} VALUES ({p}, {p}, {p})"),
                    (link.notification_id, link.prev_hash, link.hash),
                )
                prev = link.hash
                event = StoredEvent(oid, version, topic, bytes(state))
                leaves.append((n, leaf_hash(encoding(n, event))))
            for row in append(0, {}, leaves):
                cur.execute(self.q("INSERT INTO {merkle} VALUES ({p}, {p}, {p})"), tuple(row))
        return Digest(rows[-1][0], prev, len(rows), datetime.now().astimezone())

    def truncate(self, keep: int) -> None:
        """Remove every event after notification `keep`, and their chain entries."""
        with self.sql() as cur:
            cur.execute(self.q("DELETE FROM {events} WHERE {id} > {p}"), (keep,))
            cur.execute(self.q("DELETE FROM {chain} WHERE notification_id > {p}"), (keep,))
            cur.execute(self.q("DELETE FROM {merkle} WHERE notification_id > {p}"), (keep,))

    def key(self, table: str) -> str:
        """The column holding a row's notification id in `table` ("events" or "chain")."""
        return self.id if table == "events" else "notification_id"

    def value(self, table: str, column: str, n: int) -> Any:
        """A column of row `n` as the driver returns it (None when there is no row `n`)."""
        with self.sql() as cur:
            cur.execute(
                self.q(f"SELECT {column} FROM {{{table}}} WHERE {self.key(table)} = {{p}}"), (n,)
            )
            row = cur.fetchone()
            return None if row is None else row[0]

    def stored(self, table: str, column: str, n: int) -> tuple[str, str] | None:
        """How a column of row `n` is stored: its type and its exact bytes, in hex."""
        if self.postgres:
            select = f"pg_typeof({column})::text, encode(convert_to({column}::text, 'UTF8'), 'hex')"
        else:
            select = f"typeof({column}), hex(CAST({column} AS BLOB))"
        with self.sql() as cur:
            cur.execute(
                self.q(f"SELECT {select} FROM {{{table}}} WHERE {self.key(table)} = {{p}}"), (n,)
            )
            row = cur.fetchone()
            return None if row is None else (str(row[0]), str(row[1]).lower())

    def write(self, table: str, column: str, n: int, expression: str, value: Any) -> None:
        """Set a column of row `n` to `expression` (SQL around one placeholder, `{p}`)."""
        with self.sql() as cur:
            cur.execute(
                self.q(
                    f"UPDATE {{{table}}} SET {column} = {expression} "
                    f"WHERE {self.key(table)} = {{p}}"
                ),
                (value, n),
            )

    def count(self, table: str) -> int:
        with self.sql() as cur:
            cur.execute(self.q(f"SELECT COUNT(*) FROM {{{table}}}"))
            return int(cur.fetchone()[0])


def _hyphenated(hex_id: str) -> str:
    return str(uuid.UUID(hex_id))


def _hash(prev: str, n: int, originator_id: str, version: int, topic: str, state: bytes) -> str:
    return link_hash(prev, n, StoredEvent(originator_id, version, topic, state))
