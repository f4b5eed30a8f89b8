"""Writing rows: a page of events' row changes worked out in memory, then written in a few
statements (COPY on PostgreSQL).

An event touches only the version rows that end after the last day it leaves as it was
(`Change.boundary`) and adds its own facts and day; only a correction compares them all.
"""

from __future__ import annotations

import bisect
import functools
import operator
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rio.aggregates.recommendation import Recommendation
from rio.projections import codec
from rio.projections.tables import (
    BITEMPORAL,
    VERSIONED,
    commitment_versions,
    days,
    facts,
    micros,
    recommendation_versions,
)
from rio.projections.timeline import Change, Item, Span, Timeline

Key = tuple[Any, ...]
Row = int | list[Any]  # a stored row's id, or a row this page inserts (`_COLUMNS` order)
_TIMES = {"row_id", "rec_id", "valid_from", "valid_to", "recorded_from", "recorded_to", "state"}


def content(table: sa.Table) -> tuple[str, ...]:
    """The columns that, with its times and state, say what a version row holds."""
    return tuple(c.name for c in table.columns if c.name not in _TIMES)


_CONTENT = {table.name: content(table) for table in VERSIONED}
# Each table has two or more content columns, so each getter gives a tuple.
_CONTENT_OF = {name: operator.itemgetter(*names) for name, names in _CONTENT.items()}
# What a row this page inserts holds, in order: every column but the row id, as the insert
# takes them, so each row is built once (not a dict, then a tuple for the driver).
_COLUMNS = {
    table.name: [c.name for c in table.columns if c.name != "row_id"] for table in BITEMPORAL
}
_RECORDED_TO = {name: columns.index("recorded_to") for name, columns in _COLUMNS.items()}
_FACT_KEY = ("kind", "phase", "version", "commitment", "valid_from", "state")


class OpenRows:
    """One recommendation's open rows of a version table, by the day they end, so that an
    event's changes are sought only among the rows it can change."""

    def __init__(self) -> None:
        self.by_end: dict[date | None, dict[Key, Row]] = {}
        self.ends: list[date] = []  # the days rows end on, sorted (None, still so, apart)

    def __contains__(self, key: Key) -> bool:
        return key in self.by_end.get(key[1], {})

    def add(self, key: Key, row: Row) -> None:
        end: date | None = key[1]
        if end not in self.by_end:
            self.by_end[end] = {}
            if end is not None:
                bisect.insort(self.ends, end)
        self.by_end[end][key] = row

    def pop(self, key: Key) -> Row:
        end: date | None = key[1]
        rows = self.by_end[end]
        row = rows.pop(key)
        if not rows:
            del self.by_end[end]
            if end is not None:
                del self.ends[bisect.bisect_left(self.ends, end)]
        return row

    def after(self, boundary: date | None) -> list[Key]:
        """The rows still so, or ending after `boundary` (every row when it is None)."""
        ends = (
            self.ends if boundary is None else self.ends[bisect.bisect_right(self.ends, boundary) :]
        )
        return [key for end in (None, *ends) for key in self.by_end.get(end, {})]


class PageWriter:
    """Applies a page of events' row changes in memory, then writes them in a few statements.

    `fresh`: the tables hold nothing yet for the recommendations it will see (a rebuild),
    so it knows every open row without loading any.
    """

    def __init__(self, fresh: bool = False) -> None:
        self.fresh = fresh
        self.versions: dict[tuple[str, str], OpenRows] = {}
        self.points: dict[tuple[str, str], dict[Key, Row]] = {}
        self.complete: set[str] = set()  # recommendations whose facts and days are all loaded
        self.retire: dict[str, list[dict[str, int]]] = {}
        self.insert: dict[str, list[list[Any]]] = {}
        self.rows = 0

    def load(
        self, conn: Connection, bounds: Mapping[str, date | None], complete: Iterable[str] = ()
    ) -> None:
        """Start from the open (still known) rows an event can change: for each
        recommendation, the version rows ending after its bound (all where it is None), and
        every fact and day of those in `complete` (the ones a correction will compare)."""
        ids = sorted(bounds)
        known = [b for b in bounds.values() if b is not None]
        boundary = min(known) if len(known) == len(bounds) and known else None
        for table in VERSIONED:
            for rec_id in ids:
                self.versions[(table.name, rec_id)] = OpenRows()
            query = _open_versions(table, bounded=boundary is not None)
            for chunk in _chunks(ids):
                for row in conn.execute(query, {"ids": chunk, "boundary": boundary}):
                    key = (row.valid_from, row.valid_to, row.state, *row[5:])
                    self.versions[(table.name, row.rec_id)].add(key, row.row_id)
        loaded = sorted(set(complete))
        for table, columns in ((facts, _FACT_KEY), (days, ("valid_from",))):
            for rec_id in loaded:
                self.points[(table.name, rec_id)] = {}
            query = sa.select(table.c.row_id, table.c.rec_id, *(table.c[n] for n in columns)).where(
                table.c.rec_id.in_(sa.bindparam("ids", expanding=True)),
                table.c.recorded_to.is_(None),
            )
            for chunk in _chunks(loaded):
                for row in conn.execute(query, {"ids": chunk}):
                    self.points[(table.name, row.rec_id)][tuple(row[2:])] = row.row_id
        self.complete.update(loaded)

    def add(self, line: Timeline, change: Change, event: Recommendation.Event) -> None:
        """The rows of `line` (its recommendation's timeline, `event` applied, which changed
        it as `change` says) from the event's recorded time."""
        recorded = micros(event.timestamp)
        rec_id = str(event.originator_id)
        for table, spans in (
            (recommendation_versions, line.recommendation_spans(change.first)),
            (commitment_versions, line.commitment_spans(change.first)),
        ):
            self._replace(table, rec_id, spans, change.boundary, recorded)
        if change.corrected:
            if not (self.fresh or rec_id in self.complete):
                raise RuntimeError(f"a correction of {rec_id} needs its facts loaded first")
            wanted = {_fact_key(item): item for item in line.all_items()}
            self._replace_points(facts, rec_id, wanted, recorded)
            self._replace_points(days, rec_id, {(d,): d for d in line.dates}, recorded)
            return
        for item in change.items:
            self._open_point(facts, rec_id, _fact_key(item), recorded)
        if change.new_day is not None:
            self._open_point(days, rec_id, (change.new_day,), recorded)

    def _replace(
        self,
        table: sa.Table,
        rec_id: str,
        spans: list[Span],
        boundary: date | None,
        recorded: int,
    ) -> None:
        """Retire the open rows after `boundary` that no longer hold; open the new ones."""
        current = self.versions.setdefault((table.name, rec_id), OpenRows())
        content = _CONTENT_OF[table.name]
        wanted: dict[Key, tuple[Any, ...]] = {}
        for span in spans:
            values = content(dict(span.columns))
            wanted[(span.valid_from, span.valid_to, span.state, *values)] = values
        for key in current.after(boundary):
            if key not in wanted:
                self._retire(table, current.pop(key), recorded)
        for key, values in wanted.items():
            if key in current:
                continue
            # rec_id, the content columns, then the times and the state (`_bitemporal`)
            row = [rec_id, *values, key[0], key[1], recorded, None, key[2]]
            current.add(key, row)
            self._insert(table, row)

    def _replace_points(
        self, table: sa.Table, rec_id: str, wanted: Mapping[Key, object], recorded: int
    ) -> None:
        current = self.points.setdefault((table.name, rec_id), {})
        for key in [k for k in current if k not in wanted]:
            self._retire(table, current.pop(key), recorded)
        for key in wanted:
            if key not in current:
                self._open_point(table, rec_id, key, recorded)

    def _open_point(self, table: sa.Table, rec_id: str, key: Key, recorded: int) -> None:
        columns = _FACT_KEY if table is facts else ("valid_from",)
        named = {"rec_id": rec_id, **dict(zip(columns, key, strict=True))}
        named.update(recorded_from=recorded, recorded_to=None)
        row = [named[c] for c in _COLUMNS[table.name]]
        self.points.setdefault((table.name, rec_id), {})[key] = row
        self._insert(table, row)

    def _retire(self, table: sa.Table, row: Row, recorded: int) -> None:
        if isinstance(row, list):
            row[_RECORDED_TO[table.name]] = recorded  # opened earlier in this page
        else:
            self.retire.setdefault(table.name, []).append({"rid": row, "rto": recorded})

    def _insert(self, table: sa.Table, row: list[Any]) -> None:
        self.insert.setdefault(table.name, []).append(row)
        self.rows += 1

    def flush(self, conn: Connection) -> None:
        for table in BITEMPORAL:
            retired = self.retire.get(table.name)
            if retired:
                conn.execute(
                    table.update()
                    .where(table.c.row_id == sa.bindparam("rid"))
                    .values(recorded_to=sa.bindparam("rto")),
                    retired,
                )
            new = self.insert.get(table.name)
            if new:
                insert_rows(conn, table, new)


@functools.cache
def _open_versions(table: sa.Table, bounded: bool) -> sa.Select[Any]:
    """The open rows of some recommendations (`ids`), or those of them ending after
    `boundary`: built once, as a page of one event costs less than building a statement."""
    query = sa.select(
        table.c.row_id,
        table.c.rec_id,
        table.c.valid_from,
        table.c.valid_to,
        table.c.state,
        *(table.c[n] for n in _CONTENT[table.name]),
    ).where(table.c.rec_id.in_(sa.bindparam("ids", expanding=True)), table.c.recorded_to.is_(None))
    if bounded:
        later = table.c.valid_to > sa.bindparam("boundary", type_=sa.Date)
        query = query.where(sa.or_(table.c.valid_to.is_(None), later))
    return query


def _fact_key(item: Item) -> Key:
    return (
        item.kind,
        item.phase,
        item.version,
        item.commitment,
        item.occurred,
        codec.dumps(item.value),
    )


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    return (ids[i : i + size] for i in range(0, len(ids), size))


def qualified(conn: Connection, table: sa.Table) -> str:
    """The table's name as raw SQL needs it: in the store's PostgreSQL schema, if it has one."""
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    return f'"{schema}".{table.name}' if schema else table.name


def insert_rows(conn: Connection, table: sa.Table, rows: list[list[Any]]) -> None:
    """Many rows at once through the driver: COPY on PostgreSQL, executemany on SQLite;
    each row holds every column but the row id, in the table's order (`_COLUMNS`).

    SQLAlchemy's per-row parameter processing cost more than SQLite's own insert did.
    """
    columns = _COLUMNS[table.name]
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        target = qualified(conn, table)
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    dates = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.Date)]
    for row in rows:  # SQLite's driver takes dates as the ISO text SQLAlchemy stores
        for i in dates:
            if row[i] is not None:
                row[i] = row[i].isoformat()
    cursor = conn.connection.cursor()  # the driver's own: it takes the rows as they are
    try:
        cursor.executemany(
            f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})", rows
        )
    finally:
        cursor.close()
