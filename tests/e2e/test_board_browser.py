"""The status board in a real browser: Debian's chromium, driven by Playwright, against `rio serve`.

Never a browser build of Playwright's own: without /usr/bin/chromium (`make browser`
installs it) these tests skip locally and fail when CI is set. Screenshots of the three
pages go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rio.application.keys import Keys
from rio.application.service import RIO
from rio.scenario import batches, read
from tests.conftest import MESSENGER, REPO
from tests.support.serving import free_port, wait_until_serving

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
RIO_COMMAND = str(Path(sys.executable).parent / "rio")
REVIEW = "messenger-2022"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable("Debian's chromium is not at /usr/bin/chromium: `make browser` installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed: `make` installs the dev extras")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A SQLite store with the Messenger scenario, and a key for each role the tests use."""
    directory = tmp_path_factory.mktemp("board")
    url = f"sqlite:///{directory / 'rio.db'}"
    rio = RIO(url)
    try:
        scenario, lines = read(MESSENGER)
        rio.record_batch(batches(scenario, lines, str(MESSENGER), "test"))
        keys = Keys(rio)
        issued = {
            role: keys.create(name=f"{role} holder", role=role, granted_by="test")[0]
            for role in ("auditor", "admin")
        }
    finally:
        rio.close()
    yield url, issued


@contextmanager
def serving(url: str, log: Path, **settings: str) -> Iterator[str]:
    """`rio serve` on a free port, as an operator runs it; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "RIO_DATABASE_URL": url,
        "RIO_API_RATE_PER_MINUTE": "0",
        "RIO_LOG_FORMAT": "json",
        "RIO_SESSION_SECRET": "browser-test-secret",
        **settings,
    }
    with log.open("ab") as out:
        server = subprocess.Popen(
            [RIO_COMMAND, "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, log)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def private_board(
    store: tuple[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(store[0], log, RIO_BOARD_PUBLIC="false") as base:
        yield base


def rec_row(page: Any, number: int) -> Any:
    return page.locator(f"#rec-{number}")


def sign_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/board/{REVIEW}?as_at=2024-06-01")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/board/{REVIEW}?as_at=2024-06-01")


def test_an_unauthenticated_visitor_is_sent_to_sign_in(
    playwright_browser: Any, private_board: str
) -> None:
    page = playwright_browser.new_page()
    try:
        page.goto(f"{private_board}/board/{REVIEW}")
        assert "/board/sign-in" in page.url
        assert page.get_by_role("heading", level=1).inner_text() == "Sign in to the status board"
        assert page.locator("#rec-1").count() == 0
    finally:
        page.close()


def test_an_admin_key_is_refused_at_sign_in(
    playwright_browser: Any, private_board: str, store: tuple[str, dict[str, str]]
) -> None:
    page = playwright_browser.new_page()
    try:
        page.goto(f"{private_board}/board/sign-in")
        page.get_by_label("API key").fill(store[1]["admin"])
        page.get_by_role("button", name="Sign in").click()
        assert "cannot read the board" in page.locator(".error-summary").inner_text()
        assert "/board/sign-in" in page.url
    finally:
        page.close()


def test_an_auditor_moves_the_board_in_time_and_reads_the_pages(
    playwright_browser: Any, private_board: str, store: tuple[str, dict[str, str]]
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = playwright_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, private_board, store[1]["auditor"])
        row = rec_row(page, 1)
        assert "Targeted interventions" in row.inner_text()
        assert row.get_attribute("data-rating") == "Red"
        later_promise = row.locator(".promise-cell").inner_text()
        assert "April 2024" in later_promise and "overdue" in later_promise
        assert page.locator("#known_at").count() == 1  # auditors may ask what RIO knew when
        assert "As at 1 June 2024" in page.locator(".time-banner").inner_text()
        page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)

        page.locator("#as_at").fill("2023-11-30")
        page.get_by_role("button", name="Show the board").click()
        page.wait_for_url("**as_at=2023-11-30**")
        row = rec_row(page, 1)
        # Green, not Amber (issue 14): the undated delivery plan is the review's own (row 0),
        # judged once there, and no longer holds recommendation 1 at Amber.
        assert row.get_attribute("data-rating") == "Green"
        assert rec_row(page, 0).get_attribute("data-rating") == "Amber"
        earlier_promise = row.locator(".promise-cell").inner_text()
        assert earlier_promise != later_promise
        assert "overdue" not in earlier_promise and "in 152 days" in earlier_promise
        assert "As at 30 November 2023" in page.locator(".time-banner").inner_text()

        page.goto(f"{private_board}/board/{REVIEW}/1?as_at=2024-10-02")
        chart = page.locator("svg.chart")
        assert chart.count() == 1
        assert "Slippage" in chart.locator("title").first.text_content()
        assert "later in 2024" in chart.locator("desc").text_content()
        # The induction's table: recommendation 1's only commitment since the delivery plan
        # became the review's own (issue 14), so the first table, not the second.
        induction = page.locator(".history-table").nth(0).inner_text()
        assert "unexplained" in induction and "scope changed" in induction
        page.screenshot(path=str(ARTIFACTS / "recommendation.png"), full_page=True)

        page.goto(f"{private_board}/board/{REVIEW}/promised-vs-delivered")
        page.locator("#promised_as_at").fill("2023-11-30")
        page.locator("#delivered_as_at").fill("2024-10-01")
        page.get_by_role("button", name="Show the report").click()
        page.wait_for_url("**promised_as_at=2023-11-30**")
        assert "commitments as promised at 2023-11-30" in page.locator(".summary-line").inner_text()
        assert page.get_by_role("link", name="CSV").count() == 1
        page.screenshot(path=str(ARTIFACTS / "promised-vs-delivered.png"), full_page=True)

        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{private_board}/board/{REVIEW}")
        assert "/board/sign-in" in page.url
    finally:
        context.close()


def test_the_public_setting_admits_a_visitor_without_a_key(
    playwright_browser: Any,
    store: tuple[str, dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    log = tmp_path_factory.mktemp("serve-public") / "serve.log"
    with serving(store[0], log, RIO_BOARD_PUBLIC="true") as base:
        page = playwright_browser.new_page()
        try:
            page.goto(f"{base}/board/{REVIEW}?as_at=2024-06-01")
            assert "/board/sign-in" not in page.url
            assert rec_row(page, 1).get_attribute("data-rating") == "Red"
            assert page.locator("#known_at").count() == 0  # the public gets no known-at control
            assert "Public view" in page.locator(".masthead").inner_text()
        finally:
            page.close()


def test_signing_out_ends_the_session_for_a_copy_of_its_cookie_too(
    playwright_browser: Any, private_board: str, store: tuple[str, dict[str, str]]
) -> None:
    first = playwright_browser.new_context()
    second = playwright_browser.new_context()  # another machine, holding a copied cookie
    try:
        page = first.new_page()
        sign_in(page, private_board, store[1]["auditor"])
        second.add_cookies([c for c in first.cookies() if c["name"] == "rio_board_session"])
        copy = second.new_page()
        copy.goto(f"{private_board}/board/{REVIEW}")
        assert "/board/sign-in" not in copy.url  # the copy works while the session lasts

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/board/sign-in**")

        copy.goto(f"{private_board}/board/{REVIEW}")
        assert "/board/sign-in" in copy.url
        assert copy.locator("#rec-1").count() == 0
    finally:
        first.close()
        second.close()
