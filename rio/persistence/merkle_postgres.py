"""The Merkle tree's rows and witnesses' cosignatures on PostgreSQL, written by the chained
recorder (rio.persistence.postgres) in the transaction that records the events.

The tree's tail and its frontier come back from one statement, queued in the insert's
pipeline beside the chain's head, so growing the tree costs no extra round trip before the
insert's sync (see rio.persistence.merkle for what a row holds).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from rio.persistence.chain import Link, encoding
from rio.persistence.merkle import Row, append, frontier_rows, leaf_hash
from rio.persistence.merkle_sqlite import refuse_untreed


class PostgresTree:
    """Mixed into the chained PostgreSQL recorder: its tree and cosignature tables."""

    datastore: PostgresDatastore
    events_table_name: str
    merkle_table_name: str
    cosignatures_table_name: str

    def tree_statements(self) -> list[Composed]:
        """The CREATE statements; also prepares the statements the tree runs."""
        schema = Identifier(self.datastore.schema)
        merkle = Identifier(self.merkle_table_name)
        cosignatures = Identifier(self.cosignatures_table_name)
        self.select_frontier_statement = SQL(
            "WITH t AS (SELECT leaf, notification_id FROM {schema}.{merkle} "
            "ORDER BY leaf DESC LIMIT 1) "
            "SELECT t.leaf AS tail, t.notification_id AS tail_id, m.leaf, m.hashes "
            "FROM t LEFT JOIN generate_series(0, 62) AS l ON ((t.leaf + 1) >> l) & 1 = 1 "
            "LEFT JOIN {schema}.{merkle} m ON m.leaf = (((t.leaf + 1) >> l) << l) - 1"
        ).format(schema=schema, merkle=merkle)
        self.insert_tree_statement = SQL(
            "INSERT INTO {schema}.{merkle} (leaf, notification_id, hashes) "
            "SELECT l, n, decode(h, 'hex') FROM unnest(string_to_array(%s, ',')::bigint[], "
            "string_to_array(%s, ',')::bigint[], string_to_array(%s, ',')) AS u(l, n, h)"
        ).format(schema=schema, merkle=merkle)
        self.select_tree_rows_statement = SQL(
            "SELECT leaf, hashes FROM {schema}.{merkle} WHERE leaf = ANY(%s::bigint[])"
        ).format(schema=schema, merkle=merkle)
        self.select_tree_leaf_statement = SQL(
            "SELECT leaf FROM {schema}.{merkle} WHERE notification_id = %s"
        ).format(schema=schema, merkle=merkle)
        self.insert_cosignature_statement = SQL(
            "INSERT INTO {schema}.{cosignatures} (size, root_hash, line) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING"
        ).format(schema=schema, cosignatures=cosignatures)
        self.select_cosignatures_statement = SQL(
            "SELECT line FROM {schema}.{cosignatures} WHERE size = %s AND root_hash = %s "
            "ORDER BY line"
        ).format(schema=schema, cosignatures=cosignatures)
        return [
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{merkle} ("
                "leaf bigint PRIMARY KEY, "
                "notification_id bigint NOT NULL UNIQUE, "
                "hashes bytea NOT NULL)"
            ).format(schema=schema, merkle=merkle),
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{cosignatures} ("
                "size bigint NOT NULL, "
                "root_hash bytea NOT NULL, "
                "line text NOT NULL, "
                "PRIMARY KEY (size, root_hash, line))"
            ).format(schema=schema, cosignatures=cosignatures),
        ]

    @staticmethod
    def _frontier(rows: Sequence[DictRow]) -> tuple[int, int | None, dict[int, bytes]]:
        if not rows:
            return 0, None, {}
        first = rows[0]
        frontier = {
            int(row["leaf"]): bytes(row["hashes"]) for row in rows if row["leaf"] is not None
        }
        return int(first["tail"]) + 1, int(first["tail_id"]), frontier

    def _grow_tree(
        self,
        curs: Cursor[DictRow],
        frontier_rows_read: Sequence[DictRow],
        head: Link | None,
        links: Sequence[Link],
        leaves: Sequence[bytes],
    ) -> None:
        size, tail, frontier = self._frontier(frontier_rows_read)
        refuse_untreed(head, tail)
        self._insert_tree_rows(
            curs,
            append(
                size, frontier, zip((link.notification_id for link in links), leaves, strict=True)
            ),
        )

    def _insert_tree_rows(self, curs: Cursor[Any], rows: list[Row]) -> None:
        curs.execute(
            self.insert_tree_statement,
            # Comma-joined text, as the chain's links: psycopg's array dumpers cost more.
            (
                ",".join(str(r.leaf) for r in rows),
                ",".join(str(r.notification_id) for r in rows),
                ",".join(r.hashes.hex() for r in rows),
            ),
        )

    def _backfill_tree(self, curs: Cursor[DictRow], select_leaves: Any, page: int) -> int:
        """Build the tree over chained events that have no leaf yet (a store from before the
        tree): inside the migration's transaction, so all of it or none."""
        curs.execute(self.select_frontier_statement)
        size, tail, frontier = self._frontier(curs.fetchall())
        added = 0
        start = (tail or 0) + 1
        while True:
            leaves = select_leaves(curs, start, page, 2**63 - 1)
            if not leaves:
                return added
            rows = append(
                size,
                frontier,
                (
                    (leaf.notification_id, leaf_hash(encoding(leaf.notification_id, leaf)))
                    for leaf in leaves
                ),
            )
            self._insert_tree_rows(curs, rows)
            size += len(rows)
            added += len(rows)
            start = leaves[-1].notification_id + 1
            curs.execute(
                self.select_tree_rows_statement, ([row for _, row in frontier_rows(size)],)
            )
            frontier = {int(r["leaf"]): bytes(r["hashes"]) for r in curs.fetchall()}

    # --- reads for rio.audit -----------------------------------------------------------------

    def tree_tail(self) -> tuple[int, int | None]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_frontier_statement)
            size, tail, _ = self._frontier(curs.fetchall())
        return size, tail

    def tree_rows(self, rows: Collection[int]) -> dict[int, bytes]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_tree_rows_statement, (sorted(rows),))
            return {int(r["leaf"]): bytes(r["hashes"]) for r in curs.fetchall()}

    def select_tree_rows(self, start: int, limit: int) -> list[Row]:
        statement = SQL(
            "SELECT leaf, notification_id, hashes FROM {schema}.{merkle} WHERE leaf >= %s "
            "ORDER BY leaf LIMIT %s"
        ).format(
            schema=Identifier(self.datastore.schema), merkle=Identifier(self.merkle_table_name)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (start, limit))
            return [
                Row(int(r["leaf"]), int(r["notification_id"]), bytes(r["hashes"]))
                for r in curs.fetchall()
            ]

    def tree_leaf(self, notification_id: int) -> int | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_tree_leaf_statement, (notification_id,))
            row = curs.fetchone()
        return None if row is None else int(row["leaf"])

    def notification_of(self, originator_id: UUID, version: int) -> int | None:
        statement = SQL(
            "SELECT notification_id FROM {schema}.{events} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(
            schema=Identifier(self.datastore.schema), events=Identifier(self.events_table_name)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (originator_id, version))
            row = curs.fetchone()
        return None if row is None else int(row["notification_id"])

    def add_cosignature(self, size: int, root_hash: bytes, line: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.insert_cosignature_statement, (size, root_hash, line))
            return bool(curs.rowcount)

    def cosignatures(self, size: int, root_hash: bytes) -> list[str]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_cosignatures_statement, (size, root_hash))
            return [str(r["line"]) for r in curs.fetchall()]
