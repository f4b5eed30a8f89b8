"""The tracker export in the public tracker's shape: its columns, the number and the
government response in columns of their own, themes from the review's registration, an
autofilter and print titles in the XLSX, a byte-order mark in the CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl

from rio.application.reviews import Reviews
from rio.application.service import RIO
from rio.projections.read_model import ReadModel
from rio.projections.reviews import ReviewRegister
from rio.reports.tracker import COLUMNS, file_name, rows, to_csv, to_xlsx
from rio.scenario import batches, read
from tests.conftest import MESSENGER

CORONER = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "coroner-report.yaml"
PUBLIC_TRACKER_HEADINGS = (  # seed 000's heading row, as the public tracker words it
    "Type of recommendation",
    "No.",
    "Details of Recommendation",
    "Implementation",
    "Source",
    "Extent of Implementation",
)


def _store(database_url: str) -> tuple[RIO, ReadModel, ReviewRegister]:
    rio = RIO(database_url)
    for path in (MESSENGER, CORONER):
        scenario, lines = read(path)
        rio.record_batch(batches(scenario, lines, str(path), "test"))
        Reviews(rio).register(scenario.review.command("test"))
    model = ReadModel(rio)
    return rio, model, ReviewRegister(rio, model.engine)


def test_the_export_has_the_public_trackers_columns_and_a_response_column(
    database_url: str,
) -> None:
    _, model, register = _store(database_url)
    programme = model.programme(date(2024, 10, 1))
    tracker = rows(programme, reviews=register.registered())
    lowered = [c.casefold() for c in COLUMNS]
    for heading in PUBLIC_TRACKER_HEADINGS:
        assert heading.casefold() in lowered, heading
    assert "Government response" in COLUMNS
    by_key = {(r.review, r.number): r for r in tracker}
    # every recommendation of both reviews, once, and Messenger's review-wide promises in a
    # row of their own ("All")
    assert len(by_key) == 10
    assert ("messenger-2022", "All") in by_key
    assert by_key[("pfd-2024-0117", 2)].theme == "Staffing"
    messenger_1 = by_key[("messenger-2022", 1)]
    assert "accept" in messenger_1.response.casefold()  # the decision, not in the notes
    assert messenger_1.response not in messenger_1.notes

    text = to_csv(tracker)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert tuple(table[0]) == COLUMNS
    assert [r[2] for r in table[1:]] == [str(r.number) for r in tracker]
    assert file_name(programme, date(2024, 10, 1), "csv") == "rio-tracker-portfolio-2024-10-01.csv"
    assert (
        file_name(programme, date(2024, 10, 1), "csv", "pfd-2024-0117")
        == "rio-tracker-pfd-2024-0117-2024-10-01.csv"
    )


def test_the_workbook_has_an_autofilter_and_prints_its_header_on_every_page(
    database_url: str,
) -> None:
    _, model, register = _store(database_url)
    tracker = rows(model.programme(date(2024, 10, 1)), reviews=register.registered())
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(tracker, title="Tracker 2024-10-01")))
    sheet = book.active
    assert sheet is not None
    assert sheet.auto_filter.ref == f"A1:I{len(tracker) + 1}"
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert tuple(header) == COLUMNS
    assert all(cell.font.b for cell in sheet[1])
    assert [sheet.cell(row=i + 2, column=3).value for i in range(len(tracker))] == [
        r.number for r in tracker
    ]
