"""One structured log line per request: who, what route, what status, how long, what changed."""

from __future__ import annotations

from structlog.testing import capture_logs

from rio.aggregates.recommendation import recommendation_id
from tests.api.conftest import REC, REVIEW, Api, cited, register


def test_each_request_logs_one_line_with_its_principal_route_and_outcome(sqlite_api: Api) -> None:
    register(sqlite_api)
    with capture_logs() as logs:
        sqlite_api.client.post(
            f"{REC}/1/progress-notes",
            json=cited(note="n"),
            headers=sqlite_api.as_("secretariat", **{"X-Request-ID": "req-42"}),
        )
        sqlite_api.client.get("/status")
    lines = [line for line in logs if line["event"] == "request"]
    assert len(lines) == 2
    command, refused = lines
    assert command["request_id"] == "req-42"
    assert command["principal"] == "secretariat-holder"
    assert command["role"] == "secretariat"
    assert command["route"] == "/reviews/{review}/recommendations/{number}/progress-notes"
    assert command["status"] == 201
    assert command["command"] == "note_progress"
    assert command["aggregate_id"] == str(recommendation_id(REVIEW, 1))
    assert command["version"] == 2
    assert isinstance(command["duration_ms"], float)
    assert refused["status"] == 401 and refused["principal"] is None
    assert len(refused["request_id"]) == 32


def test_a_replayed_request_is_logged_as_a_replay(sqlite_api: Api) -> None:
    register(sqlite_api)
    headers = {"Idempotency-Key": "k1"}
    sqlite_api.post(f"{REC}/1/progress-notes", cited(note="n"), **headers)
    with capture_logs() as logs:
        sqlite_api.post(f"{REC}/1/progress-notes", cited(note="n"), **headers)
    (line,) = [line for line in logs if line["event"] == "request"]
    assert line["idempotent_replay"] is True
    assert line["version"] == 2
