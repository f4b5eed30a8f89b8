"""Shared fixtures: every store-facing test runs on SQLite and on PostgreSQL.

PostgreSQL tests skip, saying why, when no server answers at RIO_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test); with CI set they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rio.application.service import RIO

POSTGRES_URL = os.environ.get("RIO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
MESSENGER = REPO / "scenarios" / "messenger-review.yaml"


def _postgres_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why not."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.split("?")[0], connect_timeout=3):
            return None
    except Exception as error:  # any failure to connect is a reason to skip
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {error}"


_PG_REASON = _postgres_reason()


def require_postgres() -> None:
    if _PG_REASON is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {_PG_REASON}")
        pytest.skip(_PG_REASON)


@contextmanager
def postgres_schema(prefix: str = "rio_test") -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema, dropped afterwards."""
    require_postgres()
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema per test, dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rio.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty store, once for each backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def rio(database_url: str) -> Iterator[RIO]:
    app = RIO(database_url)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def memory_rio(tmp_path: Path) -> Iterator[RIO]:
    """A SQLite store for tests about the domain rather than the store."""
    app = RIO(f"sqlite:///{tmp_path / 'domain.db'}")
    try:
        yield app
    finally:
        app.close()
