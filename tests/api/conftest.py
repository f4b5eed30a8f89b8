"""An API on an empty store (SQLite and PostgreSQL), keys for each role, and small helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rio.api.app import create_app
from rio.application.keys import Keys
from rio.settings import Settings

REVIEW = "messenger-2022"
REC = f"/reviews/{REVIEW}/recommendations"
SOURCE = {
    "document": "Written answer UIN 4567",
    "date": "2023-11-20",
    "quote": "The national induction scheme will be launched in April 2024.",
}


def settings_for(database_url: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": database_url,
        "api_rate_per_minute": 0,  # off unless a test is about it
        "log_format": "json",
    }
    return Settings(**{**base, **overrides})


@dataclass
class Api:
    """A running app with one key per role; `as_(role)` gives that key's headers."""

    app: FastAPI
    client: TestClient
    keys: dict[str, str]
    store: Keys

    def as_(self, role: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **headers}

    def post(self, path: str, body: Any, role: str = "secretariat", **headers: str) -> Any:
        return self.client.post(path, json=body, headers=self.as_(role, **headers))

    def get(self, path: str, role: str = "secretariat", **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.as_(role))


def start(settings: Settings) -> Iterator[Api]:
    app = create_app(settings)
    store: Keys = app.state.services.keys
    keys = {
        role: store.create(name=f"{role}-holder", role=role, granted_by="test")[0]
        for role in ("secretariat", "auditor", "admin")
    }
    keys["owner"] = store.create(
        name="owner-holder", role="owner", owner="NHS England", granted_by="test"
    )[0]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(app, client, keys, store)


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """On SQLite and on PostgreSQL."""
    yield from start(settings_for(database_url))


@pytest.fixture
def sqlite_api(sqlite_url: str) -> Iterator[Api]:
    """On SQLite only, for what the store does not change (validation, limits, headers)."""
    yield from start(settings_for(sqlite_url))


def cited(occurred: str = "2023-11-20", **fields: Any) -> dict[str, Any]:
    return {"occurred": occurred, "source": SOURCE, **fields}


def register(api: Api, number: int = 1, **fields: Any) -> Any:
    body = cited("2022-06-08", number=number, title="Targeted interventions", **fields)
    response = api.post(REC, body)
    assert response.status_code == 201, response.text
    return response


def committed(api: Api, number: int = 1, owner: str | None = None) -> str:
    """Recommendation `number` with commitment `induction`, due April 2024; returns its path."""
    register(api, number)
    path = f"{REC}/{number}"
    body = cited(commitment="induction", deliverable="National induction scheme", due="April 2024")
    if owner is not None:
        body["owner"] = owner
    response = api.post(f"{path}/commitments", body)
    assert response.status_code == 201, response.text
    return path
