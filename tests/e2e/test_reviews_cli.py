"""Two reviews in one store, from the terminal: `rio reviews`, `rio status --review`,
`rio portfolio`, and a recommendation number that needs its review said."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import MESSENGER, REPO, postgres_schema
from tests.support.cli import RIO_COMMAND, as_json, ok, refused

CORONER = REPO / "tests" / "fixtures" / "scenarios" / "coroner-report.yaml"
CORONER_TITLE = "Prevention of future deaths report: discharge from hospital"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('reviews') / 'rio.db'}"
        yield from _loaded(url)
    else:
        with postgres_schema("rio_cli_reviews") as url:
            yield from _loaded(url)


def _loaded(url: str) -> Iterator[str]:
    first = ok(url, "scenario", "load", str(MESSENGER))
    assert first.rstrip().endswith("; review registered")
    ok(url, "scenario", "load", str(CORONER))
    again = ok(url, "scenario", "load", str(CORONER))
    assert " 0 events recorded" in again and "review" not in again.split(";")[-1][:8]
    yield url


def test_rio_reviews_lists_each_review_by_title_with_counts(store: str) -> None:
    listed = as_json(store, "reviews", "--as-at", "2025-01-15")["reviews"]
    by_key = {r["key"]: r for r in listed}
    assert set(by_key) == {"messenger-2022", "pfd-2024-0117"}
    coroner = by_key["pfd-2024-0117"]
    assert coroner["title"] == CORONER_TITLE
    assert (coroner["kind"], coroner["response_days"], coroner["response_due"]) == (
        "coroners_report",
        56,
        "2024-03-28",
    )
    assert (coroner["recommendations"], coroner["ratings"]) == (2, {"Red": 1, "Complete": 1})
    assert by_key["messenger-2022"]["recommendations"] == 7
    table = ok(store, "reviews")
    assert CORONER_TITLE in table and "response due 2024-03-28" in table


def test_status_review_shows_only_that_review_and_all_reviews_get_a_review_column(
    store: str,
) -> None:
    one = as_json(store, "status", "--review", "pfd-2024-0117")["recommendations"]
    assert {(r["review"], r["number"]) for r in one} == {("pfd-2024-0117", 1), ("pfd-2024-0117", 2)}
    both = ok(store, "status")
    assert "Review" in both.splitlines()[2] and "pfd-2024-0117" in both
    assert "Review" not in ok(store, "status", "--review", "pfd-2024-0117").splitlines()[2]
    assert "no such review" in refused(store, "status", "--review", "nope")
    report = as_json(
        store,
        "report",
        "promised-vs-delivered",
        "--promised-as-at",
        "2024-04-01",
        "--review",
        "pfd-2024-0117",
    )
    assert {row["review"] for row in report["rows"]} == {"pfd-2024-0117"}


def test_a_number_alone_asks_which_review(store: str) -> None:
    line = refused(store, "timeline", "1")
    assert "say which review" in line and "pfd-2024-0117" in line
    assert ok(store, "timeline", "1", "--review", "pfd-2024-0117")
    assert ok(store, "history", "pfd-2024-0117:1")


def test_the_portfolio_counts_per_review_and_lists_the_oldest_overdue(store: str) -> None:
    view = as_json(store, "portfolio", "--as-at", "2025-01-15")
    counts = {r["key"]: r["ratings"] for r in view["reviews"]}
    assert counts["pfd-2024-0117"] == {"Red": 1, "Complete": 1}
    assert sum(counts["messenger-2022"].values()) == 7
    overdue = [(p["review"], p["commitment"]) for p in view["oldest_overdue"]]
    assert ("pfd-2024-0117", "checklist") in overdue
    slips = [(p["review"], p["commitment"]) for p in view["longest_unexplained_slips"]]
    assert ("pfd-2024-0117", "checklist") in slips
    mine = as_json(
        store, "portfolio", "--as-at", "2025-01-15", "--owner", "Testshire Staffing Board"
    )
    assert [r["key"] for r in mine["reviews"]] == ["pfd-2024-0117"]
    assert mine["totals"] == {"Complete": 1}
    assert "--kind 'novel' is not one of" in refused(store, "portfolio", "--kind", "novel")


@pytest.mark.parametrize("columns", ["80", "120"])
def test_the_portfolio_reads_at_terminal_widths(store: str, columns: str) -> None:
    env = {**os.environ, "RIO_DATABASE_URL": store, "COLUMNS": columns}
    done = subprocess.run(
        [RIO_COMMAND, "portfolio", "--as-at", "2025-01-15"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= int(columns)
    assert "Oldest overdue promises" in done.stdout
