"""Fresh stores for tests that make many of their own (hypothesis examples, state machines),
where a function-scoped fixture would be shared across examples."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from rio.application.service import RIO
from tests.conftest import postgres_schema

BACKENDS = ("sqlite", "postgres")


@contextmanager
def fresh_url(backend: str) -> Iterator[str]:
    """The URL of an empty store on `backend`, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/rio.db"
        return
    with postgres_schema("rio_prop") as url:
        yield url


@contextmanager
def fresh_store(backend: str) -> Iterator[RIO]:
    """An empty store per hypothesis example (function-scoped fixtures are shared across them)."""
    with fresh_url(backend) as url:
        app = RIO(url)
        try:
            yield app
        finally:
            app.close()
