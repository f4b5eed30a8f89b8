"""The Merkle tree's rows and witnesses' cosignatures on SQLite, written by the chained
recorder (rio.persistence.sqlite) in the transaction that records the events.

`<events>_merkle` holds one row per leaf (see rio.persistence.merkle for what a row holds);
`<events>_cosignatures` the witness signature lines RIO accepted, by checkpoint.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore

from rio.persistence.chain import ChainError, Link, encoding
from rio.persistence.merkle import Row, append, frontier_rows, leaf_hash


def refuse_untreed(head: Link | None, tail_notification_id: int | None) -> None:
    """New leaves on a tree that does not cover the chain would misplace every one of them."""
    chained = head.notification_id if head else None
    if chained != tail_notification_id:
        raise ChainError(
            f"the hash chain ends at notification {chained or 0} but the Merkle tree ends at "
            f"{tail_notification_id or 0}: run `rio audit chain` once to build the tree over "
            "the chain (or `rio audit verify` if the tree's table was edited)"
        )


class SQLiteTree:
    """Mixed into the chained SQLite recorder: its tree and cosignature tables."""

    datastore: SQLiteDatastore
    events_table_name: str
    merkle_table_name: str
    cosignatures_table_name: str

    def tree_create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.merkle_table_name} ("
            "leaf INTEGER PRIMARY KEY, "
            "notification_id INTEGER NOT NULL UNIQUE, "
            "hashes BLOB NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.cosignatures_table_name} ("
            "size INTEGER NOT NULL, "
            "root_hash BLOB NOT NULL, "
            "line TEXT NOT NULL, "
            "PRIMARY KEY (size, root_hash, line)) WITHOUT ROWID",
        ]

    def _tree_tail(self, c: SQLiteCursor) -> tuple[int, int | None]:
        c.execute(
            f"SELECT leaf, notification_id FROM {self.merkle_table_name} ORDER BY leaf DESC LIMIT 1"
        )
        row = c.fetchone()
        return (0, None) if row is None else (int(row[0]) + 1, int(row[1]))

    def _tree_rows(self, c: SQLiteCursor, rows: Collection[int]) -> dict[int, bytes]:
        if not rows:
            return {}
        wanted = sorted(rows)
        c.execute(
            f"SELECT leaf, hashes FROM {self.merkle_table_name} "
            f"WHERE leaf IN ({', '.join('?' * len(wanted))})",
            wanted,
        )
        return {int(row[0]): bytes(row[1]) for row in c.fetchall()}

    def _grow_tree(
        self, c: SQLiteCursor, head: Link | None, links: Sequence[Link], leaves: Sequence[bytes]
    ) -> None:
        """Append the leaves of `links` (just chained after `head`) to the tree."""
        size, tail = self._tree_tail(c)
        refuse_untreed(head, tail)
        frontier = self._tree_rows(c, [row for _, row in frontier_rows(size)])
        self._insert_rows(
            c,
            append(
                size, frontier, zip((link.notification_id for link in links), leaves, strict=True)
            ),
        )

    def _insert_rows(self, c: SQLiteCursor, rows: list[Row]) -> None:
        c.executemany(f"INSERT INTO {self.merkle_table_name} VALUES (?, ?, ?)", rows)

    def _backfill_tree(self, c: SQLiteCursor, select_leaves: Any, page: int) -> int:
        """Build the tree over chained events that have no leaf yet (a store from before the
        tree): inside the migration's write transaction, so all of it or none."""
        size, tail = self._tree_tail(c)
        added = 0
        start = (tail or 0) + 1
        while True:
            leaves = select_leaves(c, start, page, 2**63 - 1)
            if not leaves:
                return added
            frontier = self._tree_rows(c, [row for _, row in frontier_rows(size)])
            rows = append(
                size,
                frontier,
                (
                    (leaf.notification_id, leaf_hash(encoding(leaf.notification_id, leaf)))
                    for leaf in leaves
                ),
            )
            self._insert_rows(c, rows)
            size += len(rows)
            added += len(rows)
            start = leaves[-1].notification_id + 1

    # --- reads for rio.audit -----------------------------------------------------------------

    def tree_tail(self) -> tuple[int, int | None]:
        with self.datastore.transaction(commit=False) as c:
            return self._tree_tail(c)

    def tree_rows(self, rows: Collection[int]) -> dict[int, bytes]:
        with self.datastore.transaction(commit=False) as c:
            return self._tree_rows(c, rows)

    def select_tree_rows(self, start: int, limit: int) -> list[Row]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT leaf, notification_id, hashes FROM {self.merkle_table_name} "
                "WHERE leaf >= ? ORDER BY leaf LIMIT ?",
                (start, limit),
            )
            return [Row(int(r[0]), int(r[1]), bytes(r[2])) for r in c.fetchall()]

    def tree_leaf(self, notification_id: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT leaf FROM {self.merkle_table_name} WHERE notification_id = ?",
                (notification_id,),
            )
            row = c.fetchone()
        return None if row is None else int(row[0])

    def notification_of(self, originator_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name} "
                "WHERE originator_id = ? AND originator_version = ?",
                (originator_id.hex, version),
            )
            row = c.fetchone()
        return None if row is None else int(row[0])

    def add_cosignature(self, size: int, root_hash: bytes, line: str) -> bool:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT OR IGNORE INTO {self.cosignatures_table_name} VALUES (?, ?, ?)",
                (size, root_hash, line),
            )
            return bool(c.sqlite_cursor.rowcount)

    def cosignatures(self, size: int, root_hash: bytes) -> list[str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT line FROM {self.cosignatures_table_name} "
                "WHERE size = ? AND root_hash = ? ORDER BY line",
                (size, root_hash),
            )
            return [str(row[0]) for row in c.fetchall()]
