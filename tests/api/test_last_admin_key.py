"""Issue 13: an admin key could revoke every key, the last admin's included, leaving no one
able to grant or revoke keys over the API. The last admin key standing is refused (409),
through the API and the CLI alike, and the refusal says how to recover."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rio.application.keys import LastAdminKey
from rio.cli.main import app
from rio.settings import get_settings
from tests.api.conftest import Api


def admin_id(api: Api) -> str:
    keys = api.get("/keys", role="admin").json()["keys"]
    (admin,) = [k for k in keys if k["role"] == "admin" and k["revoked_at"] is None]
    return str(admin["key_id"])


def test_the_last_admin_key_is_not_revoked_and_the_answer_says_how_to_recover(api: Api) -> None:
    key_id = admin_id(api)
    before = api.get("/keys", role="admin").json()

    refused = api.post(f"/keys/{key_id}/revocation", {"reason": "leaving"}, role="admin")

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("last-admin-key")
    assert "last admin key" in problem["detail"]
    assert "rio keys create --name NAME --role admin" in problem["detail"]
    # Nothing recorded: the key still works and its history is unchanged.
    assert api.get("/keys", role="admin").json() == before


def test_an_admin_key_is_revoked_once_another_admin_key_stands(api: Api) -> None:
    first = admin_id(api)
    created = api.post("/keys", {"name": "Sam", "role": "admin"}, role="admin")
    assert created.status_code == 201, created.text
    second = {"Authorization": f"Bearer {created.json()['key']}"}

    revoked = api.client.post(f"/keys/{first}/revocation", json={}, headers=second)
    assert revoked.status_code == 200, revoked.text

    # Sam's key is now the last one standing: it cannot revoke itself.
    itself = created.json()["key_id"]
    refused = api.client.post(f"/keys/{itself}/revocation", json={}, headers=second)
    assert refused.status_code == 409, refused.text
    # A revoked admin key is "already revoked", not the last admin's.
    again = api.client.post(f"/keys/{first}/revocation", json={}, headers=second)
    assert again.status_code == 422 and "already revoked" in again.json()["detail"]


def test_other_keys_are_revoked_whatever_admins_there_are(api: Api) -> None:
    created = api.post("/keys", {"name": "Jo", "role": "secretariat"}, role="admin")
    revoked = api.post(f"/keys/{created.json()['key_id']}/revocation", {}, role="admin")
    assert revoked.status_code == 200, revoked.text


def test_the_cli_refuses_the_last_admin_key_too_and_creating_one_recovers(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIO_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert (
            runner.invoke(app, ["keys", "create", "--name", "A", "--role", "admin"]).exit_code == 0
        )
        (row,) = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
        refused = runner.invoke(app, ["keys", "revoke", row["key_id"]])
        assert isinstance(refused.exception, LastAdminKey)  # `rio` prints it and exits 2
        recovered = runner.invoke(app, ["keys", "create", "--name", "B", "--role", "admin"])
        assert recovered.exit_code == 0, recovered.output
        assert runner.invoke(app, ["keys", "revoke", row["key_id"]]).exit_code == 0
    finally:
        get_settings.cache_clear()
