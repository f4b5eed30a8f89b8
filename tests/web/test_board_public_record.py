"""The board and its exports "as the public record stood on D" (`public_at`, the rule of
rio.domain.public_record), asked with GOV.UK date boxes as `as_at` is; and the fold's board
rows agree with the read model's wherever both can answer."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl

from rio.web.board import board as board_rows
from rio.web.board import board_of
from tests.web.conftest import BOARD, REVIEW, Board

TRACKER = "Messenger Review: Table of Recommendations"


def test_the_fold_gives_the_boards_rows_exactly_as_the_read_model(board: Board) -> None:
    services = board.services
    services.catch_up()
    for day in (date(2022, 7, 1), date(2023, 11, 30), date(2024, 6, 1), date(2024, 10, 1)):
        from_sql = board_rows(services.read_model, REVIEW, day, policy=services.policy)
        programme = services.programme(day, replay=True)
        assert board_of(programme, REVIEW, policy=services.policy) == from_sql, day


def test_the_board_as_the_public_record_stood_leaves_out_the_late_tracker(board: Board) -> None:
    board.sign_in("auditor")
    everything = board.get(BOARD, as_at="2024-10-01")
    public = board.get(BOARD, as_at="2024-10-01", public_at="2024-06-01")

    assert everything.status_code == public.status_code == 200
    assert "as the public record stood on <strong>1 June 2024</strong>" in public.text
    assert "as the public record stood" not in everything.text
    assert "reported not delivered" in everything.text  # the tracker's "not yet published"
    assert "reported not delivered" not in public.text
    # The form shows the date asked; the export links carry it, the other pages' do not.
    assert 'name="public_at-year" type="text" inputmode="numeric"' in public.text
    assert 'value="2024"' in public.text
    assert "tracker.csv?as_at=2024-10-01&amp;public_at=2024-06-01" in public.text
    assert "promised-vs-delivered?as_at=2024-10-01&amp;public_at" not in public.text


def test_public_at_is_asked_in_day_month_and_year_boxes(sqlite_board: Board) -> None:
    sqlite_board.sign_in("auditor")
    asked = sqlite_board.get(
        BOARD,
        **{"as_at": "2024-10-01", "public_at-day": "1", "public_at-month": "6"},
        **{"public_at-year": "2024"},
    )
    assert asked.status_code in (302, 303, 307), asked.text
    assert asked.headers["location"] == f"{BOARD}?public_at=2024-06-01&as_at=2024-10-01"
    wrong = sqlite_board.get(
        BOARD, **{"public_at-day": "31", "public_at-month": "2", "public_at-year": "2024"}
    )
    assert wrong.status_code == 422
    assert "As the public record stood on must be a real date" in wrong.text
    assert 'id="public_at-day"' in wrong.text  # the form again, with the field to fix


def test_only_auditors_and_the_secretariat_ask_the_public_record(sqlite_board: Board) -> None:
    sqlite_board.sign_in("owner")
    refused = sqlite_board.get(BOARD, public_at="2024-06-01")
    assert refused.status_code == 403
    assert "public_at" in refused.text
    assert 'id="public_at-day"' not in sqlite_board.get(BOARD).text


def test_the_board_exports_as_the_public_record_stood_say_so(board: Board) -> None:
    board.sign_in("auditor")
    asked = {"as_at": "2024-10-01", "public_at": "2024-06-01"}
    exported = board.get(f"{BOARD}/tracker.csv", **asked)
    assert exported.status_code == 200, exported.text
    assert "public-2024-06-01.csv" in exported.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[-2][0] == "public record" and "2024-06-01" in table[-2][1]
    assert table[-1][0] == "checkpoint"
    assert TRACKER not in exported.text
    assert TRACKER in board.get(f"{BOARD}/tracker.csv", as_at="2024-10-01").text
    book = openpyxl.load_workbook(io.BytesIO(board.get(f"{BOARD}/tracker.xlsx", **asked).content))
    assert book.sheetnames[0] == "2024-10-01, public 2024-06-01"
    assert book["Checkpoint"]["A1"].value == "public record"
