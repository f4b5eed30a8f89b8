"""Queries through HTTP: as at a date, as known at a moment, history, reports, exports."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from rio.reports import tracker
from tests.api.conftest import Api, cited, committed, register


def test_a_recommendation_as_at_a_past_date_and_as_known_at_a_past_moment(api: Api) -> None:
    path = committed(api)
    before_slip = datetime.now(UTC)
    slipped = api.post(
        f"{path}/commitments/induction/revisions", cited("2024-03-01", due="Spring 2025")
    )
    assert slipped.status_code == 201

    then = api.get(path, as_at="2024-02-01").json()
    assert then["commitments"][0]["due"]["text"] == "April 2024"
    assert then["rating"]["rating"] == "Green"
    assert then["as_at"] == "2024-02-01"

    later = api.get(path, as_at="2024-06-01")
    assert later.headers["ETag"] == '"3"'
    commitment = later.json()["commitments"][0]
    assert commitment["due"]["text"] == "Spring 2025"
    assert commitment["slip_days"] == 396
    assert commitment["revisions"][0]["unexplained"] is True
    assert later.json()["rating"]["rule"] == "slipped"
    assert "never explained" in later.json()["rating"]["reason"]

    known = api.get(path, as_at="2024-06-01", known_at=before_slip.isoformat()).json()
    assert known["commitments"][0]["due"]["text"] == "April 2024"
    assert known["rating"]["rule"] == "overdue"
    assert known["version"] == 3  # the ETag is always the version now

    too_early = api.get(path, as_at="2021-01-01")
    assert too_early.status_code == 404
    assert "not yet registered as at 2021-01-01" in too_early.json()["detail"]


def test_replay_answers_exactly_as_the_read_model(api: Api) -> None:
    path = committed(api)
    api.post(f"{path}/commitments/induction/revisions", cited("2024-03-01", due="Spring 2025"))
    for as_at in ("2023-12-01", "2024-06-01"):
        fast = api.get(path, role="auditor", as_at=as_at).json()
        slow = api.get(path, role="auditor", as_at=as_at, replay="true").json()
        assert fast == slow
        assert (
            api.get("/status", as_at=as_at).json()["recommendations"]
            == (api.get("/status", as_at=as_at, replay="true").json()["recommendations"])
        )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_at": "June 2024"}, "query.as_at"),
        ({"known_at": "last week"}, "query.known_at"),
        ({"page_size": "201"}, "query.page_size"),
        ({"page_size": "0"}, "query.page_size"),
        ({"page": "0"}, "query.page"),
    ],
)
def test_bad_query_parameters_are_422_naming_them(
    sqlite_api: Api, params: dict[str, str], field: str
) -> None:
    response = sqlite_api.get("/status", **params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_history_has_both_times_and_who_recorded_and_pages_are_bounded(api: Api) -> None:
    path = committed(api)
    for i in range(5):
        assert api.post(f"{path}/progress-notes", cited(note=f"note {i}")).status_code == 201
    first = api.get(f"{path}/history", page_size=3)
    assert first.headers["ETag"] == '"7"'
    page = first.json()
    assert (page["total"], page["next_page"], len(page["events"])) == (7, 2, 3)
    event = page["events"][0]
    assert event["type"] == "Registered" and event["occurred"] == "2022-06-08"
    assert datetime.fromisoformat(event["recorded"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert event["recorded_by"].startswith("api:secretariat-holder")
    last = api.get(f"{path}/history", page=3, page_size=3).json()
    assert ([e["version"] for e in last["events"]], last["next_page"]) == ([7], None)
    one = api.get(f"{path}/history/4")
    assert one.json()["data"] == {"note": "note 1", "commitment": None}
    assert api.get(f"{path}/history/8").status_code == 404
    assert api.get(f"{path}/history", page_size=201).status_code == 422


def test_status_pages_and_filters_by_review(sqlite_api: Api) -> None:
    for n in (1, 2, 3):
        register(sqlite_api, n)
    other = cited("2022-06-08", number=1, title="Other review")
    assert sqlite_api.post("/reviews/other-2020/recommendations", other).status_code == 201
    board = sqlite_api.get("/status", page_size=2).json()
    assert (board["total"], board["next_page"]) == (4, 2)
    assert [r["rating"]["rating"] for r in board["recommendations"]] == ["Not rated"] * 2
    only = sqlite_api.get("/status", review="Messenger-2022").json()
    assert [r["number"] for r in only["recommendations"]] == [1, 2, 3]
    assert board["position"] >= 4


def test_the_slippage_timeline_shows_each_move_against_the_first_promise(api: Api) -> None:
    path = committed(api)
    api.post(
        f"{path}/commitments/induction/revisions",
        cited("2024-03-01", due="later in 2024", reason="r"),
    )
    api.post(f"{path}/commitments/induction/revisions", cited("2024-05-01", due="Spring 2025"))
    response = api.get(f"{path}/timeline", role="auditor")
    assert response.headers["ETag"] == '"4"'
    steps = response.json()["timelines"][0]["steps"]
    assert [(s["kind"], s["slip_days"], s["unexplained"]) for s in steps] == [
        ("promised", 0, False),
        ("revised", 245, False),
        ("revised", 396, True),
    ]


def test_promised_vs_delivered(api: Api) -> None:
    late = committed(api, 1)
    api.post(f"{late}/commitments/induction/delivery", cited("2024-09-02", evidence="Launched"))
    committed(api, 2)
    report = api.get(
        "/reports/promised-vs-delivered",
        role="auditor",
        promised_as_at="2023-11-30",
        delivered_as_at="2024-10-01",
    )
    assert report.status_code == 200, report.text
    data = report.json()
    assert [(r["recommendation"], r["outcome"], r["days"]) for r in data["rows"]] == [
        (1, "delivered late", 125),
        (2, "overdue", 154),
    ]
    assert data["summary"].endswith("1 delivered late, 1 overdue")
    backwards = api.get(
        "/reports/promised-vs-delivered", promised_as_at="2024-01-01", delivered_as_at="2023-01-01"
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "query.delivered_as_at"
    missing = api.get("/reports/promised-vs-delivered")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "query.promised_as_at"


def test_the_tracker_exports_as_csv_and_xlsx(api: Api) -> None:
    path = committed(api, 1)
    api.post(f"{path}/actions", cited("2022-06-08", action="1.1", text="Design the scheme"))
    api.post(f"{path}/progress-notes", cited(note="=HYPERLINK(evil)"))
    response = api.get("/exports/tracker.csv", role="auditor", as_at="2024-06-01")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    # The review is in the file name (issue 18), and the CSV opens with a byte-order mark.
    assert "rio-tracker-messenger-2022-2024-06-01.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == list(tracker.COLUMNS)
    row = dict(zip(table[0], table[1], strict=True))
    assert (row["Review"], row["No."]) == ("messenger-2022", "1")
    assert row["Details of recommendation"].startswith("Targeted interventions")
    assert "Action 1.1: Design the scheme" in row["Details of recommendation"]
    assert "National induction scheme, due April 2024" in row["Implementation"]
    assert row["Extent of implementation"].startswith("Red: ")
    assert "Written answer UIN 4567 (2023-11-20)" in row["Source"]
    notes = row["Updated notes on implementation"]
    assert "=HYPERLINK" in notes and not notes.startswith("=")

    workbook = api.get("/exports/tracker.xlsx", role="secretariat", as_at="2024-06-01")
    assert workbook.status_code == 200
    assert "rio-tracker-messenger-2022-2024-06-01.xlsx" in workbook.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cells = [[c.value for c in r] for r in sheet.iter_rows()]
    assert cells[0] == table[0]
    assert cells[1][2] == 1  # the number in its own column, as a number
    assert str(cells[1][3]).startswith("Targeted interventions")


def test_every_answer_carries_a_request_id_and_echoes_a_given_one(sqlite_api: Api) -> None:
    response = sqlite_api.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    fresh = sqlite_api.client.get("/status")
    assert len(fresh.headers["X-Request-ID"]) == 32
    unsafe = sqlite_api.client.get("/health", headers={"X-Request-ID": "a b\tc"})
    assert unsafe.headers["X-Request-ID"] != "a b\tc"


def test_unknown_routes_and_methods_are_problems(sqlite_api: Api) -> None:
    missing = sqlite_api.get("/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = sqlite_api.client.delete("/status", headers=sqlite_api.as_("auditor"))
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"


def test_the_read_model_follows_commands_without_a_query_asking(api: Api) -> None:
    """Commands answer before the read model has their events; a follower thread applies
    them soon after, and a query in between still catches up and sees its own write."""
    path = committed(api)
    services = api.app.state.services
    deadline = time.monotonic() + 30
    while services.read_model.status().lag and time.monotonic() < deadline:
        time.sleep(0.05)
    assert services.read_model.status().lag == 0, "the follower brought the read model up to date"
    slipped = api.post(
        f"{path}/commitments/induction/revisions", cited("2024-03-01", due="Spring 2025")
    )
    assert slipped.status_code == 201
    now = api.get(path, as_at="2024-06-01").json()  # asked at once: no waiting for the thread
    assert now["commitments"][0]["due"]["text"] == "Spring 2025"
