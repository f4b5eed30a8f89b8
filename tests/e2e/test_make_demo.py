"""`make demo` installs only what the demo needs: RIO and its runtime dependencies, never
the `dev` extra, and the demo's commands run with none of the development tools importable."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import MESSENGER, REPO

RIO_COMMAND = str(Path(sys.executable).parent / "rio")


def dev_tools() -> list[str]:
    """The import names of the `dev` extra's packages (dist name, as Python imports it)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {
        re.split(r"[<>=\[ ]", r, maxsplit=1)[0] for r in project["optional-dependencies"]["dev"]
    }
    runtime = {re.split(r"[<>=\[ ]", r, maxsplit=1)[0] for r in project["dependencies"]}
    return sorted(n.replace("-", "_") for n in names - runtime if not n.startswith("types"))


def test_the_demo_target_installs_the_package_without_the_dev_extra() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-B", "demo"], cwd=REPO, capture_output=True, text=True, check=True
    )

    installs = [line for line in done.stdout.splitlines() if "pip install" in line]
    assert any(line.rstrip().endswith("install --quiet -e .") for line in installs), installs
    assert not any("[dev]" in line for line in installs), installs
    assert "rio scenario load scenarios/messenger-review.yaml" in done.stdout


def test_the_dev_extra_holds_the_tools_and_the_base_none_of_them() -> None:
    tools = dev_tools()

    for tool in ("pytest", "mypy", "ruff", "playwright", "schemathesis", "hypothesis"):
        assert tool in tools


def test_the_demo_runs_with_no_development_tool_importable(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        f"BLOCKED = {set(dev_tools())!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ImportError(f'{name} is a development tool: the demo needs none')\n"
        "sys.meta_path.insert(0, Block())\n",
        encoding="utf-8",
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RIO_")},
        "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", str(REPO))]),
        "RIO_DATABASE_URL": f"sqlite:///{tmp_path / 'rio.db'}",
        "COLUMNS": "100",
    }
    probe = subprocess.run(
        [sys.executable, "-c", "import pytest"], env=env, capture_output=True, text=True
    )
    assert probe.returncode != 0 and "development tool" in probe.stderr  # the blocker works
    for args in (
        ["scenario", "load", str(MESSENGER)],
        [
            "report",
            "promised-vs-delivered",
            "--promised-as-at",
            "2023-11-30",
            "--delivered-as-at",
            "2024-10-01",
        ],
    ):
        done = subprocess.run(
            [RIO_COMMAND, *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "development tool" not in done.stderr
    # distinct promises, counted once (the review-wide plan is one promise, not seven)
    assert "15 commitments as promised at 2023-11-30" in done.stdout
