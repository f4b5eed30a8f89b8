"""eventsourcing's own reusable recorder tests, run against RIO's chained recorders.

The recorders are built exactly as RIO builds them: from `event_store_env(url)`, through
eventsourcing's factory, under RIO's application name. Each test ends by verifying the
hash chain over everything eventsourcing's test recorded, so "passes the contract" also
means "chained every event it accepted". On PostgreSQL they run once with the default pool
and once with a pool of one connection (eventsourcing's own datastore default), which used
to hang start-up in `create_table`.
"""

from __future__ import annotations

import unittest
from contextlib import ExitStack, closing
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import ClassVar

import pytest
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
)
from eventsourcing.utils import Environment

from rio.application.service import RIO
from rio.audit.verification import verify
from rio.persistence.chain import ChainedRecorder
from rio.persistence.url import event_store_env
from tests.conftest import postgres_schema

ONE_CONNECTION = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"}


class RIOStore(unittest.TestCase):
    """A fresh store per test, and RIO's recorders on it."""

    backend: ClassVar[str] = "sqlite"
    pool: ClassVar[dict[str, str]] = {}

    def setUp(self) -> None:
        super().setUp()
        self.resources = ExitStack()
        if self.backend == "postgres":
            self.url = self.resources.enter_context(postgres_schema("rio_contract"))
        else:
            folder = self.resources.enter_context(TemporaryDirectory())
            self.url = f"sqlite:///{Path(folder) / 'rio.db'}"

    def create_recorder(self) -> ApplicationRecorder:
        env = Environment(RIO.name, {**event_store_env(self.url), **self.pool})
        factory = InfrastructureFactory.construct(env)
        self.resources.callback(factory.close)
        recorder = factory.application_recorder()
        self.assertIsInstance(recorder, ChainedRecorder)
        if self.pool is ONE_CONNECTION:
            self.assertEqual(recorder.datastore.pool.max_size, 1)  # type: ignore[attr-defined]
        return recorder

    def tearDown(self) -> None:
        try:
            if self._outcome.success:  # type: ignore[attr-defined]
                with closing(RIO(self.url, env=self.pool)) as rio:
                    result = verify(rio)
                self.assertTrue(result.ok, result.line())
        finally:
            self.resources.close()
        super().tearDown()


class ApplicationRecorderContract(RIOStore, ApplicationRecorderTestCase[ApplicationRecorder]):
    def test_concurrent_throughput(self) -> None:
        # eventsourcing's own PostgreSQL case widens its one-connection pool to four for
        # this test; RIO's pool is what its settings make it, so the test runs as it is.
        super().test_concurrent_throughput()


class NonInterleavingContract(RIOStore, NonInterleavingNotificationIDsBaseCase):
    pass


class TestSQLiteApplicationRecorder(ApplicationRecorderContract):
    backend = "sqlite"


class TestSQLiteNonInterleaving(NonInterleavingContract):
    backend = "sqlite"


@pytest.mark.postgres  # skips saying why without a server; fails when CI is set
class TestPostgresApplicationRecorder(ApplicationRecorderContract):
    backend = "postgres"


@pytest.mark.postgres  # skips saying why without a server; fails when CI is set
class TestPostgresNonInterleaving(NonInterleavingContract):
    backend = "postgres"


@pytest.mark.postgres  # skips saying why without a server; fails when CI is set
class TestPostgresOneConnectionApplicationRecorder(ApplicationRecorderContract):
    backend = "postgres"
    pool = ONE_CONNECTION


@pytest.mark.postgres  # skips saying why without a server; fails when CI is set
class TestPostgresOneConnectionNonInterleaving(NonInterleavingContract):
    backend = "postgres"
    pool = ONE_CONNECTION


del ApplicationRecorderContract, NonInterleavingContract  # abstract: not collected
