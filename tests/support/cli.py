"""The installed `rio` command run as a user runs it: a subprocess against a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO

RIO_COMMAND = str(Path(sys.executable).parent / "rio")


def run(
    url: str, *args: str, cwd: Path = REPO, columns: int = 200
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIO_DATABASE_URL": url, "COLUMNS": str(columns)}
    env.pop("RIO_LOG_LEVEL", None)
    return subprocess.run(
        [RIO_COMMAND, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(url: str, *args: str) -> str:
    done = run(url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused(url: str, *args: str, cwd: Path = REPO) -> str:
    """Run a command that must be refused; return its one line of stderr."""
    done = run(url, *args, cwd=cwd)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("rio: error: "), done.stderr
    return lines[0]


def as_json(url: str, *args: str) -> Any:
    return json.loads(ok(url, *args, "--json"))
