"""A large scenario file loads in bounded memory, all or nothing (issue 13 item 5).

The file is read and checked to its end, its items kept on disk, then recorded a chunk of
events at a time into one transaction with the review's registration: a refusal in the last
recommendation leaves the store as it was, on both stores. Memory is asserted as a ratio of
tracemalloc peaks at two sizes (never a timing); bench/scenario_load.py measures the 70,000
recommendation file.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bench import scenario_file
from rio.application import service
from rio.application.batch import BatchRefused, BatchResult
from rio.application.reviews import Reviews
from rio.application.service import RIO
from rio.domain.errors import VersionConflict
from rio.persistence.postgres import ChainedPostgresApplicationRecorder
from rio.scenario import ScenarioError, opened

SMALL_CHUNK = 40  # events per insert: many inserts into the one transaction


def load(rio: RIO, path: Path) -> BatchResult:
    """What `rio scenario load` does: check the file, then record it with its review."""
    reviews = Reviews(rio)
    with opened(path) as scenario:
        review, _ = reviews.prepare(scenario.review.command("test"))
        return rio.record_batch(scenario.batches("test"), also=[review])


def last_entry_line(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    return text[: text.rindex("  - recommendation:")].count("\n") + 1


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BULK_CHUNK", SMALL_CHUNK)


def test_a_large_file_records_every_event_and_its_review_in_chunks(
    rio: RIO, tmp_path: Path
) -> None:
    path = scenario_file.write(tmp_path / "large.yaml", 120)

    result = load(rio, path)

    assert result.recommendations[1:] == list(range(1, 121))
    assert result.recorded == scenario_file.events_per_file(120)
    assert rio.position() == result.recorded + 1  # and the review's registration
    assert Reviews(rio).get("large-review") is not None


def test_a_refusal_in_the_last_recommendation_records_nothing(rio: RIO, tmp_path: Path) -> None:
    path = scenario_file.write(tmp_path / "large.yaml", 120, refused_last=True)

    with pytest.raises(BatchRefused) as refused:
        load(rio, path)

    assert str(refused.value).startswith(f"{path}:{last_entry_line(path)}: ")
    assert "never-promised" in str(refused.value)
    assert rio.position() == 0
    assert Reviews(rio).get("large-review") is None


def test_a_grown_file_refused_at_its_end_leaves_the_store_as_it_was(
    rio: RIO, tmp_path: Path
) -> None:
    load(rio, scenario_file.write(tmp_path / "first.yaml", 60))
    before = rio.position()

    with pytest.raises(BatchRefused):
        load(rio, scenario_file.write(tmp_path / "grown.yaml", 120, refused_last=True))

    assert rio.position() == before


def test_the_review_commits_with_its_recommendations_or_not_at_all(
    rio: RIO, tmp_path: Path
) -> None:
    path = scenario_file.write(tmp_path / "large.yaml", 60)
    reviews = Reviews(rio)
    with opened(path) as scenario:
        review, _ = reviews.prepare(scenario.review.command("test"))
        # Someone registers the review between the file's check and its recording.
        reviews.register(scenario.review.command("someone else"))
        before = rio.position()

        with pytest.raises(VersionConflict):
            rio.record_batch(scenario.batches("test"), also=[review])

    assert rio.position() == before == 1


def test_postgres_lets_a_load_plan_between_its_inserts(
    rio: RIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eventsourcing ends a session idle in a transaction after 5 s; a load plans its next
    chunk between inserts into its open transaction, so that transaction allows longer."""
    recorder = rio.recorder
    if not isinstance(recorder, ChainedPostgresApplicationRecorder):
        pytest.skip("SQLite ends no idle transaction")
    seen: list[object] = []
    insert_on = recorder._insert_on

    def noting(conn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(conn.execute("SHOW idle_in_transaction_session_timeout").fetchone())
        return insert_on(conn, *args, **kwargs)

    monkeypatch.setattr(recorder, "_insert_on", noting)
    load(rio, scenario_file.write(tmp_path / "large.yaml", 30))
    with recorder.datastore.get_connection() as conn:
        outside = conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()

    assert len(seen) > 1
    assert all(row == {"idle_in_transaction_session_timeout": "5min"} for row in seen), seen
    assert outside == {"idle_in_transaction_session_timeout": "5s"}


def test_a_problem_at_the_end_of_a_large_file_is_named_before_anything_is_recorded(
    rio: RIO, tmp_path: Path
) -> None:
    path = scenario_file.write(tmp_path / "large.yaml", 120)
    with path.open("a", encoding="utf-8") as out:
        out.write("  - recommendation: 121\n    type: progress_noted\n")
    lines = path.read_text(encoding="utf-8").count("\n")

    with pytest.raises(ScenarioError) as refused:
        load(rio, path)

    message = str(refused.value)
    assert message.startswith(f"{path}:{lines - 1}: events.")
    assert rio.position() == 0


def peak_bytes(rio: RIO, path: Path) -> int:
    tracemalloc.start()
    try:
        load(rio, path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_holds_a_chunk_and_a_few_numbers_per_recommendation(tmp_path: Path) -> None:
    small = scenario_file.write(tmp_path / "small.yaml", 150)
    large = scenario_file.write(tmp_path / "large.yaml", 1200)
    stores = [RIO(f"sqlite:///{tmp_path / name}.db") for name in ("warm", "small", "large")]
    try:
        peak_bytes(stores[0], small)  # imports and caches are not the file's
        at_small = peak_bytes(stores[1], small)
        at_large = peak_bytes(stores[2], large)
    finally:
        for store in stores:
            store.close()

    # The file takes about 860 bytes a recommendation; reading it whole took some 45 KB.
    per_recommendation = (at_large - at_small) / (1200 - 150)
    assert per_recommendation < 400, (at_small, at_large)
    assert at_large < large.stat().st_size / 2, (at_large, large.stat().st_size)
