"""`/health` says the process answers; `/ready` that the store answers and the read model is
within RIO_READY_MAX_LAG events of the log's head (issue 15, "a deployment people expect")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy.exc

from rio.api.services import Services
from tests.api.conftest import Api, committed, settings_for, start


@pytest.fixture
def strict_api(database_url: str) -> Iterator[Api]:
    """Ready only while the read model trails the log by at most 2 events."""
    yield from start(settings_for(database_url, ready_max_lag=2))


def services_of(api: Api) -> Services:
    services: Services = api.app.state.services
    return services


def record_without_catching_up(api: Api, events: int) -> None:
    """Append events as another process would (keys granted from the CLI, say): nothing here
    wakes this API's read model, so it falls behind by exactly `events`."""
    for i in range(events):
        api.store.create(name=f"elsewhere-{i}", role="auditor", granted_by="test")


def test_health_needs_no_key_and_says_the_process_answers(sqlite_api: Api) -> None:
    response = sqlite_api.client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_on_a_caught_up_store_answers_200_with_its_lag_and_needs_no_key(api: Api) -> None:
    committed(api)
    services_of(api).catch_up()

    response = api.client.get("/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"store": "ok", "lag": 0, "max_lag": 1000}


def test_ready_reports_a_lag_within_the_bound_and_stays_ready(strict_api: Api) -> None:
    services_of(strict_api).catch_up()
    record_without_catching_up(strict_api, 2)

    response = strict_api.client.get("/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"store": "ok", "lag": 2, "max_lag": 2}


def test_ready_is_503_naming_the_read_model_when_it_trails_by_more_than_the_bound(
    strict_api: Api,
) -> None:
    services_of(strict_api).catch_up()
    record_without_catching_up(strict_api, 3)

    response = strict_api.client.get("/ready")

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:rio:problem:not-ready"
    assert "read model is 3 events behind" in problem["detail"]
    assert "2 allowed (RIO_READY_MAX_LAG)" in problem["detail"]
    assert "Retry-After" in response.headers
    # Liveness is another question: the process still answers.
    assert strict_api.client.get("/health").status_code == 200

    services_of(strict_api).catch_up()
    assert strict_api.client.get("/ready").json() == {"store": "ok", "lag": 0, "max_lag": 2}


def test_ready_is_503_when_the_store_does_not_answer_while_health_stays_200(
    sqlite_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> None:
        raise sqlalchemy.exc.OperationalError("SELECT", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(services_of(sqlite_api).read_model, "status", unreachable)

    ready = sqlite_api.client.get("/ready")
    health = sqlite_api.client.get("/health")

    assert ready.status_code == 503
    assert ready.json()["type"] == "urn:rio:problem:store-unavailable"
    assert "store" in ready.json()["detail"]
    assert health.status_code == 200
