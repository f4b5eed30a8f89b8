"""The read model answers exactly as the pure replay, survives kills, and rebuilds identically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from rio.domain import clock
from rio.domain.replay import replay
from rio.domain.values import Source
from rio.persistence.locks import store_lock
from rio.projections.read_model import (
    BITEMPORAL,
    REBUILDING,
    ReadModel,
    commitment_versions,
    definition,
    recommendation_versions,
    tracking,
)
from tests.properties.histories import OCCURRED, histories
from tests.support.stores import fresh_store

SRC = Source("Generated", date(2022, 1, 1))
RIO_BIN = str(Path(sys.executable).parent / "rio")


def rows(model: ReadModel) -> list[tuple[object, ...]]:
    """Every row of the bitemporal tables, without their surrogate ids, in a stable order."""
    result = []
    with model.engine.connect() as conn:
        for table in BITEMPORAL:
            columns = [c for c in table.columns if c.name != "row_id"]
            result += sorted((tuple(r) for r in conn.execute(sa.select(*columns))), key=repr)
    return result


def position(model: ReadModel) -> int:
    with model.engine.connect() as conn:
        return int(conn.execute(sa.select(tracking.c.position)).scalar_one())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=histories(), data=st.data())
def test_the_read_model_answers_exactly_as_the_pure_replay(
    backend: str, events: list[Recommendation.Event], data: st.DataObject
) -> None:
    with fresh_store(backend) as rio:
        model = ReadModel(rio, page=data.draw(st.integers(1, 7)))
        try:
            # Record in random chunks, catching up in between, as writes arrive in life.
            start = 0
            while start < len(events):
                end = start + data.draw(st.integers(1, 5))
                rio.events.put(events[start:end])
                model.catch_up()
                start = end
            with model.engine.connect() as conn:
                for table in (recommendation_versions, commitment_versions):
                    empty = sa.select(sa.func.count()).where(table.c.valid_to <= table.c.valid_from)
                    assert conn.execute(empty).scalar_one() == 0, "no row spans zero days"
            moments = [
                None,
                *(e.timestamp for e in events),
                *(e.timestamp - timedelta(microseconds=1) for e in events),
            ]
            for _ in range(6):
                as_at = data.draw(
                    st.one_of(
                        OCCURRED,
                        st.sampled_from([e.occurred for e in events] or [date(2024, 1, 1)]),
                    )
                )
                known_at = data.draw(st.sampled_from(moments))
                expected = replay(events, as_at, known_at)
                assert model.programme(as_at, known_at) == expected
                for rec in expected.recommendations[:1]:
                    alone = model.programme(as_at, known_at, only=rec.id)
                    assert alone.recommendations == (rec,)
            followed = rows(model)
            model.rebuild()  # one pass a recommendation at a time, not event by event
            assert rows(model) == followed, "a rebuild writes exactly the rows following wrote"
        finally:
            model.close()


def load_portfolio(rio: RIO, recommendations: int, notes: int) -> int:
    """Many small, realistic histories recorded quickly; returns the number of events."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(1, recommendations + 1):
        with clock.use(lambda n=number: start + timedelta(seconds=n)):
            rec = Recommendation.register(
                review="portfolio",
                number=number,
                title=f"R{number}",
                text="",
                occurred=date(2022, 6, 8),
                source=SRC,
                recorded_by="bench",
            )
            rec.make_commitment(
                commitment="c",
                deliverable="Plan",
                due="April 2024",
                occurred=date(2023, 11, 20),
                source=SRC,
                recorded_by="bench",
            )
            for i in range(notes):
                rec.note_progress(
                    note=f"n{i}",
                    commitment="c",
                    occurred=date(2024, 1, 1 + i % 28),
                    source=SRC,
                    recorded_by="bench",
                )
            rec.revise_commitment(
                commitment="c",
                due="Spring 2025",
                occurred=date(2024, 10, 1),
                source=SRC,
                recorded_by="bench",
            )
        rio.save(rec)
    return rio.position()


@pytest.mark.parametrize("workers", [1, 3])
def test_rebuilding_from_scratch_gives_the_same_tables(rio: RIO, workers: int) -> None:
    load_portfolio(rio, 20, 3)
    incremental = ReadModel(rio, page=7, workers=workers)
    incremental.catch_up()
    before = rows(incremental)
    assert before, "the portfolio produced read-model rows"
    assert incremental.rebuild() == rio.position()
    assert rows(incremental) == before, f"rebuilt by {workers} process(es)"
    incremental.close()


def test_a_rebuild_cut_off_part_way_is_done_again_by_the_next_process(rio: RIO) -> None:
    load_portfolio(rio, 6, 2)
    model = ReadModel(rio)
    model.catch_up()
    expected = rows(model)
    with model.engine.begin() as conn:  # as a rebuild killed after its first chunk leaves it
        conn.execute(tracking.update().values(position=0, definition=REBUILDING + definition()))
        conn.execute(commitment_versions.delete())
    fresh = ReadModel(rio)
    assert fresh.status().position == rio.position()
    assert rows(fresh) == expected
    assert model.programme(date(2024, 6, 1)) == replay(rio.all_events(), date(2024, 6, 1))
    model.close()
    fresh.close()


def test_a_follower_waits_for_a_rebuild_in_progress_instead_of_applying_events_twice(
    rio: RIO,
) -> None:
    load_portfolio(rio, 6, 2)
    follower = ReadModel(rio)
    follower.catch_up()
    expected = rows(follower)
    lock = store_lock(rio.database_url, "read-model-rebuild")
    assert lock.acquire()
    with follower.engine.begin() as conn:  # another process has begun a rebuild
        conn.execute(tracking.update().values(position=0, definition=REBUILDING + definition()))
    finished = threading.Event()
    waiting = threading.Thread(target=lambda: (follower.catch_up(), finished.set()))
    waiting.start()
    try:
        assert not finished.wait(1.5), "the follower applied events while a rebuild held the lock"
        assert rows(follower) == expected, "nothing written while waiting"
    finally:
        lock.release()
    waiting.join(60)
    assert finished.is_set()
    assert rows(follower) == expected
    assert follower.status().position == rio.position()
    follower.close()


def test_a_killed_projector_resumes_without_losing_or_repeating_events(
    database_url: str, tmp_path: Path
) -> None:
    rio = RIO(database_url)
    head = load_portfolio(rio, 150, 6)
    env = {**os.environ, "RIO_DATABASE_URL": database_url, "RIO_PROJECTION_PAGE": "1"}
    model = ReadModel(rio)
    model.ensure_tables()
    projector = subprocess.Popen(
        [RIO_BIN, "projections", "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while (
            position(model) < head // 4 and projector.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.02)
        projector.send_signal(signal.SIGKILL)
    finally:
        projector.wait(timeout=30)
    killed_at = position(model)
    assert 0 < killed_at < head, f"the kill should land part-way (position {killed_at} of {head})"

    # What is in the tables is exactly the first `killed_at` events applied: no half page.
    reference = RIO(database_url)
    reference_rows = _rows_after(reference, killed_at, tmp_path)
    assert rows(model) == reference_rows

    resumed = subprocess.run(
        [RIO_BIN, "projections", "run"], env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    assert position(model) == head
    uninterrupted = ReadModel(rio)
    assert rows(model) == _rows_after(reference, head, tmp_path)
    assert model.programme(date(2024, 6, 1)) == replay(rio.all_events(), date(2024, 6, 1))
    for app in (rio, reference):
        app.close()
    uninterrupted.close()
    model.close()


def _rows_after(source: RIO, count: int, tmp_path: Path) -> list[tuple[object, ...]]:
    """The tables an uninterrupted projector makes from the first `count` events."""
    copy = RIO(f"sqlite:///{tmp_path / f'copy-{count}.db'}")
    copy.events.put(list(source.all_events())[:count])
    model = ReadModel(copy)
    model.catch_up()
    result = rows(model)
    model.close()
    copy.close()
    return result


def test_status_reports_position_and_lag(rio: RIO) -> None:
    load_portfolio(rio, 3, 1)
    model = ReadModel(rio)
    assert model.status().lag == rio.position()
    model.catch_up()
    status = model.status()
    assert (status.position, status.lag, status.definition_current) == (rio.position(), 0, True)
    model.close()


def test_a_changed_definition_is_rebuilt_not_migrated(
    rio: RIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_portfolio(rio, 2, 1)
    model = ReadModel(rio)
    model.catch_up()
    with model.engine.begin() as conn:
        conn.execute(tracking.update().values(definition="older"))
        conn.execute(recommendation_versions.delete())  # what an older definition lacked
    fresh = ReadModel(rio)
    status = fresh.status()
    assert status.definition_current
    assert status.position == rio.position(), "rebuilt from the log on first open"
    assert fresh.programme(date(2024, 6, 1)) == replay(rio.all_events(), date(2024, 6, 1))
    model.close()
    fresh.close()


@pytest.fixture
def cli_env(database_url: str) -> Iterator[dict[str, str]]:
    yield {**os.environ, "RIO_DATABASE_URL": database_url}


def test_projection_commands_work_from_the_command_line(cli_env: dict[str, str]) -> None:
    rio = RIO(cli_env["RIO_DATABASE_URL"])
    head = load_portfolio(rio, 5, 2)
    status = subprocess.run(
        [RIO_BIN, "projections", "status"], env=cli_env, capture_output=True, text=True
    )
    assert status.returncode == 0 and f"position 0 of {head}, lag {head}" in status.stdout
    rebuilt = subprocess.run(
        [RIO_BIN, "projections", "rebuild"], env=cli_env, capture_output=True, text=True
    )
    assert rebuilt.returncode == 0 and f"rebuilt from {head} events" in rebuilt.stdout
    after = subprocess.run(
        [RIO_BIN, "projections", "status"], env=cli_env, capture_output=True, text=True
    )
    assert f"position {head} of {head}, lag 0" in after.stdout
    rio.close()


def test_a_separate_projector_follows_new_events(database_url: str) -> None:
    rio = RIO(database_url)
    model = ReadModel(rio)
    model.ensure_tables()
    env = {**os.environ, "RIO_DATABASE_URL": database_url}
    follower = subprocess.Popen(
        [RIO_BIN, "projections", "run", "--follow", "--interval", "0.1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for batch in range(3):
            load_portfolio_slice(rio, batch)
            head = rio.position()
            deadline = time.monotonic() + 30
            while position(model) < head and time.monotonic() < deadline:
                time.sleep(0.05)
            assert position(model) == head, f"the follower applied batch {batch}"
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.wait(timeout=30)
    assert model.programme(date(2024, 6, 1)) == replay(rio.all_events(), date(2024, 6, 1))
    model.close()
    rio.close()


def load_portfolio_slice(rio: RIO, batch: int) -> None:
    rec = Recommendation.register(
        review="follow",
        number=batch + 1,
        title="T",
        text="",
        occurred=date(2022, 6, 8),
        source=SRC,
        recorded_by="test",
    )
    rec.make_commitment(
        commitment="c",
        deliverable="Plan",
        due="April 2024",
        occurred=date(2023, 11, 20),
        source=SRC,
        recorded_by="test",
    )
    rio.save(rec)
