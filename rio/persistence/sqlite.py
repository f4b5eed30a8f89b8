"""eventsourcing's SQLite application recorder, with each event's chain link written in the
same transaction as the event.

Selected by `PERSISTENCE_MODULE=rio.persistence.sqlite:ChainedSQLiteFactory` (see url.py).
eventsourcing's own `stored_events` table is untouched; links go in `stored_events_chain`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
)

from rio.persistence.chain import Link, extend, refuse_unchained
from rio.persistence.histories import histories

PAGE = 1000


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.chain_table_name = f"{events_table_name}_chain"
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} ("
            "notification_id INTEGER PRIMARY KEY, "
            "prev_hash TEXT NOT NULL, "
            "hash TEXT NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The INSERT comes first so this transaction holds SQLite's write lock before it
        # reads the chain's head: no other writer can move the head under it.
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            self._chain(c, list(zip(ids, stored_events, strict=True)))
        return ids

    def _chain(self, c: SQLiteCursor, events: list[tuple[int, StoredEvent]]) -> None:
        head = self._chain_head(c)
        first = min(notification_id for notification_id, _ in events)
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name} WHERE rowid < ?", (first,))
        refuse_unchained(head, c.fetchone()[0])
        self._insert_links(c, extend(head, events))

    def _insert_links(self, c: SQLiteCursor, links: list[Link]) -> None:
        c.executemany(
            f"INSERT INTO {self.chain_table_name} VALUES (?, ?, ?)",
            [(link.notification_id, link.prev_hash, link.hash) for link in links],
        )

    def _chain_head(self, c: SQLiteCursor) -> Link | None:
        c.execute(f"SELECT * FROM {self.chain_table_name} ORDER BY notification_id DESC LIMIT 1")
        row = c.fetchone()
        return Link(row[0], row[1], row[2]) if row else None

    # --- reads for rebuilding read models ---------------------------------------------------

    def select_histories(
        self, stop: int, topic_prefix: str, low: UUID | None = None, high: UUID | None = None
    ) -> Iterator[list[StoredEvent]]:
        """Each aggregate's events up to notification `stop` (those with low <= id < high),
        one aggregate at a time, in version order: a read model can be rebuilt per
        aggregate, in one pass over the log."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE rowid <= ? AND topic >= ? AND topic < ? "
                "AND originator_id >= ? AND originator_id < ? "
                "ORDER BY originator_id, originator_version",
                (
                    stop,
                    topic_prefix,
                    topic_prefix + "\uffff",
                    low.hex if low else "",
                    high.hex if high else "g",  # above every hex digit
                ),
            )
            yield from histories(
                StoredEvent(
                    originator_id=self.convert_originator_id(row[0]),
                    originator_version=row[1],
                    topic=row[2],
                    state=row[3],
                )
                for row in c.sqlite_cursor
            )

    # --- reads and the migration, for rio.audit ---------------------------------------------

    def chain_head(self) -> Link | None:
        with self.datastore.transaction(commit=False) as c:
            return self._chain_head(c)

    def select_links(self, start: int, limit: int, stop: int | None = None) -> list[Link]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.chain_table_name} "
                "WHERE notification_id >= ? AND notification_id <= ? "
                "ORDER BY notification_id LIMIT ?",
                (start, stop if stop is not None else 2**63 - 1, limit),
            )
            return [Link(row[0], row[1], row[2]) for row in c.fetchall()]

    def link_at(self, notification_id: int) -> Link | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.chain_table_name} WHERE notification_id = ?",
                (notification_id,),
            )
            row = c.fetchone()
            return Link(row[0], row[1], row[2]) if row else None

    def count_links(self, stop: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT COUNT(*) FROM {self.chain_table_name} WHERE notification_id <= ?",
                (stop,),
            )
            return int(c.fetchone()[0])

    def chain_unchained(self) -> tuple[int, Link | None]:
        with self._write_transaction() as c:
            head = self._chain_head(c)
            chained = 0
            while True:
                c.execute(
                    f"SELECT rowid, * FROM {self.events_table_name} "
                    "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    (head.notification_id if head else 0, PAGE),
                )
                rows = c.fetchall()
                links = extend(
                    head,
                    [
                        (
                            row["rowid"],
                            StoredEvent(
                                originator_id=self.convert_originator_id(row["originator_id"]),
                                originator_version=row["originator_version"],
                                topic=row["topic"],
                                state=row["state"],
                            ),
                        )
                        for row in rows
                    ],
                )
                self._insert_links(c, links)
                chained += len(links)
                if links:
                    head = links[-1]
                if len(rows) < PAGE:
                    return chained, head

    @contextmanager
    def _write_transaction(self) -> Iterator[SQLiteCursor]:
        """BEGIN IMMEDIATE: take the write lock before reading, so nothing is appended meanwhile."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            conn.commit()


class ChainedSQLiteFactory(SQLiteFactory):
    application_recorder_class = ChainedSQLiteApplicationRecorder

    def application_recorder(self) -> ApplicationRecorder:
        if self.env.get(self.APPLICATION_RECORDER_TOPIC):
            raise OSError(
                f"{self.APPLICATION_RECORDER_TOPIC} would bypass RIO's hash chain: unset it"
            )
        return super().application_recorder()
