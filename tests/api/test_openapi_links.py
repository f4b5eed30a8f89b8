"""The schema's links: each answer that records something leads to the operations on it."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api

OPS = "/reviews/{review}/recommendations/{number}"


def links_of(api: Api, path: str, status: str) -> dict[str, Any]:
    answer = api.app.openapi()["paths"][path]["post"]["responses"][status]
    by_path = {
        operation["operationId"]: (method, route)
        for route, methods in api.app.openapi()["paths"].items()
        for method, operation in methods.items()
    }
    return {by_path[link["operationId"]]: link["parameters"] for link in answer["links"].values()}


def test_a_registered_recommendation_leads_to_reading_and_recording_on_it(
    sqlite_api: Api,
) -> None:
    links = links_of(sqlite_api, "/reviews/{review}/recommendations", "201")
    assert links[("get", OPS)] == {
        "review": "$response.body#/review",
        "number": "$response.body#/number",
    }
    assert ("post", f"{OPS}/progress-notes") in links
    assert links[("get", f"{OPS}/history/{{version}}")]["version"] == "$response.body#/version"
    # Not to what needs a commitment it did not make.
    assert ("post", f"{OPS}/commitments/{{commitment}}/delivery") not in links


def test_a_commitment_leads_to_revising_delivering_and_withdrawing_it(sqlite_api: Api) -> None:
    links = links_of(sqlite_api, f"{OPS}/commitments", "201")
    for step in ("revisions", "delivery", "withdrawal"):
        parameters = links[("post", f"{OPS}/commitments/{{commitment}}/{step}")]
        assert parameters["commitment"] == "$request.body#/commitment"


def test_a_granted_key_leads_to_reading_and_revoking_it(sqlite_api: Api) -> None:
    links = links_of(sqlite_api, "/keys", "201")
    assert links == {
        ("get", "/keys/{key_id}"): {"key_id": "$response.body#/key_id"},
        ("post", "/keys/{key_id}/revocation"): {"key_id": "$response.body#/key_id"},
    }


def test_the_page_size_bound_is_in_the_schema(sqlite_api: Api) -> None:
    (page_size,) = [
        p
        for p in sqlite_api.app.openapi()["paths"]["/status"]["get"]["parameters"]
        if p["name"] == "page_size"
    ]
    assert (
        page_size["schema"]["maximum"] == sqlite_api.app.state.services.settings.api_max_page_size
    )


def test_a_405_names_every_method_of_the_path(sqlite_api: Api) -> None:
    answer = sqlite_api.client.request("PUT", "/keys", headers=sqlite_api.as_("admin"))
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
