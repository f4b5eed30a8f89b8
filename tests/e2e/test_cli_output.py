"""What a person reads in a terminal: `rio status`, `history`, `timeline`, `report` and the
help, at 80 and 120 columns, in colour only on a terminal; a copy of each goes to
test-artifacts/ to look at."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer.main

from rio.cli.main import app
from tests.conftest import MESSENGER, REPO
from tests.support.cli import ok, refused, run

ARTIFACTS = REPO / "test-artifacts"
RIO_COMMAND = str(Path(sys.executable).parent / "rio")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-7]|9[0-7]|38;[0-9;]+)m")  # not bold or italic


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-output') / 'rio.db'}"
    ok(url, "scenario", "load", str(MESSENGER))
    return url


def at_width(url: str, columns: int, *args: str) -> str:
    env = {**os.environ, "RIO_DATABASE_URL": url, "COLUMNS": str(columns)}
    done = subprocess.run(
        [RIO_COMMAND, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    name = "-".join(a.strip("-") for a in args[:2])
    (ARTIFACTS / f"cli-{name}-{columns}.txt").write_text(done.stdout, encoding="utf-8")
    return done.stdout


def on_a_terminal(url: str, *args: str, **env: str) -> str:
    """The command's output as a terminal receives it (a pseudo-terminal)."""
    environment = {**os.environ, "RIO_DATABASE_URL": url, "COLUMNS": "120", **env}
    environment.pop("NO_COLOR", None) if "NO_COLOR" not in env else None
    for name in ("FORCE_COLOR", "TERM"):
        environment.pop(name, None)
    environment["TERM"] = "xterm-256color"
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [RIO_COMMAND, *args], env=environment, stdout=follower, stderr=follower, close_fds=True
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    return b"".join(chunks).decode("utf-8", "replace")


def _cells_of_row(table: str, number: int) -> list[str]:
    """The cells of a rich table's row that begins with `number`, each cell's lines joined."""
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^│\s+{number}\s+│", line))
    cells: list[list[str]] = []
    for line in lines[start:]:
        if not line.startswith("│") or (
            line is not lines[start] and re.match(r"^│\s+\d+\s+│", line)
        ):
            break
        for i, cell in enumerate(line.strip("│").split("│")):
            if i >= len(cells):
                cells.append([])
            cells[i].append(cell.strip())
    return [" ".join(c) for c in cells]


@pytest.mark.parametrize("columns", [80, 120])
def test_status_fits_the_terminal_with_a_short_why_and_an_owner(url: str, columns: int) -> None:
    out = at_width(url, columns, "status", "--as-at", "2024-06-01")

    assert all(len(line) <= columns for line in out.splitlines())
    header = next(line for line in out.splitlines() if "Rec" in line and "Why" in line)
    assert "Owner" in header
    assert "Assessed" not in header  # nobody assessed anything in the scenario
    text = " ".join(out.split())
    assert "overdue:" in text and "NHS England" in text
    if columns >= 120:
        why = " ".join(_cells_of_row(out, 1)[3].split())  # the Why cell, its lines joined
        assert "overdue: National induction scheme" in why and "(due April 2024)" in why
    assert "days overdue" not in text  # the long reason is for --json and the board
    rows = [line for line in out.splitlines() if re.match(r"^│\s+\d+\s+│", line)]
    # one row begins per recommendation, and one (0) for the review as a whole
    assert len(rows) == 8
    assert len(out.splitlines()) < 8 * 6 + 6  # no recommendation takes ten lines


def test_status_is_coloured_on_a_terminal_only_and_never_with_no_color(url: str) -> None:
    coloured = on_a_terminal(url, "status", "--as-at", "2024-06-01")
    plain = on_a_terminal(url, "status", "--as-at", "2024-06-01", NO_COLOR="1")
    piped = run(url, "status", "--as-at", "2024-06-01").stdout

    assert COLOUR.search(coloured) and "Red" in ANSI.sub("", coloured)
    assert not COLOUR.search(plain) and "Red" in ANSI.sub("", plain)
    assert not ANSI.search(piped)


@pytest.mark.parametrize("columns", [80, 120])
def test_history_shows_values_not_reprs_and_times_with_their_zone(url: str, columns: int) -> None:
    out = at_width(url, columns, "history", "1")

    assert all(len(line) <= columns for line in out.splitlines())
    assert "{'" not in out and "None" not in out and "=" not in out
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d (GMT|BST)", out)
    assert "due: April 2024 (by 2024-04-30)" in " ".join(out.split())


def test_history_known_at_shows_only_what_was_recorded_by_then(url: str) -> None:
    assert ok(url, "history", "1", "--known-at", "2020-01-01").strip() == (
        "Nothing about recommendation 1 (messenger-2022) had been recorded by 2020-01-01."
    )
    assert "Registered" in ok(url, "history", "1")


def test_timeline_as_at_shows_the_promises_as_they_stood_then(url: str) -> None:
    before = " ".join(at_width(url, 120, "timeline", "1", "--as-at", "2023-12-01").split())
    after = " ".join(at_width(url, 120, "timeline", "1", "--as-at", "2024-10-02").split())

    assert "national-induction" in before and "later in 2024" not in before
    assert "later in 2024" in after


def test_a_promised_date_after_today_names_the_option_the_user_gave(url: str) -> None:
    line = refused(url, "report", "promised-vs-delivered", "--promised-as-at", "2030-01-01")

    assert line.startswith("rio: error: --promised-as-at 2030-01-01 is after today")
    assert "--delivered-as-at" in line  # offered as the way out, not blamed


def commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []

    def walk(command: click.Command, path: str) -> None:
        found.append((path, command))
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "rio")
    return found


def test_every_command_and_option_has_help_text() -> None:
    missing = [
        f"{path} {' / '.join(p.opts)}"
        for path, command in commands()
        for p in command.params
        if isinstance(p, click.Option) and not p.help
    ]
    missing += [path for path, command in commands() if not command.help]

    assert missing == []


@pytest.mark.parametrize("columns", [80, 120])
def test_the_scheduler_help_shows_no_subcommand_it_lacks(url: str, columns: int) -> None:
    out = at_width(url, columns, "scheduler", "--help")

    assert "Usage: rio scheduler [OPTIONS]" in out
    assert "COMMAND" not in out and "--poll" in out


def test_shell_completion_can_be_shown_for_bash(url: str) -> None:
    # typer finds the shell from the process that runs rio: run it from bash, as a user would
    # (under make or CI the parent is sh, which typer does not support)
    done = subprocess.run(
        # "; exit" keeps bash from exec'ing rio in its place, so rio's parent is bash
        ["bash", "-c", f"'{RIO_COMMAND}' --show-completion; exit"],
        env={**os.environ, "RIO_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "_RIO_COMPLETE" in done.stdout and "complete " in done.stdout
    assert "--install-completion" in ok(url, "--help")
