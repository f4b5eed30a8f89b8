"""A board on the Messenger scenario (SQLite and PostgreSQL), signed in as any role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rio.api.app import create_app
from rio.api.services import Services
from rio.application.keys import Keys
from rio.scenario import batches, read
from tests.api.conftest import cited, settings_for
from tests.conftest import MESSENGER

REVIEW = "messenger-2022"
BOARD = f"/board/{REVIEW}"
CQC = "Care Quality Commission"


@dataclass
class Board:
    app: FastAPI
    client: TestClient
    keys: dict[str, str]

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def store(self) -> Keys:
        return self.services.keys

    def sign_in(self, role: str) -> httpx.Response:
        """Signs the client in with `role`'s key (and out of any other)."""
        self.client.cookies.clear()
        response = self.post_sign_in(self.keys[role])
        assert response.status_code == 303, response.text
        return response

    def post_sign_in(
        self, key: str, target: str | None = BOARD, url: str = "/board/sign-in", **headers: str
    ) -> httpx.Response:
        """Posts the sign-in form as a browser does: opened first, so it carries its token."""
        data = {"key": key, "csrf": self.form_token("/board/sign-in")}
        if target is not None:
            data["next"] = target
        return self.client.post(url, data=data, headers=headers, follow_redirects=False)

    def sign_out(self) -> httpx.Response:
        """Presses the board's Sign out button."""
        return self.client.post(
            "/board/sign-out", data={"csrf": self.form_token("/board/")}, follow_redirects=False
        )

    def form_token(self, page: str) -> str:
        """The token in the form on `page`, as a browser that opened it would send."""
        found = re.search(r'name="csrf" value="([^"]*)"', self.get(page).text)
        assert found is not None, f"no form token on {page}"
        return found.group(1)

    def get(self, path: str, **params: Any) -> httpx.Response:
        # httpx drops a query written in the path when given params, even empty ones.
        return self.client.get(path, params=params or None, follow_redirects=False)


def start(database_url: str, **settings: Any) -> Iterator[Board]:
    app = create_app(settings_for(database_url, session_secret="board-test-secret", **settings))
    services: Services = app.state.services
    scenario, lines = read(MESSENGER)
    services.rio.record_batch(batches(scenario, lines, str(MESSENGER), "test"))
    keys = {
        role: services.keys.create(name=f"{role} holder", role=role, granted_by="test")[0]
        for role in ("secretariat", "auditor", "admin")
    }
    for name, owner in (("owner", "NHS England"), ("cqc", CQC)):
        keys[name] = services.keys.create(
            name=f"{name} holder", role="owner", owner=owner, granted_by="test"
        )[0]
    with TestClient(app, raise_server_exceptions=False) as client:
        _add_recommendation_8(client, keys["secretariat"])
        yield Board(app, client, keys)


def _add_recommendation_8(client: TestClient, key: str) -> None:
    """A recommendation only the CQC owns, with a human assessment beside its rating."""
    headers = {"Authorization": f"Bearer {key}"}
    base = f"/reviews/{REVIEW}/recommendations"
    steps: list[tuple[str, dict[str, Any]]] = [
        (base, cited("2022-06-08", number=8, title="Inspect <leadership> & culture")),
        (f"{base}/8/owners", cited("2022-06-08", owner=CQC)),
        (
            f"{base}/8/commitments",
            cited(
                "2023-11-20",
                commitment="inspections",
                deliverable="Well-led inspections include leadership culture",
                due="Spring 2024",
            ),
        ),
        (
            f"{base}/8/assessments",
            cited(
                "2024-05-01",
                scale="dcs5",
                rating="Amber/Red",
                rationale="Inspection framework still in draft",
                assessor="RIO secretariat",
            ),
        ),
    ]
    for path, body in steps:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text


@pytest.fixture
def board(database_url: str) -> Iterator[Board]:
    """On SQLite and on PostgreSQL."""
    yield from start(database_url)


@pytest.fixture
def sqlite_board(sqlite_url: str) -> Iterator[Board]:
    """On SQLite only, for what the store does not change (sessions, forms, errors)."""
    yield from start(sqlite_url)


@pytest.fixture
def public_board(sqlite_url: str) -> Iterator[Board]:
    yield from start(sqlite_url, board_public=True)
