"""The SQLAlchemy engine on RIO's store, configured so that writers serialise on SQLite."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine


def sqlalchemy_url(database_url: str) -> tuple[str, str | None]:
    """RIO's store URL as SQLAlchemy's, and the PostgreSQL schema it names (if any)."""
    parts = urlsplit(database_url)
    if parts.scheme.startswith("sqlite"):
        return database_url, None
    schema = parse_qs(parts.query).get("schema", [None])[0]
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, "", "")), schema


def make_engine(database_url: str) -> Engine:
    url, schema = sqlalchemy_url(database_url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            # A writer takes the lock at the start, so two projectors serialise instead of
            # racing; readers never wait for it.
            writing = connection.get_execution_options().get("rio_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

        return engine
    engine = sa.create_engine(url, pool_pre_ping=True)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine
