"""Who may do what: keys, roles, owners' own items, revocation, rate limits."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from rio.application.keys import Keys
from rio.application.service import RIO
from rio.projections.read_model import ReadModel
from rio.projections.readers import ReplayReader
from tests.api.conftest import REC, Api, cited, committed, register, settings_for, start

PARAMS = {
    "review": "messenger-2022",
    "number": "1",
    "commitment": "induction",
    "version": "1",
    "key_id": "0123456789ab",
}


def every_route(api: Api) -> list[tuple[str, str]]:
    routes = []
    for template, operations in api.app.openapi()["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], template)
        routes += [(method.upper(), path) for method in operations]
    return routes


def test_every_route_but_health_refuses_a_request_without_a_key(sqlite_api: Api) -> None:
    routes = every_route(sqlite_api)
    assert len(routes) >= 20
    for method, path in routes:
        response = sqlite_api.client.request(method, path, json={})
        if path in ("/health", "/ready"):  # the public probes
            assert response.status_code == 200
            continue
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "rio keys create" in response.json()["detail"]


def test_the_schema_and_docs_need_a_key_too_unless_made_public(sqlite_api: Api) -> None:
    assert sqlite_api.client.get("/openapi.json").status_code == 401
    assert sqlite_api.client.get("/openapi.json", headers=sqlite_api.as_("auditor")).is_success


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer rio_0123456789ab_not-the-secret"},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "rio_zzzzzzzzzzzz_x"},
    ],
)
def test_a_bad_key_is_refused_with_401(sqlite_api: Api, headers: dict[str, str]) -> None:
    response = sqlite_api.client.get("/status", headers=headers)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_a_tampered_key_with_a_real_key_id_is_refused(sqlite_api: Api) -> None:
    real = sqlite_api.keys["auditor"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    response = sqlite_api.client.get("/status", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_the_key_may_come_in_x_api_key(sqlite_api: Api) -> None:
    response = sqlite_api.client.get("/status", headers={"X-API-Key": sqlite_api.keys["auditor"]})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("auditor", "POST", f"{REC}/1/progress-notes"),
        ("owner", "POST", f"{REC}/1/progress-notes"),
        ("admin", "POST", f"{REC}/1/progress-notes"),
        ("admin", "GET", "/status"),
        ("admin", "GET", f"{REC}/1"),
        ("owner", "GET", "/exports/tracker.csv"),
        ("owner", "GET", "/exports/tracker.xlsx"),
        ("secretariat", "GET", "/keys"),
        ("secretariat", "POST", "/keys"),
        ("auditor", "POST", "/keys"),
        ("auditor", "POST", "/keys/0123456789ab/revocation"),
    ],
)
def test_a_key_without_the_role_is_refused_with_403(
    sqlite_api: Api, role: str, method: str, path: str
) -> None:
    response = sqlite_api.client.request(
        method, path, json=cited(note="x", name="n", role="auditor"), headers=sqlite_api.as_(role)
    )
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert role in response.json()["detail"]


def test_replay_is_not_for_owners(sqlite_api: Api) -> None:
    response = sqlite_api.get("/status", role="owner", replay="true")
    assert response.status_code == 403


def test_an_owner_reads_only_what_its_owner_owns(api: Api) -> None:
    mine = committed(api, 1, owner="NHS England")
    theirs = committed(api, 2, owner="DHSC")
    accountable = f"{REC}/3"
    register(api, 3)
    assert api.post(f"{accountable}/owners", cited(owner="nhs england")).status_code == 201

    for path in (mine, accountable):
        for suffix in ("", "/history", "/history/1", "/timeline"):
            assert api.get(path + suffix, role="owner").status_code == 200, path + suffix
    for suffix in ("", "/history", "/history/1", "/timeline"):
        refused = api.get(theirs + suffix, role="owner")
        assert refused.status_code == 404
        # Exactly what a recommendation that does not exist gets: existence stays private.
        missing = api.get(f"{REC}/99{suffix}", role="owner")
        assert refused.json()["detail"] == missing.json()["detail"].replace(" 99", " 2")
    board = api.get("/status", role="owner").json()
    assert [r["number"] for r in board["recommendations"]] == [1, 3]
    report = api.get("/reports/promised-vs-delivered", role="owner", promised_as_at="2023-12-01")
    assert {row["recommendation"] for row in report.json()["rows"]} == {1}
    everything = api.get("/status", role="auditor").json()
    assert [r["number"] for r in everything["recommendations"]] == [1, 2, 3]


def test_an_admin_grants_and_revokes_keys_over_http_and_both_are_recorded(api: Api) -> None:
    created = api.post("/keys", {"name": "Jo", "role": "owner", "owner": "DHSC"}, role="admin")
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    key_id = created.json()["key_id"]
    assert created.json()["granted_by"].startswith("api:admin-holder")
    jo = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/status", headers=jo).status_code == 200

    revoked = api.post(f"/keys/{key_id}/revocation", {"reason": "left"}, role="admin")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_by"].startswith("api:admin-holder")
    assert api.client.get("/status", headers=jo).status_code == 401
    again = api.post(f"/keys/{key_id}/revocation", {}, role="admin")
    assert again.status_code == 422
    assert "already revoked" in again.json()["detail"]

    listed = api.get("/keys", role="auditor").json()
    jo_row = next(k for k in listed["keys"] if k["key_id"] == key_id)
    assert jo_row["revoke_reason"] == "left"
    assert "key" not in jo_row and all("hash" not in field for field in jo_row)
    assert api.get(f"/keys/{key_id}", role="auditor").json()["revoked_at"] is not None
    assert api.get("/keys/ffffffffffff", role="admin").status_code == 404
    bad = api.post("/keys", {"name": "X", "role": "owner"}, role="admin")
    assert bad.status_code == 422
    assert "--owner" in bad.json()["detail"] or "owner" in bad.json()["detail"]


def test_key_events_do_not_disturb_the_recommendations_projections(api: Api) -> None:
    committed(api, 1)
    api.post("/keys", {"name": "Jo", "role": "auditor"}, role="admin")
    rio = api.store.app
    assert {type(e).__name__ for e in rio.all_events()} == {"Registered", "CommitmentMade"}
    model = ReadModel(rio)
    try:
        model.catch_up()
        assert model.status().lag == 0
        day = api.get("/status").json()["as_at"]
        from datetime import date

        as_at = date.fromisoformat(day)
        assert model.programme(as_at) == ReplayReader(rio).programme(as_at)
    finally:
        model.close()


@pytest.fixture
def limited(sqlite_url: str) -> Iterator[Api]:
    yield from start(settings_for(sqlite_url, api_rate_per_minute=60, api_rate_burst=3))


def test_each_key_is_rate_limited_with_retry_after(limited: Api) -> None:
    answers = [limited.get("/status", role="auditor").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = limited.get("/status", role="auditor")
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    # Another key has its own bucket.
    assert limited.get("/status", role="secretariat").status_code == 200


def test_a_key_revoked_by_another_process_is_refused_at_once_though_it_was_cached(
    api: Api,
) -> None:
    """The principal is remembered by the key's digest (rio.application.keys); a revocation
    recorded elsewhere (here a second store, as another worker or `rio keys revoke` is) is
    seen by the very next request."""
    created = api.post("/keys", {"name": "Jo", "role": "auditor"}, role="admin").json()
    jo = {"Authorization": f"Bearer {created['key']}"}
    assert api.client.get("/status", headers=jo).status_code == 200
    assert api.client.get("/status", headers=jo).status_code == 200  # answered from the cache
    elsewhere = RIO(api.store.app.database_url)
    try:
        Keys(elsewhere).revoke(created["key_id"], revoked_by="test", reason="left")
    finally:
        elsewhere.close()
    refused = api.client.get("/status", headers=jo)
    assert refused.status_code == 401, refused.text
    assert api.client.get("/status", headers=api.as_("auditor")).status_code == 200
