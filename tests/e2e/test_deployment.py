"""The deployment as shipped: the compose file runs RIO on PostgreSQL with the API, the alert
scheduler and one read-model follower, and the image builds and answers `/ready` (issue 15).

The compose file and the Dockerfile are read as data and their commands run against the
installed `rio`, so a renamed command or option fails here rather than in a container. The
image is built only where a Docker engine answers; elsewhere that test skips, saying why.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from tests.conftest import REPO
from tests.support.cli import run

COMPOSE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
RIO_SERVICES = {
    "api": ["rio", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-scheduler"],
    "scheduler": ["rio", "scheduler"],
    "projections": ["rio", "projections", "run", "--follow"],
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return parsed


def test_the_compose_file_names_postgres_the_api_the_scheduler_and_one_follower(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]

    assert set(services) == {"postgres", *RIO_SERVICES}
    for name, command in RIO_SERVICES.items():
        assert services[name]["command"] == command, name
        assert services[name].get("deploy", {}).get("replicas", 1) == 1, name
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_every_rio_service_uses_the_postgres_service_once_it_is_healthy(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    database = services["postgres"]["environment"]["POSTGRES_DB"]
    for name in RIO_SERVICES:
        url = urlsplit(services[name]["environment"]["RIO_DATABASE_URL"])
        assert (url.scheme, url.hostname, url.port, url.path) == (
            "postgresql",
            "postgres",
            5432,
            f"/{database}",
        ), name
        assert services[name]["build"] == "."
    assert services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["projections"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["scheduler"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_the_api_service_is_healthy_only_when_ready(compose: dict[str, Any]) -> None:
    check = compose["services"]["api"]["healthcheck"]["test"]

    assert check[0] == "CMD"
    assert "http://127.0.0.1:8000/ready" in " ".join(check)


@pytest.mark.parametrize("service", sorted(RIO_SERVICES))
def test_each_service_command_is_one_the_installed_rio_takes(service: str, tmp_path: Path) -> None:
    # --help after the options: click parses them all first, so an unknown command or
    # option exits 2 while a good one prints the help and exits 0.
    _, *arguments = RIO_SERVICES[service]
    done = run(f"sqlite:///{tmp_path / 'rio.db'}", *arguments, "--help")

    assert done.returncode == 0, done.stderr + done.stdout


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (word.upper(), rest.strip())
        for word, _, rest in (line.partition(" ") for line in lines)
        if word and not word.startswith("#")
    ]


def test_the_image_is_python_3_11_slim_runs_rio_serve_as_a_user_and_has_no_dev_tools(
    tmp_path: Path,
) -> None:
    instructions = dockerfile_instructions()
    kinds = [kind for kind, _ in instructions]
    arguments = dict(instructions)  # the last of each kind: the one in force

    assert arguments["FROM"] == "python:3.11-slim"
    assert arguments["USER"] not in ("root", "0")
    assert kinds.index("USER") < kinds.index("CMD")
    installs = [a for kind, a in instructions if kind == "RUN" and "pip install" in a]
    assert installs == ["pip install . && rm -rf /src"]
    command = json.loads(arguments["CMD"])
    assert command == ["rio", "serve", "--host", "0.0.0.0"]
    assert "/ready" in arguments["HEALTHCHECK"]
    done = run(f"sqlite:///{tmp_path / 'rio.db'}", *command[1:], "--help")
    assert done.returncode == 0, done.stderr


def test_the_build_context_leaves_out_the_venv_the_git_directory_and_stores() -> None:
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()

    assert {".git", ".venv", "tests", "*.db"} <= set(ignored)


def _docker_reason() -> str | None:
    """None when a Docker engine answers here; otherwise why the image cannot be built."""
    if shutil.which("docker") is None:
        return "no `docker` command on this machine"
    info = subprocess.run(
        ["docker", "info"], capture_output=True, text=True, timeout=60, check=False
    )
    if info.returncode != 0:
        reason = (info.stderr or info.stdout).strip().splitlines()
        return f"`docker info` failed, no Docker engine answers: {reason[-1] if reason else ''}"
    return None


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    reason = _docker_reason()
    if reason is not None:
        pytest.skip(reason)
    tag = f"rio-test:{uuid.uuid4().hex[:12]}"
    built = subprocess.run(
        ["docker", "build", "--tag", tag, str(REPO)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "--force", tag], capture_output=True, check=False)


def test_the_image_builds_and_answers_ready(image: str) -> None:
    started = subprocess.run(
        ["docker", "run", "--detach", "--publish", "127.0.0.1::8000", image],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    container = started.stdout.strip()
    try:
        port = subprocess.run(
            ["docker", "port", container, "8000/tcp"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split(":")[-1]
        base = f"http://127.0.0.1:{port.strip()}"
        answer = _wait_for_ready(base, container)
        assert answer.json()["store"] == "ok"
        assert httpx.get(f"{base}/metrics", timeout=5).status_code == 401  # behind a key
    finally:
        subprocess.run(["docker", "rm", "--force", container], capture_output=True, check=False)


def test_docker_compose_accepts_the_compose_file(image: str) -> None:
    version = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if version.returncode != 0:
        pytest.skip("the Docker engine answers, but `docker compose` is not installed")
    done = subprocess.run(
        ["docker", "compose", "--file", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _wait_for_ready(base: str, container: str) -> httpx.Response:
    """Until `/ready` answers 200; fails with the container's log if it stops or takes over
    two minutes (a first start creates the store and its read model)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            answer = httpx.get(f"{base}/ready", timeout=2)
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        state = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Running}}", container],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if state != "true" or time.monotonic() > deadline:
            logs = subprocess.run(
                ["docker", "logs", container], capture_output=True, text=True, check=False
            )
            pytest.fail(f"the container never became ready:\n{logs.stdout}{logs.stderr}")
        time.sleep(0.5)
