"""The public record's clock: "as the public record stood on D" uses only facts whose source
was published by D (rio.domain.public_record), through the fold, the CLI and the API."""

from __future__ import annotations

from datetime import date

from rio.application.service import RIO
from rio.domain.replay import replay
from rio.domain.state import Programme
from rio.scenario import batches, read
from tests.conftest import MESSENGER
from tests.support.cli import as_json, ok, run

TRACKER = "Messenger Review: Table of Recommendations"
AS_AT = date(2024, 10, 1)


def _cited(programme: Programme) -> set[str]:
    """Every document a programme's answer rests on."""
    documents: set[str] = set()
    for rec in programme.recommendations:
        documents.add(rec.source.document)
        documents |= {d.source.document for d in rec.decisions}
        documents |= {n.source.document for n in rec.notes}
        documents |= {a.source.document for a in rec.assessments}
        for c in rec.commitments:
            documents.add(c.source.document)
            documents |= {r.source.document for r in c.revisions}
            documents |= {x.source.document for x in (c.delivered, c.withdrawn) if x}
    return documents


def _load(rio: RIO) -> None:
    scenario, lines = read(MESSENGER)
    rio.record_batch(batches(scenario, lines, str(MESSENGER), "test"))


def test_the_public_record_on_1_june_2024_has_nothing_from_the_late_2024_tracker(
    rio: RIO,
) -> None:
    _load(rio)
    events = list(rio.all_events())

    everything = replay(events, AS_AT)
    public_then = replay(events, AS_AT, public_at=date(2024, 6, 1))

    assert any(d.startswith(TRACKER) for d in _cited(everything))
    assert not any(d.startswith(TRACKER) for d in _cited(public_then))
    assert public_then.recommendations  # the review and the 2023 answer were public by then
    tracker_facts = [e for e in events if e.source.document.startswith(TRACKER)]
    assert tracker_facts and all(e.source.date == date(2024, 10, 1) for e in tracker_facts)
    # Once the tracker is public, the answer is everything RIO knows.
    assert replay(events, AS_AT, public_at=date(2024, 10, 1)) == replay(
        events, AS_AT, public_at=date(2030, 1, 1)
    )


def test_a_fact_whose_source_has_no_date_is_left_out_and_counted(rio: RIO) -> None:
    from rio.application.commands import NoteProgress, RegisterRecommendation
    from rio.domain.public_record import undated
    from rio.domain.values import Source

    dated = Source("Answer", date(2023, 1, 5), "q")
    rec = rio.register_recommendation(
        RegisterRecommendation(
            review="r",
            number=1,
            title="t",
            text="x",
            occurred=date(2023, 1, 1),
            source=dated,
            recorded_by="test",
        )
    )
    rio.handle(
        rec.id,
        NoteProgress(
            note="undated words",
            occurred=date(2023, 2, 1),
            source=Source("A leaflet with no date"),
            recorded_by="test",
        ),
    )
    events = list(rio.all_events())

    public = replay(events, date(2024, 1, 1), public_at=date(2030, 1, 1))

    assert public.recommendations[0].notes == ()
    assert replay(events, date(2024, 1, 1)).recommendations[0].notes != ()
    assert [f.source.document for f in undated(events, date(2024, 1, 1))] == [
        "A leaflet with no date"
    ]


def test_the_cli_asks_status_and_report_as_the_public_record_stood(sqlite_url: str) -> None:
    ok(sqlite_url, "scenario", "load", str(MESSENGER))

    public = as_json(sqlite_url, "status", "--as-at", "2024-10-01", "--public-at", "2024-06-01")
    everything = as_json(sqlite_url, "status", "--as-at", "2024-10-01")

    assert public["public_at"] == "2024-06-01"
    assert public["undated_left_out"] == 0
    assert public["recommendations"] != everything["recommendations"]
    report = as_json(
        sqlite_url,
        "report",
        "promised-vs-delivered",
        "--promised-as-at",
        "2023-11-30",
        "--delivered-as-at",
        "2024-10-01",
        "--public-at",
        "2024-06-01",
    )
    everything_report = as_json(
        sqlite_url,
        "report",
        "promised-vs-delivered",
        "--promised-as-at",
        "2023-11-30",
        "--delivered-as-at",
        "2024-10-01",
    )
    # Deliveries and new dates known only from the tracker are not yet public in June 2024.
    assert report["summary"] != everything_report["summary"]
    assert TRACKER not in str(report)
    bad = run(sqlite_url, "status", "--public-at", "June 2024")
    assert bad.returncode == 2 and "--public-at 'June 2024' is not a date" in bad.stderr


def test_the_timeline_as_the_public_record_stood(sqlite_url: str) -> None:
    ok(sqlite_url, "scenario", "load", str(MESSENGER))
    asked = ("timeline", "1", "--as-at", "2024-10-01")

    everything = as_json(sqlite_url, *asked)
    public = as_json(sqlite_url, *asked, "--public-at", "2024-06-01")
    printed = ok(sqlite_url, *asked, "--public-at", "2024-06-01")

    assert TRACKER in str(everything)
    assert TRACKER not in str(public)
    assert public and public != everything
    assert printed.startswith("As the public record stood on 2024-06-01")
    early = run(sqlite_url, "timeline", "1", "--as-at", "2022-01-01")
    assert early.returncode == 2
    assert "recommendation 1 (messenger-2022) was not yet registered as at 2022-01-01" in (
        early.stderr
    )
