"""One recommendation with many progress notes: load time and bytes, event store against
read model (issue 13: the read model grew with the square of a recommendation's events).

    python bench/growth.py --notes 1000,10000 --stores sqlite,postgres --results bench/RESULTS.md

Each size runs in a child process on a fresh store: the notes are recorded through the
application in one batch (one transaction, as `rio scenario load` records a file), then
the read model catches up; then it is rebuilt from the log. Run by hand; never in tests
(tests/store/test_read_model_growth.py asserts the ratio of sizes at a smaller size).
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rio.application.batch import Labelled, RecommendationBatch
from rio.application.commands import (
    AssessStatus,
    MakeCommitment,
    NoteProgress,
    RecommendationCommand,
    RegisterRecommendation,
)
from rio.application.service import RIO
from rio.domain.values import Source
from rio.projections.footprint import footprint
from rio.projections.read_model import ReadModel

FIRST = date(1990, 1, 1)  # notes every few days from here reach 10,000 before today
SOURCE = Source(
    "Quarterly implementation update",
    date(1990, 1, 1),
    "Work on the induction framework continues with partners across the system.",
    "https://www.gov.uk/government/publications/leadership-review-progress",
)


def one_recommendation(notes: int, review: str = "growth") -> RecommendationBatch:
    """A long-lived recommendation: a commitment, then `notes` progress notes two days
    apart (one in three about the commitment, two in five on the day of the one before),
    and an assessment every fiftieth note."""
    cite: dict[str, Any] = {"source": SOURCE, "recorded_by": "bench"}
    registration = RegisterRecommendation(
        review=review,
        number=1,
        title="Leadership and management training",
        text=(
            "A single set of unified, core leadership and management standards for managers "
            "across health and adult social care, with a system of accreditation."
        ),
        occurred=FIRST,
        **cite,
    )
    commands: list[RecommendationCommand] = [
        MakeCommitment(
            commitment="framework",
            deliverable="Standards published",
            due="2030/31",
            occurred=FIRST,
            **cite,
        )
    ]
    day = FIRST
    for i in range(notes):
        if i % 5 not in (1, 3):
            day += timedelta(days=2)
        commands.append(
            NoteProgress(
                note=f"Progress note {i}: engagement with partners continued; next steps agreed.",
                commitment="framework" if i % 3 == 0 else None,
                occurred=day,
                **cite,
            )
        )
        if i % 50 == 49:
            commands.append(
                AssessStatus(
                    scale="rag3",
                    rating="Amber",
                    rationale="Slower than planned",
                    assessor="RIO secretariat",
                    occurred=day,
                    **cite,
                )
            )
    return RecommendationBatch(
        Labelled(registration, f"{review}:1"),
        [Labelled(c, f"{review}:1:{n}") for n, c in enumerate(commands, 2)],
    )


def grow(url: str, notes: int) -> dict[str, Any]:
    """Record the notes, catch the read model up, measure; then rebuild it and measure."""
    rio = RIO(url)
    model = ReadModel(rio)
    model.ensure_tables()
    started = time.perf_counter()
    recorded = rio.record_batch([one_recommendation(notes)]).recorded
    record_s = time.perf_counter() - started
    started = time.perf_counter()
    model.catch_up()
    follow_s = time.perf_counter() - started
    followed = footprint(model.engine)
    started = time.perf_counter()
    model.rebuild()
    rebuild_s = time.perf_counter() - started
    rebuilt = footprint(model.engine)
    model.close()
    rio.close()
    return {
        "events": recorded,
        "record_s": record_s,
        "follow_s": follow_s,
        "rebuild_s": rebuild_s,
        "followed": followed.tables,
        "rebuilt": rebuilt.tables,
    }


def _row(kind: str, notes: int, result: dict[str, Any]) -> str:
    from rio.projections.footprint import Footprint

    followed, rebuilt = Footprint(result["followed"]), Footprint(result["rebuilt"])
    load = result["record_s"] + result["follow_s"]
    return (
        f"| {kind} | {notes:,} | {result['events']:,} | {load:.1f} s "
        f"({result['record_s']:.1f} record + {result['follow_s']:.1f} read model) "
        f"| {result['rebuild_s']:.1f} s | {_mb(followed.event_store)} "
        f"| {_mb(followed.read_model)} ({followed.ratio:.2f}×) "
        f"| {_mb(rebuilt.read_model)} ({rebuilt.ratio:.2f}×) | {result['peak_mb']:,.0f} |"
    )


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB"


def main() -> None:
    from bench.run import _append, _in_child, _store

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", default="1000,10000")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--results", type=Path)
    args = parser.parse_args()
    lines = [
        f"### {datetime.now().strftime('%Y-%m-%d %H:%M')} — "
        f"`python bench/growth.py {' '.join(sys.argv[1:])}`",
        "",
        f"One recommendation, N progress notes. Machine: {platform.machine()}, "
        f"{multiprocessing.cpu_count()} cores, Python {platform.python_version()}, "
        f"eventsourcing {metadata.version('eventsourcing')}, "
        f"SQLAlchemy {metadata.version('sqlalchemy')}. Load: recorded in one batch, then the "
        "read model caught up. Sizes on disk with indexes (SQLite dbstat; PostgreSQL "
        "pg_total_relation_size); × is read model / event store (events, hash chain, receipts).",
        "",
        "| store | notes | events | load | rebuild | event store | read model, followed "
        "| read model, rebuilt | peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    _append(args.results, ["", *lines])
    with tempfile.TemporaryDirectory() as folder:
        for notes in (int(n) for n in args.notes.split(",")):
            for kind in args.stores.split(","):
                url, drop = _store(kind, folder)
                try:
                    row = _row(kind, notes, _in_child(grow, url, notes))
                finally:
                    drop()
                print(row, flush=True)
                _append(args.results, [row])


if __name__ == "__main__":
    main()
