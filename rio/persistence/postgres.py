"""eventsourcing's PostgreSQL application recorder, with each event's chain link written in
the same transaction as the event.

Selected by `PERSISTENCE_MODULE=rio.persistence.postgres:ChainedPostgresFactory` (see
rio/persistence/url.py). eventsourcing's own events table is untouched; links go in
`<events table>_chain` in the same schema. The EXCLUSIVE lock eventsourcing takes on the
events table to serialise notification ids also serialises the chain: the head is read
after the lock, so two writers can never link to the same predecessor.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from rio.persistence.chain import Link, extend, refuse_unchained
from rio.persistence.histories import histories

PAGE = 1000


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            raise ProgrammingError(
                "POSTGRES_ENABLE_DB_FUNCTIONS inserts events without RIO's hash chain: unset it"
            )
        self.chain_table_name = f"{events_table_name}_chain"
        self.check_identifier_length(self.chain_table_name)
        schema = Identifier(self.datastore.schema)
        chain = Identifier(self.chain_table_name)
        events = Identifier(self.events_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} ("
                "notification_id bigint PRIMARY KEY, "
                "prev_hash text NOT NULL, "
                "hash text NOT NULL)"
            ).format(schema=schema, chain=chain)
        )
        # Return each row's key too, so links never depend on RETURNING's row order.
        self.insert_events_statement += SQL(", originator_id, originator_version")
        self.select_head_statement = SQL(
            "SELECT * FROM {schema}.{chain} ORDER BY notification_id DESC LIMIT 1"
        ).format(schema=schema, chain=chain)
        self.select_newest_statement = SQL(
            "SELECT MAX(notification_id) FROM {schema}.{events}"
        ).format(schema=schema, events=events)
        self.insert_links_statement = SQL(
            "INSERT INTO {schema}.{chain} (notification_id, prev_hash, hash) "
            "SELECT * FROM unnest(string_to_array(%s, ',')::bigint[], "
            "string_to_array(%s, ','), string_to_array(%s, ','))"
        ).format(schema=schema, chain=chain)
        self.select_links_statement = SQL(
            "SELECT * FROM {schema}.{chain} WHERE notification_id >= %s "
            "AND notification_id <= %s ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, chain=chain)
        self.select_link_statement = SQL(
            "SELECT * FROM {schema}.{chain} WHERE notification_id = %s"
        ).format(schema=schema, chain=chain)
        self.count_links_statement = SQL(
            "SELECT COUNT(*) AS n FROM {schema}.{chain} WHERE notification_id <= %s"
        ).format(schema=schema, chain=chain)
        self.select_unchained_statement = SQL(
            "SELECT * FROM {schema}.{events} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, events=events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def create_table(self) -> None:
        """Serialise start-up across processes: eventsourcing's CREATE OR REPLACE FUNCTION and
        CREATE TYPE fail ("tuple concurrently updated") when two processes run them at once."""
        key = zlib.crc32(f"rio:create_table:{self.datastore.schema}".encode())
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """eventsourcing's pipelined insert, plus the chain, in one transaction.

        After the table lock the pipeline also reads the newest event id and the chain's
        head, so chaining costs no extra round trip before the insert's own sync.
        """
        exc: Exception | None = None
        notification_ids: list[int] | None = None
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline, conn.transaction():
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                if stored_events:
                    with conn.cursor() as curs, conn.cursor() as head, conn.cursor() as newest:
                        try:
                            self._lock_table(curs)
                            self._notify_channel(curs)
                            newest.execute(self.select_newest_statement, prepare=True)
                            head.execute(self.select_head_statement, prepare=True)
                            self._insert_pg_events(curs, stored_events)
                            pipeline.sync()
                            notification_ids = self._chain(
                                curs, stored_events, self._link(head.fetchone()), newest
                            )
                        except Exception as e:
                            exc = e
                    if exc is not None:
                        # Roll back explicitly: eventsourcing lets the transaction block
                        # end normally after an error, which would commit the events if the
                        # error came from Python (hashing) rather than from the server.
                        raise psycopg.Rollback()
            if exc is not None:
                raise exc
        return notification_ids

    def _insert_pg_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]
    ) -> None:
        curs.execute(
            self.insert_events_statement,
            (
                [
                    self.construct_pg_stored_event(
                        e.originator_id, e.originator_version, e.topic, e.state
                    )
                    for e in stored_events
                ],
            ),
        )

    def _chain(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        head: Link | None,
        newest: Cursor[DictRow],
    ) -> list[int]:
        by_key = {(e.originator_id, e.originator_version): e for e in stored_events}
        inserted = [
            (row["notification_id"], by_key[(row["originator_id"], row["originator_version"])])
            for row in curs.fetchall()
        ]
        if len(inserted) != len(stored_events):
            raise ProgrammingError(
                f"inserted {len(inserted)} events, expected {len(stored_events)}"
            )
        before = newest.fetchone()
        refuse_unchained(head, before["max"] if before else None)
        links = extend(head, inserted)
        self._insert_links(curs, links)
        return [notification_id for notification_id, _ in inserted]

    def _insert_links(self, curs: Cursor[DictRow], links: list[Link]) -> None:
        curs.execute(
            self.insert_links_statement,
            # Three comma-joined strings, not three arrays: psycopg's pure-Python array
            # dumper escapes element by element and cost more than the hashing.
            (
                ",".join(str(link.notification_id) for link in links),
                ",".join(link.prev_hash for link in links),
                ",".join(link.hash for link in links),
            ),
        )

    @staticmethod
    def _link(row: DictRow | None) -> Link | None:
        if row is None:
            return None
        return Link(row["notification_id"], row["prev_hash"], row["hash"])

    # --- reads for rebuilding read models ---------------------------------------------------

    def select_histories(
        self, stop: int, topic_prefix: str, low: UUID | None = None, high: UUID | None = None
    ) -> Iterator[list[StoredEvent]]:
        """Each aggregate's events up to notification `stop` (those with low <= id < high),
        one aggregate at a time, in version order, streamed through a server-side cursor so
        memory stays flat."""
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{events} "
            "WHERE notification_id <= %s AND starts_with(topic, %s) "
            "AND originator_id >= %s AND (%s::uuid IS NULL OR originator_id < %s) "
            "ORDER BY originator_id, originator_version"
        ).format(
            schema=Identifier(self.datastore.schema), events=Identifier(self.events_table_name)
        )
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="rio_histories", row_factory=tuple_row) as curs,
        ):
            curs.itersize = 5000
            curs.execute(statement, (stop, topic_prefix, low or UUID(int=0), high, high))
            yield from histories(
                StoredEvent(
                    originator_id=row[0],
                    originator_version=row[1],
                    topic=row[2],
                    state=bytes(row[3]),
                )
                for row in curs
            )

    # --- reads and the migration, for rio.audit ---------------------------------------------

    def chain_head(self) -> Link | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_head_statement)
            return self._link(curs.fetchone())

    def select_links(self, start: int, limit: int, stop: int | None = None) -> list[Link]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.select_links_statement,
                (start, stop if stop is not None else 2**63 - 1, limit),
            )
            return [Link(r["notification_id"], r["prev_hash"], r["hash"]) for r in curs.fetchall()]

    def link_at(self, notification_id: int) -> Link | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_link_statement, (notification_id,))
            return self._link(curs.fetchone())

    def count_links(self, stop: int) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.count_links_statement, (stop,))
            row = curs.fetchone()
            return int(row["n"]) if row else 0

    def chain_unchained(self) -> tuple[int, Link | None]:
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            curs.execute(self.select_head_statement)
            head = self._link(curs.fetchone())
            chained = 0
            while True:
                curs.execute(
                    self.select_unchained_statement,
                    (head.notification_id if head else 0, PAGE),
                )
                rows = curs.fetchall()
                links = extend(
                    head,
                    [
                        (
                            row["notification_id"],
                            StoredEvent(
                                originator_id=row["originator_id"],
                                originator_version=row["originator_version"],
                                topic=row["topic"],
                                state=bytes(row["state"]),
                            ),
                        )
                        for row in rows
                    ],
                )
                if links:
                    self._insert_links(curs, links)
                    chained += len(links)
                    head = links[-1]
                if len(rows) < PAGE:
                    return chained, head


class ChainedPostgresFactory(PostgresFactory):
    application_recorder_class = ChainedPostgresApplicationRecorder

    def application_recorder(self) -> ApplicationRecorder:
        if self.env.get(self.APPLICATION_RECORDER_TOPIC):
            raise OSError(
                f"{self.APPLICATION_RECORDER_TOPIC} would bypass RIO's hash chain: unset it"
            )
        return super().application_recorder()
