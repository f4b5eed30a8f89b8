"""Dates at the edge of the calendar are refused where they enter (issue 13, item 4).

A commitment due "9999" or a recommendation registered in year 1 used to be accepted by
the API and then broke the board for every reader with a 500.
"""

from __future__ import annotations

from tests.api.conftest import REC, Api, cited, register


def test_a_promise_due_after_2199_is_refused_naming_the_bound(sqlite_api: Api) -> None:
    register(sqlite_api)
    body = cited(commitment="far", deliverable="A far promise", due="9999")
    response = sqlite_api.post(f"{REC}/1/commitments", body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "9999" in problem["detail"] and "2199-12-31" in problem["detail"]
    history = sqlite_api.get(f"{REC}/1/history").json()
    assert [e["type"] for e in history["events"]] == ["Registered"]


def test_a_recommendation_registered_in_year_1_is_refused(sqlite_api: Api) -> None:
    body = cited("0001-01-01", number=1, title="Targeted interventions")
    response = sqlite_api.post(REC, body)
    assert response.status_code == 422, response.text
    assert "1900-01-01" in response.json()["detail"]
    assert sqlite_api.get(f"{REC}/1").status_code == 404
