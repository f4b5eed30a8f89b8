"""The review as a whole over HTTP (recommendation 0, `serves`), and corrections that name
their event by what it says, as scenario files and `rio correct` do (issue 14)."""

from __future__ import annotations

from datetime import date
from typing import Any

from rio.application.commands import MakeCommitment, RegisterRecommendation
from rio.domain.values import Source
from tests.api.conftest import REC, REVIEW, Api, cited, register

WIDE = f"{REC}/0"
PLAN = cited(
    "2022-06-08",
    commitment="delivery-plan",
    deliverable="A delivery plan with clear timelines, published",
    owner="Department of Health and Social Care",
)


def _events(api: Api, number: int) -> list[dict[str, Any]]:
    response = api.get(f"{REC}/{number}/history", page_size=200)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def test_a_promise_of_the_review_as_a_whole_is_recorded_once_at_recommendation_0(
    api: Api,
) -> None:
    register(api, 1)
    register(api, 2)
    register(api, 3)
    made = api.post(f"{WIDE}/commitments", {**PLAN, "serves": [1, 3]})
    assert made.status_code == 201, made.text
    assert made.json()["number"] == 0
    assert made.json()["version"] == 2  # the stream opened by its first fact
    assert made.headers["Location"].endswith("/recommendations/0/history/2")
    reported = api.post(
        f"{WIDE}/statuses",
        cited("2024-09-01", status="reported_not_delivered", commitment="delivery-plan"),
    )
    assert reported.status_code == 201, reported.text

    events = _events(api, 0)
    assert [e["type"] for e in events] == ["Registered", "CommitmentMade", "StatusReported"]
    assert events[0]["data"]["title"] == f"{REVIEW} (the review as a whole)"
    assert events[1]["data"]["serves"] == [1, 3]

    report = api.get(
        "/reports/promised-vs-delivered",
        promised_as_at="2023-11-30",
        delivered_as_at="2024-10-01",
        review=REVIEW,
    )
    assert report.status_code == 200, report.text
    rows = [r for r in report.json()["rows"] if r["commitment"] == "delivery-plan"]
    assert len(rows) == 1  # counted once, not once per recommendation it serves
    assert rows[0]["review_wide"] is True
    assert rows[0]["serves"] == [1, 3]
    assert rows[0]["outcome"] == "reported not delivered"


def test_a_review_wide_promise_serves_only_recommendations_the_review_has(api: Api) -> None:
    register(api, 1)
    refused = api.post(f"{WIDE}/commitments", {**PLAN, "serves": [1, 7]})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["errors"][0]["field"] == "body.serves"
    assert "recommendation 7 is not among the recommendations of review" in problem["detail"]
    assert api.get(f"{REC}/0/history").status_code == 404  # nothing was recorded


def test_only_the_review_as_a_whole_names_the_recommendations_it_serves(sqlite_api: Api) -> None:
    register(sqlite_api, 1)
    refused = sqlite_api.post(f"{REC}/1/commitments", {**PLAN, "serves": [1]})
    assert refused.status_code == 422, refused.text
    assert "only a promise of the review as a whole" in refused.json()["detail"]
    empty = sqlite_api.post(f"{WIDE}/commitments", {**PLAN, "serves": []})
    assert empty.status_code == 422, empty.text


def test_the_api_opens_the_review_stream_as_a_scenario_file_would(sqlite_api: Api) -> None:
    """The same first fact registers the stream with the same details, so a scenario's
    review-wide entries reloaded later match what the API recorded."""
    register(sqlite_api, 1)
    assert sqlite_api.post(f"{WIDE}/commitments", PLAN).status_code == 201
    first = MakeCommitment(
        commitment="delivery-plan",
        deliverable=PLAN["deliverable"],
        occurred=date(2022, 6, 8),
        source=Source.from_dict(PLAN["source"]),
        recorded_by="anyone",
    )
    expected = RegisterRecommendation.review_as_whole(REVIEW, REVIEW, first, "anyone")
    registered = _events(sqlite_api, 0)[0]
    assert registered["data"]["title"] == expected.title
    assert registered["data"]["text"] == expected.text
    assert registered["occurred"] == "2022-06-08"


def test_a_correction_names_its_event_by_what_it_says(api: Api) -> None:
    register(api, 1)
    body = cited(commitment="induction", deliverable="Scheme", due="April 2024")
    assert api.post(f"{REC}/1/commitments", body).status_code == 201
    by_mapping = api.post(
        f"{REC}/1/corrections",
        cited(
            event={"type": "commitment_made", "commitment": "induction"},
            changes={"due": "May 2024"},
            reason="The answer said May",
        ),
    )
    assert by_mapping.status_code == 201, by_mapping.text
    assert by_mapping.json()["event"]["data"]["corrects"] == 2
    by_text = api.post(
        f"{REC}/1/corrections",
        cited(event="commitment_made:induction", changes={"due": "June 2024"}, reason="June"),
    )
    assert by_text.status_code == 201, by_text.text
    assert by_text.json()["event"]["data"]["corrects"] == 2
    state = api.get(f"{REC}/1", as_at="2024-01-01").json()
    assert state["commitments"][0]["due"]["text"] == "June 2024"


def test_a_review_wide_event_is_corrected_by_reference(api: Api) -> None:
    register(api, 1)
    assert api.post(f"{WIDE}/commitments", PLAN).status_code == 201
    fixed = api.post(
        f"{WIDE}/corrections",
        cited(
            "2024-01-10",
            event="commitment_made:delivery-plan",
            changes={"due": "2024"},
            reason="The response gave a year",
        ),
    )
    assert fixed.status_code == 201, fixed.text
    assert _events(api, 0)[-1]["type"] == "EventCorrected"


def test_a_reference_that_names_no_event_or_several_is_refused_listing_candidates(
    sqlite_api: Api,
) -> None:
    register(sqlite_api, 1)
    for name in ("a", "b"):
        body = cited(commitment=name, deliverable="Scheme", due="April 2024")
        assert sqlite_api.post(f"{REC}/1/commitments", body).status_code == 201
    none = sqlite_api.post(
        f"{REC}/1/corrections",
        cited(event="commitment_made:zzz", retract=True, reason="wrong"),
    )
    assert none.status_code == 422, none.text
    assert "candidates" in none.json()["detail"]
    assert "commitment_made:commitment=a" in none.json()["detail"]
    several = sqlite_api.post(
        f"{REC}/1/corrections",
        cited(event={"type": "commitment_made", "due": "April 2024"}, retract=True, reason="x"),
    )
    assert several.status_code == 422, several.text
    assert "names 2 events" in several.json()["detail"]
    both = sqlite_api.post(
        f"{REC}/1/corrections",
        cited(event="commitment_made:a", version=2, retract=True, reason="x"),
    )
    assert both.status_code == 422, both.text
    neither = sqlite_api.post(f"{REC}/1/corrections", cited(retract=True, reason="x"))
    assert neither.status_code == 422, neither.text
    assert "name the event to correct once" in neither.text


def _batch(serves: list[int]) -> dict[str, Any]:
    return {
        "recommendations": [
            {**cited("2022-06-08"), "number": n, "title": f"Recommendation {n}"} for n in (1, 2)
        ],
        "review_wide": [
            {
                **cited("2024-09-01"),
                "type": "status_reported",
                "status": "reported_not_delivered",
                "commitment": "delivery-plan",
            },
            {**PLAN, "type": "commitment_made", "serves": serves},
        ],
    }


def test_a_batch_records_the_review_as_a_whole_once_as_a_scenario_file_does(api: Api) -> None:
    first = api.post(f"/reviews/{REVIEW}/batches", _batch([2]))
    again = api.post(f"/reviews/{REVIEW}/batches", _batch([2]))

    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["recommendations"][0] == {"number": 0, "version": 3}
    assert (first.json()["recorded"], again.json()["recorded"]) == (3 + 2, 0)
    events = _events(api, 0)
    # Opened by its first fact by date (the promise), whatever the order given.
    assert [e["type"] for e in events] == ["Registered", "CommitmentMade", "StatusReported"]
    assert events[0]["occurred"] == "2022-06-08"
    assert events[1]["data"]["serves"] == [2]


def test_a_batch_refuses_a_promise_serving_a_recommendation_the_review_lacks(
    sqlite_api: Api,
) -> None:
    refused = sqlite_api.post(f"/reviews/{REVIEW}/batches", _batch([2, 5]))

    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "body.review_wide.1.serves"
    assert "recommendation 5 is not among" in refused.json()["detail"]
    assert sqlite_api.get(f"{REC}/1").status_code == 404  # nothing was recorded
