"""Corrections from a scenario file and from `rio correct`: the event is named by what it says,
the correction is visible with --known-at after it and not before, and a reload records it
once. A reference that names no event, or several, is refused with the candidates."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from rio.aggregates.recommendation import Recommendation
from rio.application.batch import BatchRefused
from rio.application.service import RIO
from rio.domain.errors import DomainError
from rio.domain.replay import replay
from rio.scenario import ScenarioError
from tests.e2e.test_scenario_files import BASE, load, write
from tests.support.cli import as_json, ok, refused

AS_AT = date(2023, 12, 1)


def _alpha_due(rio: RIO, known_at: datetime | None = None) -> str | None:
    state = replay(list(rio.all_events()), AS_AT, known_at).recommendation("test-review", 1)
    due = state.commitment("alpha").due
    return None if due is None else due.text


def _correction(corrects: str, body: str = "    changes:\n      due: June 2024\n") -> str:
    return (
        "  - recommendation: 1\n"
        "    type: event_corrected\n"
        "    occurred: 2023-06-01\n"
        "    source: answer\n"
        '    quote: "the revision said June 2024"\n'
        f"    corrects: {corrects}\n"
        f"{body}"
        "    reason: the revision was mis-transcribed\n"
    )


REVISION = "{type: commitment_revised, commitment: alpha}"


def test_a_correction_in_a_scenario_file_is_seen_from_its_recording_on(
    rio: RIO, tmp_path: Path
) -> None:
    path = write(tmp_path, BASE)
    load(rio, path)
    before = datetime.now(UTC)
    write(tmp_path, BASE + _correction(REVISION))

    first = load(rio, path)
    again = load(rio, path)

    assert (first.recorded, again.recorded) == (1, 0)
    assert _alpha_due(rio, before) == "later in 2024"
    assert _alpha_due(rio) == "June 2024"


def test_a_correction_may_name_its_target_by_ref(rio: RIO, tmp_path: Path) -> None:
    text = BASE.replace(
        "    reason: the pilot overran\n", "    reason: the pilot overran\n    ref: slip\n"
    )
    path = write(tmp_path, text + _correction("slip"))

    result = load(rio, path)

    assert result.recorded == 3 + 6 + 1
    assert _alpha_due(rio) == "June 2024"
    assert load(rio, path).recorded == 0


def test_a_retraction_in_a_file_removes_the_fact_from_then_on(rio: RIO, tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    load(rio, path)
    before = datetime.now(UTC)
    write(tmp_path, BASE + _correction(REVISION, "    retracted: true\n"))

    load(rio, path)

    assert _alpha_due(rio, before) == "later in 2024"
    assert _alpha_due(rio) == "April 2024"


def test_a_reference_that_names_several_events_lists_them_at_its_line(
    rio: RIO, tmp_path: Path
) -> None:
    text = BASE + _correction("{type: commitment_made}")
    path = write(
        tmp_path,
        text.replace(
            "recommendation: 2\n    type: commitment_made",
            "recommendation: 1\n    type: commitment_made",
        ),
    )
    line = len(path.read_text().splitlines()) - 8

    with pytest.raises(BatchRefused) as refused_:
        load(rio, path)

    message = str(refused_.value)
    assert message.startswith(f"{path}:{line}: event_corrected: commitment_made names 2 events")
    assert "commitment_made:commitment=alpha" in message
    assert "commitment_made:commitment=beta" in message
    assert rio.position() == 0


def test_a_reference_that_names_no_event_lists_the_candidates(rio: RIO, tmp_path: Path) -> None:
    path = write(tmp_path, BASE + _correction("{type: commitment_revised, commitment: gamma}"))

    with pytest.raises(
        BatchRefused,
        match=r"no event of recommendation 1 is commitment_revised "
        r"commitment=gamma; candidates: event \d+ \(commitment_revised:"
        r"commitment=alpha, occurred 2023-05-01\)",
    ):
        load(rio, path)
    assert rio.position() == 0


def test_an_unknown_ref_is_refused_at_its_line(rio: RIO, tmp_path: Path) -> None:
    text = BASE + _correction("nowhere")
    path = write(tmp_path, text)
    line = len(text.splitlines()) - 3

    with pytest.raises(
        ScenarioError, match=rf"^{re.escape(str(path))}:{line}: no event has ref 'nowhere'"
    ):
        load(rio, path)


def test_a_correction_gives_changes_or_retracted(rio: RIO, tmp_path: Path) -> None:
    path = write(tmp_path, BASE + _correction(REVISION, ""))

    with pytest.raises(ScenarioError, match=r"changes: .* or retracted: true"):
        load(rio, path)


def test_an_edited_file_is_told_exactly_how_to_record_a_correction(
    rio: RIO, tmp_path: Path
) -> None:
    path = write(tmp_path, BASE)
    load(rio, path)
    edited = BASE.replace("due: later in 2024", "due: June 2024")
    write(tmp_path, edited)

    with pytest.raises(DomainError) as refused_:
        load(rio, path)

    message = str(refused_.value)
    assert "commitment_revised:commitment=alpha" in message
    assert "event_corrected entry with corrects: {type: commitment_revised, commitment: alpha}" in (
        message
    )
    assert "rio correct test-review:1 --event commitment_revised:commitment=alpha" in message


def test_rio_correct_records_a_correction_seen_with_known_at_after_it(
    database_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, BASE)
    ok(database_url, "scenario", "load", str(path))
    loaded = datetime.now(UTC).replace(microsecond=0)
    while datetime.now(UTC).replace(microsecond=0) == loaded:
        # --known-at is read to the second: `before` falls after the load, before the fix.
        time.sleep(0.01)
    before = datetime.now(UTC).replace(microsecond=0).isoformat()

    said = ok(
        database_url,
        "correct",
        "test-review:1",
        "--event",
        "commitment_revised:alpha",
        "--set",
        "due=June 2024",
        "--reason",
        "the revision was mis-transcribed",
        "--source",
        "Erratum to the written answer",
        "--source-date",
        "2023-06-02",
        "--quote",
        "June 2024, not later in 2024",
    )

    assert "commitment_revised:commitment=alpha" in said and "corrected by event" in said

    def due(*known_at: str) -> str:
        lines = as_json(database_url, "timeline", "test-review:1", *known_at)
        (alpha,) = [line for line in lines if line["commitment"] == "alpha"]
        return str(alpha["steps"][-1]["due"]["text"])

    assert due("--known-at", before) == "later in 2024"
    assert due() == "June 2024"
    history = as_json(database_url, "history", "test-review:1")
    assert history[-1]["type"] == "EventCorrected"


def test_rio_correct_refuses_an_ambiguous_reference_with_the_candidates(
    sqlite_url: str, tmp_path: Path
) -> None:
    ok(sqlite_url, "scenario", "load", str(write(tmp_path, BASE)))

    line = refused(
        sqlite_url,
        "correct",
        "test-review:1",
        "--event",
        "commitment_made:gamma",
        "--retract",
        "--reason",
        "r",
        "--source",
        "s",
    )

    assert "no event of recommendation 1 is commitment_made commitment=gamma" in line
    assert "event 3 (commitment_made:commitment=alpha" in line
    assert "both" in refused(
        sqlite_url,
        "correct",
        "test-review:1",
        "--event",
        "3",
        "--retract",
        "--set",
        "due=x",
        "--reason",
        "r",
        "--source",
        "s",
    )


def test_a_scenario_correction_is_seen_with_known_at_on_the_command_line(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, BASE)
    ok(sqlite_url, "scenario", "load", str(path))
    loaded = datetime.now(UTC).replace(microsecond=0)
    while datetime.now(UTC).replace(microsecond=0) == loaded:
        time.sleep(0.01)  # --known-at is read to the second
    before = datetime.now(UTC).replace(microsecond=0).isoformat()
    write(tmp_path, BASE + _correction(REVISION))

    said = ok(sqlite_url, "scenario", "load", str(path))

    assert "1 events recorded" in said

    def status_reason(*known_at: str) -> str:
        answer = as_json(sqlite_url, "status", "--as-at", "2023-12-01", *known_at)
        (first,) = [r for r in answer["recommendations"] if r["number"] == 1]
        return str(first["commitments"]["alpha"]["facts"])

    assert "later in 2024" in status_reason("--known-at", before)
    assert "June 2024" in status_reason()


WIDE_PLAN = (
    "  - recommendations: [1, 3]\n"
    "    type: commitment_made\n"
    "    occurred: 2023-03-01\n"
    "    source: answer\n"
    '    quote: "a delivery plan by the end of 2024"\n'
    "    commitment: plan\n"
    "    deliverable: A delivery plan published\n"
    "    due: end of 2024\n"
)


def _plan(rio: RIO, known_at: datetime | None = None) -> tuple[str | None, tuple[int, ...] | None]:
    programme = replay(list(rio.all_events()), AS_AT, known_at)
    plan = programme.recommendation("test-review", 0).commitment("plan")
    return (None if plan.due is None else plan.due.text), plan.serves


@pytest.mark.parametrize(
    ("stream", "corrects"),
    [("all", "{type: commitment_made, commitment: plan}"), ("[1, 3]", "the-plan")],
)
def test_a_correction_of_a_review_wide_event_in_a_file_is_seen_from_its_recording_on(
    rio: RIO, tmp_path: Path, stream: str, corrects: str
) -> None:
    """A correction of the review's own stream says `recommendations:` as its target does,
    and names the target by what it says or by its ref."""
    text = BASE + WIDE_PLAN + "    ref: the-plan\n"
    path = write(tmp_path, text)
    load(rio, path)
    before = datetime.now(UTC)
    correction = _correction(corrects).replace(
        "  - recommendation: 1\n", f"  - recommendations: {stream}\n"
    )
    write(tmp_path, text + correction)

    first = load(rio, path)
    again = load(rio, path)

    assert (first.recorded, again.recorded) == (1, 0)
    assert _plan(rio, before) == ("end of 2024", (1, 3))
    assert _plan(rio) == ("June 2024", (1, 3))
    last = rio.find("test-review", 0).history[-1]
    assert isinstance(last, Recommendation.EventCorrected)
    assert last.corrects == 2  # the review-wide commitment, not an event elsewhere


def test_a_review_wide_correction_cannot_name_a_recommendations_event_by_ref(
    rio: RIO, tmp_path: Path
) -> None:
    text = BASE + WIDE_PLAN + "    ref: the-plan\n"
    path = write(tmp_path, text + _correction("the-plan"))

    with pytest.raises(ScenarioError, match="ref 'the-plan' is an event of the review as a whole"):
        load(rio, path)
    assert rio.position() == 0
