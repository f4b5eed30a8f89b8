"""One staleness threshold for every door: `RIO_STALE_AFTER_DAYS` reaches status, board, API
and alerts through the runtime, so they agree on which commitments have gone quiet."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rio.api.app import create_app
from rio.domain.alert_policy import AlertKind
from rio.settings import get_settings
from tests.conftest import REPO
from tests.support.cli import RIO_COMMAND

AS_AT = "2024-06-01"
REVIEW = "quiet-review"
# On 1 June 2024, "quiet" was last heard of 143 days before (stale after 90 days, not after
# the default 180); "current" 31 days before (stale under neither). Each has its own owner,
# so the owner a digest goes to says which commitment it is about.
OWNERS = {"quiet": "Quiet Owner", "current": "Current Owner"}
SCENARIO = f"""\
format: rio-scenario/1
review:
  key: {REVIEW}
  title: A review whose promises go quiet
sources:
  plan:
    document: Delivery plan
    date: 2024-01-10
  update:
    document: Progress update
    date: 2024-05-01
recommendations:
  - number: 1
    title: A promise that went quiet
    text: Publish the framework.
    occurred: 2024-01-10
    source: plan
    quote: "We will publish the framework."
  - number: 2
    title: A promise kept current
    text: Launch the scheme.
    occurred: 2024-01-10
    source: plan
    quote: "We will launch the scheme."
events:
  - recommendation: 1
    type: commitment_made
    occurred: 2024-01-10
    source: plan
    quote: "The framework will be published by December 2024."
    commitment: quiet
    deliverable: Framework published
    due: December 2024
    owner: {OWNERS["quiet"]}
  - recommendation: 2
    type: commitment_made
    occurred: 2024-05-01
    source: update
    quote: "The scheme will launch by December 2024."
    commitment: current
    deliverable: Scheme launched
    due: December 2024
    owner: {OWNERS["current"]}
"""
NUMBERS = {"quiet": 1, "current": 2}


@pytest.fixture
def environment(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The settings an operator would set, in this process (for the app) and for the CLI."""
    owners = tmp_path / "owners.yaml"
    owners.write_text(
        "".join(f"{name}: {key}@example.org\n" for key, name in OWNERS.items()), encoding="utf-8"
    )
    settings = {
        "RIO_DATABASE_URL": database_url,
        "RIO_STALE_AFTER_DAYS": "90",
        "RIO_OWNERS_FILE": str(owners),
        "RIO_BOARD_PUBLIC": "true",
        "RIO_API_RATE_PER_MINUTE": "0",
        "COLUMNS": "200",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RIO_SMTP_URL", raising=False)
    get_settings.cache_clear()
    scenario = tmp_path / "quiet.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    env = {**os.environ, **settings}
    rio(env, "scenario", "load", str(scenario))
    yield env
    get_settings.cache_clear()


def rio(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [RIO_COMMAND, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def stale_by_status(env: dict[str, str]) -> set[str]:
    answer = json.loads(rio(env, "status", "--as-at", AS_AT, "--json"))
    return _stale_commitments(answer["recommendations"])


def stale_by_alerts(env: dict[str, str]) -> set[str]:
    """The commitments whose owners a dry run would send a 'no recent update' digest."""
    answer = json.loads(rio(env, "alerts", "run", "--dry-run", "--as-at", AS_AT, "--json"))
    assert answer["held"] == {} and answer["unaddressed"] == [], answer
    by_owner = {name: key for key, name in OWNERS.items()}
    stale = set()
    for preview in answer["previews"]:
        assert AlertKind.STALE.label in preview["text"], preview["text"]
        stale.add(by_owner[preview["owner"]])
    return stale


def stale_by_api(client: TestClient, key: str) -> set[str]:
    response = client.get(
        "/status", params={"as_at": AS_AT}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    return _stale_commitments(response.json()["recommendations"])


def stale_by_board(client: TestClient) -> set[int]:
    """The recommendations the board rates by the stale rule."""
    response = client.get(f"/board/{REVIEW}", params={"as_at": AS_AT})
    assert response.status_code == 200, response.text
    rows = re.findall(
        r'<tr id="rec-(\d+)" data-rating="([^"]+)">.*?<span class="rule">([^<]*)</span>',
        response.text,
        flags=re.DOTALL,
    )
    assert {int(number) for number, _, _ in rows} == set(NUMBERS.values()), response.text
    return {int(n) for n, rating, rule in rows if rating == "Amber" and "no recent update" in rule}


def _stale_commitments(recommendations: list[dict[str, Any]]) -> set[str]:
    return {
        commitment
        for rec in recommendations
        for commitment, rating in rec["commitments"].items()
        if rating["rule"] == "stale"
    }


def test_status_board_api_and_alerts_agree_on_what_is_stale(environment: dict[str, str]) -> None:
    by_status = stale_by_status(environment)
    by_alerts = stale_by_alerts(environment)
    app = create_app()  # from the environment, as `rio serve` builds it
    key = app.state.services.keys.create(name="auditor", role="auditor", granted_by="test")[0]
    with TestClient(app, raise_server_exceptions=False) as client:
        by_api = stale_by_api(client, key)
        by_board = stale_by_board(client)

    assert by_status == {"quiet"}, "143 days without an update is stale at 90 days"
    assert by_alerts == by_status
    assert by_api == by_status
    assert by_board == {NUMBERS[c] for c in by_status}
