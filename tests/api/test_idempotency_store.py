"""The idempotency records alone: a first try runs, a committed one replays, a stale claim is
taken over, and no claim, however stale, lets a committed request record again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest

from rio.api.idempotency import IdempotencyStore
from rio.application.commands import NoteProgress
from rio.application.receipts import Completed, Recorded, RequestKey
from rio.application.service import RIO
from rio.domain.errors import VersionConflict
from rio.projections.read_model import make_engine
from tests.support import commands


@pytest.fixture
def rio(database_url: str) -> Iterator[RIO]:
    app = RIO(database_url)
    try:
        yield app
    finally:
        app.close()


class Clock:
    """Seconds that pass only when a test says so: staleness is judged by the clock the
    store is given, so no test waits on the machine's time."""

    def __init__(self) -> None:
        self.seconds = 1_700_000_000.0

    def __call__(self) -> float:
        return self.seconds


def store(rio: RIO, pending_seconds: float, clock: Clock | None = None) -> IdempotencyStore:
    return IdempotencyStore(
        make_engine(rio.database_url), pending_seconds, rio, now=clock or Clock()
    )


def register(rio: RIO) -> UUID:
    return commands.register(rio, "review", 1, date(2022, 1, 1))


def note(text: str) -> NoteProgress:
    return NoteProgress(
        note=text, occurred=date(2023, 1, 1), source=commands.SOURCE, recorded_by="test"
    )


def test_a_key_runs_once_then_replays_and_refuses_another_request(rio: RIO) -> None:
    records = store(rio, pending_seconds=60)
    try:
        rec = register(rio)
        assert records.begin("k1", "a", "hash-1").run
        assert records.begin("k1", "a", "hash-1").clash == "in-progress"
        assert records.begin("k2", "a", "hash-1").run  # another key holder's "a"
        version = rio.handle(rec, note("n"), request=RequestKey("k1", "a", "hash-1"))
        records.release("k1", "a")  # done: the receipt answers from now on
        replay = records.begin("k1", "a", "hash-1").completed
        assert replay == Completed("hash-1", Recorded(rec, version))
        assert records.begin("k1", "a", "hash-2").clash == "different-request"
        records.release("k1", "a")  # releasing a claim never forgets a committed request
        assert records.begin("k1", "a", "hash-1").completed == replay
    finally:
        records.engine.dispose()


def test_an_abandoned_first_try_is_taken_over_by_one_retry(rio: RIO) -> None:
    clock = Clock()
    records = store(rio, pending_seconds=60, clock=clock)
    try:
        assert records.begin("k", "a", "h").run
        clock.seconds += 61
        assert records.begin("k", "a", "h").run  # the first process died before committing
        assert records.begin("k", "a", "h").clash == "in-progress"
    finally:
        records.engine.dispose()


def test_a_committed_request_replays_however_stale_its_claim(rio: RIO) -> None:
    """The fault of issue 13: the first try commits and dies before answering."""
    clock = Clock()
    records = store(rio, pending_seconds=60, clock=clock)
    try:
        rec = register(rio)
        assert records.begin("k", "a", "h").run
        version = rio.handle(rec, note("n"), request=RequestKey("k", "a", "h"))
        clock.seconds += 3600  # its claim is long stale: no process is left to finish it
        outcome = records.begin("k", "a", "h")
        assert not outcome.run
        assert outcome.completed == Completed("h", Recorded(rec, version))
    finally:
        records.engine.dispose()


def test_a_second_commit_under_one_key_records_nothing(rio: RIO) -> None:
    """Two tries running side by side (a claim taken over while its first try still ran):
    the receipt's key refuses the second, and its event goes with it."""
    rec = register(rio)
    request = RequestKey("k", "a", "h")
    first = rio.handle(rec, note("n"), request=request)
    with pytest.raises(VersionConflict):
        rio.handle(rec, note("n"), request=request)
    assert rio.get(rec).version == first
    assert rio.completed("k", "a") == Completed("h", Recorded(rec, first))


def test_a_batch_that_records_nothing_new_still_keeps_its_receipt(rio: RIO) -> None:
    assert rio.record_batch([], request=RequestKey("k", "b", "h")).recorded == 0
    done = rio.completed("k", "b")
    assert done is not None and done.request_hash == "h"
