"""The README's examples work as printed: every fenced block after a `<!-- readme-test -->`
line is run, `$` line by `$` line, against a fresh store, from a directory holding only the
repository's scenarios (as a fresh clone would after `make demo`). Each command must exit 0,
and every line printed under it in the README must appear in what it printed (spaces
collapsed, as a table's padding depends on the width)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO

README = REPO / "README.md"
MARK = "<!-- readme-test -->"
BLOCK = re.compile(r"^" + re.escape(MARK) + r"\n```[^\n]*\n(.*?)^```$", re.M | re.S)


@dataclass
class Example:
    command: str
    expected: list[str] = field(default_factory=list)


def examples(text: str) -> list[Example]:
    found: list[Example] = []
    for block in BLOCK.findall(text):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append(Example(line[2:]))
            elif line.strip():
                assert found, f"README: output before any command: {line!r}"
                found[-1].expected.append(line)
    return found


def squeezed(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_the_readme_marks_its_examples_for_testing() -> None:
    found = examples(README.read_text(encoding="utf-8"))

    assert len(found) >= 10
    assert any(e.command.startswith("rio status") for e in found)
    assert "../shared" not in README.read_text(encoding="utf-8")  # a clone has no ../shared


def test_every_readme_example_runs_and_prints_what_the_readme_says(tmp_path: Path) -> None:
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RIO_") and key not in ("NO_COLOR", "FORCE_COLOR")
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        COLUMNS="100",
    )
    for example in examples(README.read_text(encoding="utf-8")):
        done = subprocess.run(
            ["bash", "-c", example.command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        said = f"$ {example.command}\n{done.stdout}{done.stderr}"
        assert done.returncode == 0, said
        assert "Traceback" not in done.stdout + done.stderr, said
        lines = squeezed(done.stdout)
        for expected in example.expected:
            want = " ".join(expected.split())
            if not any(want in line for line in lines):
                pytest.fail(
                    f"README says {example.command!r} prints {expected!r}; it printed:\n"
                    f"{done.stdout}"
                )
    assert (tmp_path / "rio.db").exists()  # the default store, in the directory it ran in
