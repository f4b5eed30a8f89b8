"""A value in a URL means what it says: dates are YYYY-MM-DD, numbers are digits (issue 13.6, 11).

Pydantic's lax parsing would read `as_at=1717200000` as 2024-06-01, `as_at=0` as 1970-01-01 and
`history/1.0` as version 1.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import REC, Api, committed

LAX_DATES = ["1717200000", "0", "20240601", "1717200000.0", "2024-06-01T00:00:00"]


@pytest.mark.parametrize("value", LAX_DATES)
def test_as_at_takes_only_the_written_date(sqlite_api: Api, value: str) -> None:
    response = sqlite_api.get("/status", as_at=value)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["field"] == "query.as_at"
    assert "YYYY-MM-DD" in error["message"]


@pytest.mark.parametrize("name", ["promised_as_at", "delivered_as_at"])
@pytest.mark.parametrize("value", ["1717200000", "0"])
def test_report_dates_take_only_the_written_date(sqlite_api: Api, name: str, value: str) -> None:
    params = {"promised_as_at": "2023-11-30", name: value}

    response = sqlite_api.get("/reports/promised-vs-delivered", role="auditor", **params)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [f"query.{name}"]


@pytest.mark.parametrize(
    "value", ["1717200000", "0", "20240601", "2024-W22-6", "2024-06-01T09", "20240601T0930"]
)
def test_known_at_takes_only_the_written_forms(sqlite_api: Api, value: str) -> None:
    response = sqlite_api.get("/status", role="auditor", known_at=value)

    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "query.known_at"
    assert "YYYY-MM-DD" in error["message"]


@pytest.mark.parametrize(
    "value", ["2024-06-01", "2024-06-01T09:30", "2024-06-01T09:30:00Z", "2024-06-01T09:30+01:00"]
)
def test_known_at_still_takes_a_date_or_a_timestamp(sqlite_api: Api, value: str) -> None:
    assert sqlite_api.get("/status", role="auditor", known_at=value).status_code == 200


def test_the_written_date_is_still_taken(sqlite_api: Api) -> None:
    response = sqlite_api.get("/status", as_at="2024-06-01")

    assert response.status_code == 200, response.text
    assert response.json()["as_at"] == "2024-06-01"


@pytest.mark.parametrize("version", ["1.0", "1e0", "+1", "01.0"])
def test_a_history_version_is_digits(sqlite_api: Api, version: str) -> None:
    path = committed(sqlite_api)

    response = sqlite_api.get(f"{path}/history/{version}")

    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "path.version"
    assert "whole number" in error["message"]
    assert sqlite_api.get(f"{path}/history/1").status_code == 200


def test_a_recommendation_number_and_a_page_are_digits(sqlite_api: Api) -> None:
    committed(sqlite_api)

    number = sqlite_api.get(f"{REC}/1.0")
    page = sqlite_api.get("/status", page="1.0")
    size = sqlite_api.get("/status", page_size="2.0")

    assert [number.status_code, page.status_code, size.status_code] == [422, 422, 422]
    assert number.json()["errors"][0]["field"] == "path.number"
    assert page.json()["errors"][0]["field"] == "query.page"
    assert size.json()["errors"][0]["field"] == "query.page_size"


def test_the_schema_still_documents_the_bounds_of_strict_numbers(sqlite_api: Api) -> None:
    schema = sqlite_api.client.get("/openapi.json", headers=sqlite_api.as_("auditor")).json()
    operation = schema["paths"]["/reviews/{review}/recommendations/{number}/history/{version}"]
    by_name = {p["name"]: p["schema"] for p in operation["get"]["parameters"]}

    assert by_name["version"]["minimum"] == 1
    assert by_name["number"]["maximum"] == 100_000
