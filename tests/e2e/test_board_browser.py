"""The status board in a real browser: Debian's chromium, driven by Playwright, against `rio serve`.

Never a browser build of Playwright's own: without /usr/bin/chromium (`make browser`
installs it) these tests skip locally and fail when CI is set. Screenshots of the three
pages go to test-artifacts/ for a person to look at. The browser, the store and the
server come from tests/e2e/browser.py; every page at both widths is checked for
accessibility in test_board_accessibility.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import (
    ARTIFACTS,
    REVIEW,
    fill_date,
    playwright_browser,
    serving,
    sign_in,
    store,
)

__all__ = ["playwright_browser", "store"]  # fixtures, used by name


@pytest.fixture(scope="module")
def private_board(
    store: tuple[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(store[0], log, RIO_BOARD_PUBLIC="false") as base:
        yield base


def rec_row(page: Any, number: int) -> Any:
    return page.locator(f"#rec-{number}")


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

        fill_date(page, "as_at", "2023-11-30")
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

        # As the public record stood (issue 14): the late-2024 tracker not yet published.
        fill_date(page, "as_at", "2024-10-01")
        fill_date(page, "public_at", "2024-06-01")
        page.get_by_role("button", name="Show the board").click()
        page.wait_for_url("**public_at=2024-06-01**")
        banner = page.locator(".time-banner").inner_text()
        assert "as the public record stood on 1 June 2024" in banner
        assert "reported not delivered" not in page.locator(".board-table").inner_text()
        page.screenshot(path=str(ARTIFACTS / "board-public-record.png"), full_page=True)

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
        fill_date(page, "promised_as_at", "2023-11-30")
        fill_date(page, "delivered_as_at", "2024-10-01")
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
