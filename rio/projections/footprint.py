"""How many bytes the read model takes beside the event store it is built from.

The read model must grow linearly with the events (not with their square, as it did when
every version copied a recommendation's notes), so its size is measured against the event
store's in `bench/growth.py` and bounded as a ratio in tests/store/test_read_model_growth.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine

from rio.projections.tables import metadata


@dataclass(frozen=True)
class Footprint:
    """Bytes on disk per table, indexes (and PostgreSQL's TOAST) included."""

    tables: dict[str, int]

    @property
    def read_model(self) -> int:
        return sum(size for name, size in self.tables.items() if name in metadata.tables)

    @property
    def event_store(self) -> int:
        """Everything else in the store: the events, their hash chain, request receipts."""
        return sum(size for name, size in self.tables.items() if name not in metadata.tables)

    @property
    def ratio(self) -> float:
        return self.read_model / self.event_store


def footprint(engine: Engine) -> Footprint:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return Footprint(_postgres(conn))
        return Footprint(_sqlite(conn))


def _sqlite(conn: Connection) -> dict[str, int]:
    """Pages per table and its indexes, from SQLite's dbstat table."""
    owner: dict[str, str] = dict(
        conn.exec_driver_sql(
            "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"
        ).all()
    )
    try:
        pages = conn.exec_driver_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").all()
    except Exception as error:  # the driver's own error type: dbstat is a compile-time option
        raise RuntimeError(
            f"this SQLite was built without the dbstat table, so sizes cannot be measured: {error}"
        ) from None
    sizes: dict[str, int] = {}
    for name, size in pages:
        table = owner.get(name)
        if table is not None and not table.startswith("sqlite_"):
            sizes[table] = sizes.get(table, 0) + int(size)
    return sizes


def _postgres(conn: Connection) -> dict[str, int]:
    """pg_total_relation_size of each table in the store's schema."""
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    rows = conn.exec_driver_sql(
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname = COALESCE(%(schema)s, current_schema())",
        {"schema": schema},
    ).all()
    return {str(name): int(size) for name, size in rows}
