"""`rio import tracker` from a terminal: the public tracker (seed 000) as CSV and as XLSX
imports to a draft that loads and matches the Messenger recommendations it covers; bad
input is one line and exit status 2; nothing is recorded by the import itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook

from rio.scenario import read
from tests.conftest import MESSENGER, SEEDS
from tests.support.cli import as_json, ok, refused, run
from tests.support.seed_tracker import SEED, write_csv, write_xlsx

TRACKER_DATE = "2024-10-01"  # the date scenarios/messenger-review.yaml gives the tracker

needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seeds are not here: {SEEDS}")


def _collapse(text: str) -> str:
    return " ".join(text.split())


@needs_seeds
@pytest.mark.parametrize("make", [write_csv, write_xlsx], ids=["csv", "xlsx"])
def test_the_public_tracker_imports_to_a_draft_that_loads_and_matches_messenger(
    tmp_path: Path, make: object
) -> None:
    assert callable(make)
    tracker = make(tmp_path / f"seed-000.{'csv' if make is write_csv else 'xlsx'}")
    url = f"sqlite:///{tmp_path / 'rio.db'}"
    draft_file = tmp_path / "draft.yaml"
    said = ok(
        url,
        "import",
        "tracker",
        str(tracker),
        "--review",
        "messenger-2022",
        "--date",
        TRACKER_DATE,
        "--output",
        str(draft_file),
    )
    assert "4 recommendations" in said and "Nothing recorded" in said
    assert not (tmp_path / "rio.db").exists()  # the import opened no store

    scenario, _ = read(draft_file)
    messenger, _ = read(MESSENGER)
    theirs = {r.number: r for r in messenger.recommendations}
    assert [r.number for r in scenario.recommendations] == [1, 2, 3, 4]  # one per row
    for rec in scenario.recommendations:
        known = {a.id: _collapse(a.text).casefold() for a in theirs[rec.number].actions}
        for action in rec.actions:
            assert action.id in known, (rec.number, action.id)
    one = {a.id: a.text for a in scenario.recommendations[0].actions}
    assert one["1.1"] == theirs[1].actions[0].text
    assert scenario.review.themes[1] == "Improving NHS culture and governance"
    assert scenario.review.themes[3] == "Regulation and oversight of NHS managers"

    # the tracker's words as reported statuses, each quoting its cell verbatim
    seed = _collapse(SEED.read_text(encoding="utf-8"))
    statuses = {
        (e.recommendation, e.status): e for e in scenario.events if e.type == "status_reported"
    }
    assert set(statuses) >= {
        (1, "in_progress"),
        (2, "in_progress"),
        (3, "reported_not_delivered"),
    }
    for event in scenario.events:
        assert _collapse(event.quote) in seed, event.quote
    cited = scenario.sources[statuses[(3, "reported_not_delivered")].source]
    assert cited.file == tracker.name and "row 5, column D (Implementation)" in cited.document
    promises = [e for e in scenario.events if e.type == "commitment_made"]
    assert promises and all(p.inferred for p in promises)
    assert {"later in 2024", "in Spring 2025"} <= {p.due for p in promises}

    loaded = ok(url, "scenario", "load", str(draft_file))
    assert "4 recommendations" in loaded
    shown = as_json(url, "status", "--as-at", "2024-11-01")["recommendations"]
    assert [r["number"] for r in shown] == [1, 2, 3, 4]


@needs_seeds
@pytest.mark.parametrize("width", [80, 120])
def test_the_summary_fits_the_terminal(tmp_path: Path, width: int) -> None:
    """Every line fits the terminal but the one to copy; paths are given as a person types
    them, relative to where they stand (pytest's own temporary paths vary in length)."""
    write_xlsx(tmp_path / "seed-000.xlsx")
    (tmp_path / "drafts-for-the-secretariat-to-check").mkdir()
    url = f"sqlite:///{tmp_path}/x.db"
    done = run(
        url,
        "import",
        "tracker",
        "seed-000.xlsx",
        "--date",
        TRACKER_DATE,
        "-o",
        "drafts-for-the-secretariat-to-check/seed-000-draft.yaml",
        cwd=tmp_path,
        columns=width,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    *summary, command = lines
    assert max(len(line) for line in summary) <= width, done.stdout
    # whole, to copy
    assert command == "  rio scenario load drafts-for-the-secretariat-to-check/seed-000-draft.yaml"


def test_without_output_the_draft_goes_to_stdout_and_unread_rows_to_stderr(
    tmp_path: Path,
) -> None:
    tracker = tmp_path / "t.csv"
    tracker.write_text("No.,Details,Status\n1,Do it,Done\nx,??,\n", encoding="utf-8")
    done = run(
        f"sqlite:///{tmp_path}/x.db", "import", "tracker", str(tracker), "--date", "2024-01-31"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# A DRAFT scenario") and "format: rio-scenario/1" in done.stdout
    assert re.fullmatch(r"rio: note: t\.csv: row 3: 'x' in column A is not a .*\n", done.stderr)


def _empty_workbook(path: Path) -> Path:
    Workbook().save(path)
    return path


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d / "missing.csv", "cannot read the file"),
        (lambda d: _write(d / "tracker.ods", "x"), "not .ods"),
        (lambda d: _empty_workbook(d / "empty.xlsx"), "the sheet is empty"),
        (lambda d: _write(d / "t.csv", "Colour,Size\nred,big\n"), "no header row"),
        (lambda d: _write(d / "t.csv", "No.,Details\n1,a\n1,b\n"), "recommendation 1 is on rows"),
        (lambda d: _write(d / "t.csv", "No.,Details\nnone,a\n"), "no recommendation could"),
    ],
    ids=["missing", "extension", "empty-sheet", "no-header", "duplicates", "nothing-usable"],
)
def test_bad_input_is_one_line_and_exit_status_2(
    tmp_path: Path, setup: object, message: str
) -> None:
    assert callable(setup)
    path = setup(tmp_path)
    line = refused(
        f"sqlite:///{tmp_path}/x.db", "import", "tracker", str(path), "--date", "2024-01-31"
    )
    assert message in line, line


def test_a_draft_is_never_written_over_a_file(tmp_path: Path) -> None:
    tracker = _write(tmp_path / "t.csv", "No.,Details\n1,a\n")
    kept = _write(tmp_path / "draft.yaml", "a person's edits")
    url = f"sqlite:///{tmp_path}/x.db"
    line = refused(url, "import", "tracker", str(tracker), "--output", str(kept))
    assert "exists" in line and kept.read_text() == "a person's edits"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
