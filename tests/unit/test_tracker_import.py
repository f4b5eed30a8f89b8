"""Reading a tracker into a draft: headers matched by meaning, the date a header speaks for,
status words, due phrases proposed as inferred promises, and refusals that say what is wrong."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from rio.domain.values import ReportedStatus
from rio.imports.errors import TrackerRefused
from rio.imports.phrases import header_date, promised_in
from rio.imports.sheets import read_table
from rio.imports.tracker import Options, draft, parse_columns
from rio.imports.vocabulary import field_of, status_in

TODAY = date(2026, 1, 1)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("No.", "number"),
        ("Rec No.", "number"),
        ("Recommendation number", "number"),
        ("Status", "status"),
        ("Extent of Implementation", "status"),
        ("Type of recommendation", "theme"),
        ("Theme", "theme"),
        ("Government response", "response"),
        ("Source", "source"),
        ("Notes", "update"),
        ("Progress update (March 2024)", "update"),
        ("Updated notes on implementation (DHSC and NHS England)", "update"),
        ("Details of Recommendation", "details"),
        ("Recommendation", "details"),
    ],
)
def test_headers_are_matched_by_meaning_however_trackers_word_them(header: str, field: str) -> None:
    _, rest = header_date(header, TODAY)
    matched = field_of(rest)
    assert matched is not None and matched.name == field


def test_a_date_in_a_header_is_the_date_the_column_speaks_for() -> None:
    assert header_date("Progress update (March 2024)", TODAY) == (
        date(2024, 3, 1),
        "Progress update",
    )
    assert header_date("Status", TODAY) == (None, "Status")


def test_status_words_are_read_in_order_and_completion_not_from_prose() -> None:
    assert status_in("Not implemented") == (
        ReportedStatus.REPORTED_NOT_DELIVERED,
        "Not implemented",
    )
    assert status_in("Partially implemented")[0] is ReportedStatus.IN_PROGRESS  # type: ignore[index]
    assert status_in("Implemented")[0] is ReportedStatus.REPORTED_COMPLETE  # type: ignore[index]
    assert status_in("training nationally delivered", prose=True) is None
    assert status_in("Green") is None


def test_due_phrases_in_notes_are_found_by_the_domains_parser_and_past_ones_left() -> None:
    note = (
        "The framework was published in February 2024. Standards are expected to be "
        "finalised in Spring 2025. Publication later in 2024; wider engagement over "
        "autumn/winter 2024/25."
    )
    found = promised_in(note, date(2024, 10, 1))
    assert [p.phrase for p in found] == ["in Spring 2025", "later in 2024", "autumn/winter 2024/25"]
    assert found[0].sentence == "Standards are expected to be finalised in Spring 2025."
    assert found[0].window.latest == date(2025, 5, 31)


def test_a_tracker_becomes_registrations_statuses_and_inferred_promises(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "tracker.csv",
        [
            ["Our tracker"],
            ["Rec No.", "Recommendation", "Theme", "Status", "Progress update (March 2024)"],
            ["1", "Publish a plan: The plan should be public.", "Plans", "In progress", ""],
            ["R2", "Train managers. Action 2.1: A course.", "", "Done", "Due by Summer 2025."],
            ["", "a row with no number", "", "", ""],
        ],
    )
    result = draft(read_table(path), Options(speaks_for=date(2024, 6, 30), today=TODAY))
    scenario = result.scenario
    recs = {r["number"]: r for r in scenario["recommendations"]}
    assert recs[1]["title"] == "Publish a plan" and recs[1]["text"] == "The plan should be public."
    assert recs[2]["actions"][0]["id"] == "2.1"
    assert scenario["review"]["themes"] == {1: "Plans"}
    events = scenario["events"]
    statuses = [
        (e["recommendation"], e["status"]) for e in events if e["type"] == "status_reported"
    ]
    assert statuses == [(1, "in_progress"), (2, "reported_complete")]
    (promise,) = [e for e in events if e["type"] == "commitment_made"]
    assert promise["inferred"] is True and promise["due"] == "by Summer 2025"
    assert promise["occurred"] == date(2024, 3, 1)  # the header's date, not --date
    status_source = scenario["sources"][events[0]["source"]]
    assert status_source["document"] == "Tracker tracker.csv, row 3, column D (Status)"
    assert events[0]["quote"] == "In progress"
    assert result.unread == ["row 5: no recommendation number in column A ('a row with no number')"]


def test_columns_maps_what_the_table_does_not_know(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", [["Item", "Wording", "Colour"], ["1", "Do it", "Amber"]])
    with pytest.raises(TrackerRefused, match=r"no header row.*'Item', 'Wording'"):
        draft(read_table(path), Options(today=TODAY))
    columns = parse_columns("Item=number,Wording=details,Colour=ignore")
    on = date(2024, 1, 1)
    result = draft(read_table(path), Options(columns=columns, today=TODAY, speaks_for=on))
    assert [r["number"] for r in result.scenario["recommendations"]] == [1]
    with pytest.raises(TrackerRefused, match="no field 'colour'"):
        parse_columns("Colour=colour")
    with pytest.raises(TrackerRefused, match="names 'Nope', not a header of row 1"):
        draft(read_table(path), Options(columns={"Nope": "theme", **columns}, today=TODAY))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "the sheet is empty"),
        ([["a", "b"], ["1", "x"]], "no header row in the first 20 rows"),
        ([["No.", "Details"], ["1", "x"], ["1", "y"]], "recommendation 1 is on rows 2 and 3"),
        ([["No.", "Details"], ["one", "x"]], "no recommendation could be read"),
        ([["No.", "Details", "Notes"], ["1", "x", "Begun"]], "give --date YYYY-MM-DD"),
    ],
)
def test_bad_trackers_are_refused_saying_what_is_wrong(
    tmp_path: Path, rows: list[list[str]], message: str
) -> None:
    path = _csv(tmp_path / "bad.csv", rows)
    with pytest.raises(TrackerRefused, match=message):
        draft(read_table(path), Options(today=TODAY))


def test_files_that_are_not_trackers_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TrackerRefused, match="cannot read the file"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf")
    with pytest.raises(TrackerRefused, match=r"\.csv or \.xlsx, not \.xls"):
        read_table(tmp_path / "old.xls")
    (tmp_path / "fake.xlsx").write_text("not a zip")
    with pytest.raises(TrackerRefused, match=r"not an \.xlsx workbook"):
        read_table(tmp_path / "fake.xlsx")
    (tmp_path / "latin.csv").write_bytes("No.,Details\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(TrackerRefused, match=r"latin\.csv:2: not UTF-8"):
        read_table(tmp_path / "latin.csv")
