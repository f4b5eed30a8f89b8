"""`rio keys` and `rio serve`'s settings, from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rio.api.app import create_app
from rio.cli.main import app
from rio.domain.errors import InvalidCommand
from rio.settings import get_settings
from tests.api.conftest import settings_for


@pytest.fixture
def store(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("RIO_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    yield sqlite_url
    get_settings.cache_clear()


def test_keys_are_created_listed_and_revoked_from_the_cli(store: str) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--name", "Jo", "--role", "auditor"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("rio_")
    assert "cannot be shown again" in created.stderr
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    (row,) = listed
    assert key not in json.dumps(listed) and row["granted_by"].startswith("cli:")
    assert (row["name"], row["role"], row["revoked_at"]) == ("Jo", "auditor", None)
    revoked = runner.invoke(app, ["keys", "revoke", row["key_id"], "--reason", "left"])
    assert revoked.exit_code == 0, revoked.output
    (row,) = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert row["revoke_reason"] == "left" and row["revoked_by"].startswith("cli:")
    again = runner.invoke(app, ["keys", "revoke", row["key_id"]])
    assert isinstance(again.exception, InvalidCommand)  # `rio` prints it and exits 2


def test_an_owner_key_must_name_its_owner(store: str) -> None:
    result = CliRunner().invoke(app, ["keys", "create", "--name", "Jo", "--role", "owner"])
    assert isinstance(result.exception, InvalidCommand)
    assert "--owner" in str(result.exception)


def test_sqlite_commits_are_durable(tmp_path: Path) -> None:
    """WAL with synchronous=FULL: an acknowledged commit survives a crash."""
    api = create_app(settings_for(f"sqlite:///{tmp_path / 'rio.db'}"))
    try:
        assert api.state.services.sqlite_durability() == ("wal", 2)
    finally:
        api.state.services.close()


def test_docs_can_be_made_public(sqlite_url: str) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings_for(sqlite_url, api_public_docs=True))) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 200
        assert client.get("/status").status_code == 401
