"""A configuration fault met while answering is a 500 the operator is told of, never a 4xx."""

from __future__ import annotations

from structlog.testing import capture_logs

from rio.alerts.owners import OwnersFileError
from rio.api.problems import MEDIA_TYPE
from tests.api.conftest import Api


def test_a_configuration_fault_answers_500_problem_json_and_is_logged(sqlite_api: Api) -> None:
    def misconfigured() -> None:
        raise OwnersFileError("RIO_OWNERS_FILE: cannot read the owners file /etc/rio/owners.yaml")

    sqlite_api.app.add_api_route("/misconfigured", misconfigured)

    with capture_logs() as logs:
        response = sqlite_api.get("/misconfigured")

    assert response.status_code == 500
    assert response.headers["content-type"] == MEDIA_TYPE
    problem = response.json()
    assert problem["type"] == "urn:rio:problem:configuration"
    assert "RIO_OWNERS_FILE" in problem["detail"]
    assert [e["log_level"] for e in logs if e["event"] == "configuration_error"] == ["error"]
