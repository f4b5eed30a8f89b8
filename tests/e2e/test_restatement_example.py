"""The worked example of issue 14 item 9, as a scenario (tests/fixtures/scenarios): a monitor
said on 1 November that 120 of 227 recommendations were implemented by 1 July, and on
21 November that 143 were. RIO's restatement report says exactly that, and why."""

from __future__ import annotations

from datetime import date

from rio.application.service import RIO
from rio.domain.replay import replay
from rio.reports.answers import status
from rio.reports.restatements import Knowledge, restatements
from rio.scenario import batches, read
from tests.conftest import REPO
from tests.support.cli import as_json, ok

MONITOR = REPO / "tests" / "fixtures" / "scenarios" / "monitor-restatement.yaml"
AS_AT = date(2024, 7, 1)
FIRST, REVISED = date(2024, 11, 1), date(2024, 11, 21)
REVISED_EDITION = "Implementation monitor, November 2024 edition (revised)"


def load(rio: RIO) -> None:
    scenario, lines = read(MONITOR)
    rio.record_batch(batches(scenario, lines, str(MONITOR), "test"))


def implemented(rio: RIO, public_at: date) -> int:
    programme = replay(list(rio.all_events()), AS_AT, public_at=public_at)
    return sum(1 for r in status(programme) if r.rating.rating == "Complete")


def test_the_monitor_said_120_then_143_of_227_implemented_as_at_1_july(rio: RIO) -> None:
    load(rio)

    assert (implemented(rio, FIRST), implemented(rio, REVISED)) == (120, 143)
    report = restatements(
        list(rio.all_events()), AS_AT, Knowledge(public_at=FIRST), Knowledge(public_at=REVISED)
    )

    counts = {c.count: (c.before, c.after, c.of_before, c.of_after) for c in report.counts}
    assert counts["recommendations Complete"] == (120, 143, 227, 227)
    assert counts["recommendations Red"] == (107, 84, 227, 227)
    ratings = [c for c in report.changes if c.commitment is None and c.answer == "rating"]
    assert [c.recommendation for c in ratings] == list(range(121, 144))
    assert {(c.before, c.after) for c in ratings} == {("Red", "Complete")}
    for change in report.changes:
        (cause,) = change.because
        assert cause.type == "milestone_delivered"
        assert cause.source.document == REVISED_EDITION
        assert cause.occurred <= AS_AT and cause.seen_by == "later"
    assert "recommendations Complete 120 of 227 -> 143 of 227" in report.summary


def test_the_cli_reports_the_restatement(sqlite_url: str) -> None:
    ok(sqlite_url, "scenario", "load", str(MONITOR))

    report = as_json(
        sqlite_url,
        "report",
        "restatements",
        "--as-at",
        "2024-07-01",
        "--public-at",
        "2024-11-01",
        "--against",
        "2024-11-21",
    )
    table = ok(
        sqlite_url,
        "report",
        "restatements",
        "--as-at",
        "2024-07-01",
        "--public-at",
        "2024-11-01",
        "--against",
        "2024-11-21",
    )

    assert "recommendations Complete 120 of 227 -> 143 of 227" in report["summary"]
    assert (
        len([c for c in report["changes"] if c["answer"] == "rating" and not c["commitment"]]) == 23
    )
    assert "recommendations Complete 120 of 227 -> 143 of 227" in table
    # On the recorded clock the programme arrived in one load: before it, none was on record.
    recorded = as_json(
        sqlite_url, "report", "restatements", "--as-at", "2024-07-01", "--known-at", "2020-01-01"
    )
    assert len(recorded["changes"]) == 227
