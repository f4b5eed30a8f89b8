"""eventsourcing's SQLite application recorder, with each event's chain link written in the
same transaction as the event.

Selected by `PERSISTENCE_MODULE=rio.persistence.sqlite:ChainedSQLiteFactory` (see url.py).
eventsourcing's own `stored_events` table is untouched; links go in `stored_events_chain`,
and the receipts of keyed requests (rio.persistence.receipts) in `stored_events_receipts`.
"""

from __future__ import annotations

import re
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

from rio.persistence.bulk import Insert
from rio.persistence.chain import (
    Leaf,
    Link,
    extend,
    hyphenated,
    refuse_noncanonical,
    refuse_unchained,
    tagged,
    tagged_state,
)
from rio.persistence.histories import histories
from rio.persistence.merkle_sqlite import SQLiteTree
from rio.persistence.receipts import Receipt, receipt_to_write

PAGE = 1000
_HEX32 = re.compile(rb"[0-9a-f]{32}")

# Each column's storage class and exact bytes: SQLite keeps whatever class a value was
# written with, so a value is read as stored, never as Python would convert it.
_LEAF_COLUMNS = ", ".join(
    f"typeof({column}), CAST({column} AS BLOB)"
    for column in ("originator_id", "originator_version", "topic", "state")
)
_LINK_COLUMNS = "notification_id, " + ", ".join(
    f"typeof({column}), CAST({column} AS BLOB)" for column in ("prev_hash", "hash")
)


class ChainedSQLiteApplicationRecorder(SQLiteTree, SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.chain_table_name = f"{events_table_name}_chain"
        self.merkle_table_name = f"{events_table_name}_merkle"
        self.cosignatures_table_name = f"{events_table_name}_cosignatures"
        self.receipts_table_name = f"{events_table_name}_receipts"
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} ("
            "notification_id INTEGER PRIMARY KEY, "
            "prev_hash TEXT NOT NULL, "
            "hash TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.receipts_table_name} ("
            "holder TEXT NOT NULL, "
            "key TEXT NOT NULL, "
            "request_hash TEXT NOT NULL, "
            "result TEXT NOT NULL, "
            "PRIMARY KEY (holder, key)) WITHOUT ROWID",
            *self.tree_create_statements(),
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The INSERT comes first so this transaction holds SQLite's write lock before it
        # reads the chain's head: no other writer can move the head under it.
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            self._chain(c, list(zip(ids, stored_events, strict=True)))
        receipt = receipt_to_write(kwargs)
        if receipt is not None:
            # A second receipt for one key fails the primary key: the events go with it.
            c.execute(
                f"INSERT INTO {self.receipts_table_name} VALUES (?, ?, ?, ?)",
                (receipt.holder, receipt.key, receipt.request_hash, receipt.result),
            )
        return ids

    @contextmanager
    def inserting(self) -> Iterator[Insert]:
        """One transaction for several inserts (rio.persistence.bulk)."""
        with self.datastore.transaction(commit=True) as c:

            def insert(stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
                self._insert_events(c, stored_events, **kwargs)

            yield insert

    def _chain(self, c: SQLiteCursor, events: list[tuple[int, StoredEvent]]) -> None:
        head = self._chain_head(c)
        first = min(notification_id for notification_id, _ in events)
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name} WHERE rowid < ?", (first,))
        refuse_unchained(head, c.fetchone()[0])
        leaves: list[bytes] = []
        links = extend(head, events, leaves)
        self._insert_links(c, links)
        self._grow_tree(c, head, links, leaves)

    def _insert_links(self, c: SQLiteCursor, links: list[Link]) -> None:
        c.executemany(
            f"INSERT INTO {self.chain_table_name} VALUES (?, ?, ?)",
            [(link.notification_id, link.prev_hash, link.hash) for link in links],
        )

    def _chain_head(self, c: SQLiteCursor) -> Link | None:
        c.execute(
            f"SELECT {_LINK_COLUMNS} FROM {self.chain_table_name} "
            "ORDER BY notification_id DESC LIMIT 1"
        )
        row = c.fetchone()
        return _link(row) if row else None

    def _select_leaves(self, c: SQLiteCursor, start: int, limit: int, stop: int) -> list[Leaf]:
        c.execute(
            f"SELECT rowid, {_LEAF_COLUMNS} FROM {self.events_table_name} "
            "WHERE rowid >= ? AND rowid <= ? ORDER BY rowid LIMIT ?",
            (start, stop, limit),
        )
        return [_leaf(tuple(row)) for row in c.fetchall()]

    def select_receipt(self, holder: str, key: str) -> Receipt | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT request_hash, result FROM {self.receipts_table_name} "
                "WHERE holder = ? AND key = ?",
                (holder, key),
            )
            row = c.fetchone()
        return None if row is None else Receipt(holder, key, row[0], row[1])

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

    def select_leaves(self, start: int, limit: int, stop: int) -> list[Leaf]:
        with self.datastore.transaction(commit=False) as c:
            return self._select_leaves(c, start, limit, stop)

    def select_links(self, start: int, limit: int, stop: int | None = None) -> list[Link]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {_LINK_COLUMNS} FROM {self.chain_table_name} "
                "WHERE notification_id >= ? AND notification_id <= ? "
                "ORDER BY notification_id LIMIT ?",
                (start, stop if stop is not None else 2**63 - 1, limit),
            )
            return [_link(tuple(row)) for row in c.fetchall()]

    def link_at(self, notification_id: int) -> Link | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {_LINK_COLUMNS} FROM {self.chain_table_name} WHERE notification_id = ?",
                (notification_id,),
            )
            row = c.fetchone()
            return _link(tuple(row)) if row else None

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
                start = (head.notification_id if head else 0) + 1
                leaves = self._select_leaves(c, start, PAGE, 2**63 - 1)
                refuse_noncanonical(leaves)
                links = extend(head, [(leaf.notification_id, leaf) for leaf in leaves])
                self._insert_links(c, links)
                chained += len(links)
                if links:
                    head = links[-1]
                if len(leaves) < PAGE:
                    self._backfill_tree(c, self._select_leaves, PAGE)
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


def _text(storage: str, raw: bytes | None) -> str:
    if storage == "text" and raw is not None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return tagged(storage, raw)


def _leaf(row: tuple[Any, ...]) -> Leaf:
    """One event row as the chain hashes it; see rio.persistence.chain for the forms."""
    n, id_class, id_raw, version_class, version_raw, topic_class, topic_raw = row[:7]
    state_class, state_raw = row[7:]
    canonical_id = id_class == "text" and _HEX32.fullmatch(id_raw)
    return Leaf(
        notification_id=n,
        originator_id=hyphenated(id_raw.decode("ascii"))
        if canonical_id
        else tagged(id_class, id_raw),
        originator_version=int(version_raw)
        if version_class == "integer"
        else tagged(version_class, version_raw),
        topic=_text(topic_class, topic_raw),
        state=state_raw if state_class == "blob" else tagged_state(state_class, state_raw),
    )


def _link(row: tuple[Any, ...]) -> Link:
    return Link(row[0], _text(row[1], row[2]), _text(row[3], row[4]))


class ChainedSQLiteFactory(SQLiteFactory):
    application_recorder_class = ChainedSQLiteApplicationRecorder

    def application_recorder(self) -> ApplicationRecorder:
        if self.env.get(self.APPLICATION_RECORDER_TOPIC):
            raise OSError(
                f"{self.APPLICATION_RECORDER_TOPIC} would bypass RIO's hash chain: unset it"
            )
        return super().application_recorder()
