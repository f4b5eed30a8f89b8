"""eventsourcing's PostgreSQL application recorder, with each event's chain link written in
the same transaction as the event.

Selected by `PERSISTENCE_MODULE=rio.persistence.postgres:ChainedPostgresFactory` (see
rio/persistence/url.py). eventsourcing's own events table is untouched; links go in
`<events table>_chain` in the same schema, and the receipts of keyed requests
(rio.persistence.receipts) in `<events table>_receipts`. The EXCLUSIVE lock eventsourcing
takes on the events table to serialise notification ids also serialises the chain: the head
is read after the lock, so two writers can never link to the same predecessor.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
from psycopg.errors import DuplicateObject
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from rio.persistence.bulk import Insert
from rio.persistence.chain import Leaf, Link, extend, refuse_noncanonical, refuse_unchained
from rio.persistence.histories import histories
from rio.persistence.merkle_postgres import PostgresTree
from rio.persistence.receipts import Receipt, receipt_to_write

PAGE = 1000
BULK_IDLE_TIMEOUT = SQL("SET LOCAL idle_in_transaction_session_timeout = '5min'")


class ChainedPostgresApplicationRecorder(PostgresTree, PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            raise ProgrammingError(
                "POSTGRES_ENABLE_DB_FUNCTIONS inserts events without RIO's hash chain: unset it"
            )
        self.chain_table_name = f"{events_table_name}_chain"
        self.check_identifier_length(self.chain_table_name)
        self.receipts_table_name = f"{events_table_name}_receipts"
        self.check_identifier_length(self.receipts_table_name)
        self.merkle_table_name = f"{events_table_name}_merkle"
        self.check_identifier_length(self.merkle_table_name)
        self.cosignatures_table_name = f"{events_table_name}_cosignatures"
        self.check_identifier_length(self.cosignatures_table_name)
        self.sql_create_statements.extend(self.tree_statements())
        receipts = Identifier(self.receipts_table_name)
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
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{receipts} ("
                "holder text NOT NULL, "
                "key text NOT NULL, "
                "request_hash text NOT NULL, "
                "result text NOT NULL, "
                "PRIMARY KEY (holder, key))"
            ).format(schema=schema, receipts=receipts)
        )
        self.insert_receipt_statement = SQL(
            "INSERT INTO {schema}.{receipts} (holder, key, request_hash, result) "
            "VALUES (%s, %s, %s, %s)"
        ).format(schema=schema, receipts=receipts)
        self.select_receipt_statement = SQL(
            "SELECT request_hash, result FROM {schema}.{receipts} WHERE holder = %s AND key = %s"
        ).format(schema=schema, receipts=receipts)
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
        self.select_leaves_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{events} WHERE notification_id >= %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, events=events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def create_table(self) -> None:
        """Create the tables under a lock, so processes starting together take turns:
        eventsourcing's CREATE OR REPLACE FUNCTION and CREATE TYPE fail ("tuple concurrently
        updated") when two processes run them at once.

        The lock is a transaction lock taken in the one transaction that creates everything,
        on its one connection: a lock held on a connection of its own made a pool of one
        connection (POSTGRES_POOL_SIZE=1, POSTGRES_MAX_OVERFLOW=0) wait for itself forever.
        """
        key = zlib.crc32(f"rio:create_table:{self.datastore.schema}".encode())
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():
                    # A type has no IF NOT EXISTS (as in eventsourcing's own create_table);
                    # the savepoint keeps "already exists" from aborting the transaction.
                    with contextlib.suppress(DuplicateObject), conn.transaction():
                        curs.execute(statement, prepare=False)
            self._create_table(curs)
        self.datastore.register_type_adapters()

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """eventsourcing's pipelined insert, plus the chain and any receipt, in one transaction.

        After the table lock the pipeline also reads the newest event id and the chain's
        head, so chaining costs no extra round trip before the insert's own sync.
        """
        with self.datastore.get_connection() as conn:
            return self._insert_on(conn, stored_events, **kwargs)

    @contextmanager
    def inserting(self) -> Iterator[Insert]:
        """One transaction for several inserts (rio.persistence.bulk): each insert runs in a
        savepoint of it, as `insert_events` runs in a transaction of its own."""
        with self.datastore.get_connection() as conn, conn.transaction():
            # eventsourcing ends a session idle in a transaction after 5 s: here the load
            # plans its next chunk between inserts, which may take longer on a busy machine.
            conn.execute(BULK_IDLE_TIMEOUT)

            def insert(stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
                self._insert_on(conn, stored_events, **kwargs)

            yield insert

    def _insert_on(
        self, conn: psycopg.Connection[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> list[int] | None:
        exc: Exception | None = None
        notification_ids: list[int] | None = None
        receipt = receipt_to_write(kwargs)
        with conn.pipeline() as pipeline, conn.transaction():
            with conn.cursor() as curs:
                self._insert_events(curs, stored_events, **kwargs)
            if stored_events or receipt is not None:
                with (
                    conn.cursor() as curs,
                    conn.cursor() as head,
                    conn.cursor() as newest,
                    conn.cursor() as kept,
                    conn.cursor() as tree,
                ):
                    try:
                        if stored_events:
                            self._lock_table(curs)
                            self._notify_channel(curs)
                            newest.execute(self.select_newest_statement, prepare=True)
                            head.execute(self.select_head_statement, prepare=True)
                            tree.execute(self.select_frontier_statement, prepare=True)
                            self._insert_pg_events(curs, stored_events)
                        if receipt is not None:
                            # A second receipt for one key fails the primary key at the
                            # sync below, and the events are rolled back with it.
                            self._insert_receipt(kept, receipt)
                        pipeline.sync()
                        if stored_events:
                            notification_ids = self._chain(
                                curs, stored_events, self._link(head.fetchone()), newest, tree
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

    def _insert_receipt(self, curs: Cursor[DictRow], receipt: Receipt) -> None:
        curs.execute(
            self.insert_receipt_statement,
            (receipt.holder, receipt.key, receipt.request_hash, receipt.result),
            prepare=True,
        )

    def select_receipt(self, holder: str, key: str) -> Receipt | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_receipt_statement, (holder, key), prepare=True)
            row = curs.fetchone()
        return None if row is None else Receipt(holder, key, row["request_hash"], row["result"])

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
        tree: Cursor[DictRow],
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
        leaves: list[bytes] = []
        links = extend(head, inserted, leaves)
        self._insert_links(curs, links)
        self._grow_tree(curs, tree.fetchall(), head, links, leaves)
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
        memory stays flat, however long the caller takes over each."""
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
            # The reader idles in its transaction while the rebuild folds and writes what it
            # read; eventsourcing ends any session idle in a transaction for 5 s (by default),
            # which cut long rebuilds off. This transaction alone is exempt.
            conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
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

    def select_leaves(self, start: int, limit: int, stop: int) -> list[Leaf]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return self._select_leaves(curs, start, limit, stop)

    def _select_leaves(
        self, curs: Cursor[DictRow], start: int, limit: int, stop: int
    ) -> list[Leaf]:
        """Rows as stored: PostgreSQL's uuid, bigint and bytea columns hold one form of each
        value, so the canonical text of each is a function of its stored bytes."""
        curs.execute(self.select_leaves_statement, (start, stop, limit))
        return [
            Leaf(
                row["notification_id"],
                str(row["originator_id"]),
                row["originator_version"],
                row["topic"],
                bytes(row["state"]),
            )
            for row in curs.fetchall()
        ]

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
                start = (head.notification_id if head else 0) + 1
                leaves = self._select_leaves(curs, start, PAGE, 2**63 - 1)
                refuse_noncanonical(leaves)
                links = extend(head, [(leaf.notification_id, leaf) for leaf in leaves])
                if links:
                    self._insert_links(curs, links)
                    chained += len(links)
                    head = links[-1]
                if len(leaves) < PAGE:
                    self._backfill_tree(curs, self._select_leaves, PAGE)
                    return chained, head


class ChainedPostgresFactory(PostgresFactory):
    application_recorder_class = ChainedPostgresApplicationRecorder

    def application_recorder(self) -> ApplicationRecorder:
        if self.env.get(self.APPLICATION_RECORDER_TOPIC):
            raise OSError(
                f"{self.APPLICATION_RECORDER_TOPIC} would bypass RIO's hash chain: unset it"
            )
        return super().application_recorder()
