"""An alert digest as its reader meets it, in Debian's chromium: the HTML `rio alerts run
--dry-run --html` writes, looked at (a screenshot in test-artifacts/), and its "Record" link
followed by an owner signed in to the board: it opens the recommendation's board page."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rio.application.keys import Keys
from rio.application.service import RIO
from tests.alert_support import ADDRESSES, NHSE, load_messenger
from tests.e2e.browser import (
    ARTIFACTS,
    REVIEW,
    RIO_COMMAND,
    playwright_browser,
    serving,
)

__all__ = ["playwright_browser"]  # a fixture, used by name


@pytest.fixture(scope="module")
def owner_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The Messenger scenario in SQLite, and a board key for NHS England, an owner."""
    url = f"sqlite:///{tmp_path_factory.mktemp('digest') / 'rio.db'}"
    rio = RIO(url)
    try:
        load_messenger(rio)
        key = Keys(rio).create(name="NHS England", role="owner", owner=NHSE, granted_by="test")[0]
    finally:
        rio.close()
    yield url, key


def dry_run_html(url: str, base: str, target: Path) -> list[Path]:
    """The digests a run as at 1 May 2024 would send, written as HTML for each owner."""
    env = {
        **os.environ,
        "RIO_DATABASE_URL": url,
        "RIO_BASE_URL": base,
        "RIO_OWNER_EMAILS": json.dumps(ADDRESSES),
    }
    done = subprocess.run(
        [RIO_COMMAND, "alerts", "run", "--dry-run", "--as-at", "2024-05-01", "--html", target],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    written = [Path(line.removeprefix("wrote ")) for line in done.stderr.splitlines()]
    assert written and all(p.exists() for p in written)
    return written


def test_the_digest_record_link_opens_the_board_page_for_a_signed_in_owner(
    playwright_browser: Any, owner_store: tuple[str, str], tmp_path: Path
) -> None:
    url, key = owner_store
    with serving(url, tmp_path / "serve.log", RIO_BOARD_PUBLIC="false") as base:
        (nhse,) = [
            p for p in dry_run_html(url, base, tmp_path / "digest.html") if "nhs-england" in p.name
        ]
        context = playwright_browser.new_context(viewport={"width": 900, "height": 1200})
        page = context.new_page()
        try:
            page.goto(f"{base}/board/sign-in")
            page.get_by_label("API key").fill(key)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/board/**")

            page.goto(nhse.as_uri())
            summary = page.get_by_text("In short:")
            assert summary.count() == 1
            assert "matter" in summary.inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "digest.png"), full_page=True)
            record = page.get_by_role("link", name="Open recommendation 1 on the board")
            assert record.first.get_attribute("href") == f"{base}/board/{REVIEW}/1"

            with page.expect_navigation():
                record.first.click()

            assert page.url == f"{base}/board/{REVIEW}/1"
            assert "/sign-in" not in page.url
            heading = page.get_by_role("heading", level=1).inner_text()
            assert "Targeted interventions" in heading
            assert page.locator("svg.chart").count() == 1  # the page itself, not an error
        finally:
            context.close()


def test_a_reader_not_signed_in_is_asked_to_sign_in_not_shown_json(
    playwright_browser: Any, owner_store: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = owner_store
    with serving(url, tmp_path / "serve.log", RIO_BOARD_PUBLIC="false") as base:
        (nhse, *_) = [
            p for p in dry_run_html(url, base, tmp_path / "digest.html") if "nhs-england" in p.name
        ]
        page = playwright_browser.new_page()
        try:
            page.goto(nhse.as_uri())
            with page.expect_navigation():
                page.get_by_role("link", name="Open recommendation 1 on the board").first.click()
            assert "/board/sign-in" in page.url
            assert page.get_by_role("heading", level=1).inner_text() == (
                "Sign in to the status board"
            )
        finally:
            page.close()
