"""The installed `rio` command, run as a user would: a subprocess against a real store."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from rio.application.service import RIO
from tests.conftest import MESSENGER, REPO
from tests.support.cli import as_json, ok, refused, run

SCENARIO = str(MESSENGER.relative_to(REPO))  # as a user would type it, from the repo root


@pytest.fixture(scope="module")
def first_load(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A SQLite store with the Messenger scenario loaded once by the CLI: (url, its output)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'rio.db'}"
    return url, ok(url, "scenario", "load", SCENARIO)


@pytest.fixture
def url(first_load: tuple[str, str]) -> str:
    return first_load[0]


def test_scenario_load_says_what_it_recorded(first_load: tuple[str, str]) -> None:
    url, output = first_load
    with_store = RIO(url)
    try:
        recorded = with_store.position()
    finally:
        with_store.close()

    assert "7 recommendations" in output
    assert f"{recorded} events recorded, 0 already recorded" in output


def test_loading_the_scenario_twice_records_nothing_new(url: str) -> None:
    output = ok(url, "scenario", "load", SCENARIO)

    assert " 0 events recorded" in output


def test_promised_vs_delivered_json_shows_the_induction_slipped(url: str) -> None:
    report = as_json(
        url,
        "report",
        "promised-vs-delivered",
        "--promised-as-at",
        "2023-11-30",
        "--delivered-as-at",
        "2024-10-01",
    )

    assert report["rows"] and "slipped" in report["summary"]
    (induction,) = [r for r in report["rows"] if r["commitment"] == "national-induction"]
    assert induction["recommendation"] == 1
    assert induction["outcome"] == "slipped"
    assert induction["promised"]["text"] == "April 2024"
    assert induction["now_due"]["text"] == "later in 2024"


def test_promised_vs_delivered_table_names_the_national_induction(url: str) -> None:
    output = ok(
        url,
        "report",
        "promised-vs-delivered",
        "--promised-as-at",
        "2023-11-30",
        "--delivered-as-at",
        "2024-10-01",
    )

    assert "National induction" in output
    assert "commitments as promised at 2023-11-30" in output


def test_status_json_rates_recommendation_1_red_in_june_2024(url: str) -> None:
    status = as_json(url, "status", "--as-at", "2024-06-01")

    assert status["as_at"] == "2024-06-01"
    (first,) = [r for r in status["recommendations"] if r["number"] == 1]
    assert first["rating"]["rating"] == "Red"
    assert "April 2024" in first["rating"]["reason"]


def test_timeline_json_shows_the_unexplained_induction_slip(url: str) -> None:
    lines = as_json(url, "timeline", "1")

    (induction,) = [t for t in lines if t["commitment"] == "national-induction"]
    assert induction["baseline"]["text"] == "April 2024"
    assert [s["kind"] for s in induction["steps"]] == ["promised", "revised"]
    revised = induction["steps"][1]
    assert revised["due"]["text"] == "later in 2024"
    assert revised["unexplained"] is True
    assert revised["slip_days"] > 0


def test_history_json_lists_each_event_with_both_times_and_who_recorded_it(url: str) -> None:
    events = as_json(url, "history", "1")

    assert events[0]["type"] == "Registered"
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    for event in events:
        assert event["occurred"] and event["recorded_by"].startswith("cli:")
        assert datetime.fromisoformat(event["recorded"]).tzinfo is not None
    assert "CommitmentRevised" in {e["type"] for e in events}


def test_an_impossible_date_is_one_line_refusal(url: str) -> None:
    line = refused(url, "report", "promised-vs-delivered", "--promised-as-at", "2023-13-45")

    assert "2023-13-45" in line


def test_an_unknown_recommendation_is_one_line_refusal(url: str) -> None:
    line = refused(url, "timeline", "99")

    assert "99" in line


def test_a_missing_scenario_file_is_one_line_refusal(tmp_path: Path) -> None:
    line = refused(f"sqlite:///{tmp_path / 'rio.db'}", "scenario", "load", "missing.yaml")

    assert "missing.yaml" in line


def test_a_malformed_scenario_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MESSENGER.read_text(encoding="utf-8").replace("due: April 2024", "due: Smarch 2024"),
        encoding="utf-8",
    )
    lines = MESSENGER.read_text(encoding="utf-8").splitlines()
    due_line = next(n for n, text in enumerate(lines, 1) if "due: April 2024" in text)
    event_line = max(n for n in range(1, due_line) if lines[n - 1].startswith("  - "))
    url = f"sqlite:///{tmp_path / 'rio.db'}"

    line = refused(url, "scenario", "load", str(bad))

    assert line.startswith(f"rio: error: {bad}:{event_line}:") or line.startswith(
        f"rio: error: {bad}:{due_line}:"
    )
    assert "Smarch 2024" in line
    store = RIO(url)
    try:
        assert store.position() == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    "args", [("timeline",), ("status", "--no-such-option")], ids=["missing-argument", "bad-option"]
)
def test_a_usage_error_exits_2_without_a_traceback(url: str, args: tuple[str, ...]) -> None:
    done = run(url, *args)

    assert "Traceback" not in done.stderr
    assert done.returncode == 2


@pytest.mark.postgres
def test_the_cli_loads_and_rates_on_postgresql(postgres_url: str) -> None:
    loaded = ok(postgres_url, "scenario", "load", SCENARIO)
    again = ok(postgres_url, "scenario", "load", SCENARIO)
    status = as_json(postgres_url, "status", "--as-at", "2024-06-01")

    assert " 0 already recorded" in loaded
    assert " 0 events recorded" in again
    (first,) = [r for r in status["recommendations"] if r["number"] == 1]
    assert first["rating"]["rating"] == "Red"
