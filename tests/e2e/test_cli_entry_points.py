"""`rio --version` and `python -m rio` (issue 15): the command is reachable without PATH."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from tests.support.cli import ok


def test_version_prints_the_installed_version_and_opens_no_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never.db'}"
    assert ok(url, "--version").strip() == f"rio {metadata.version('rio')}"
    assert not (tmp_path / "never.db").exists()


def test_python_dash_m_rio_runs_the_same_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rio", "status", "--json"],
        env={"RIO_DATABASE_URL": f"sqlite:///{tmp_path / 'rio.db'}", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"recommendations": []' in done.stdout
