"""Every board page in a real browser, as a person on a desktop and on a phone meets it.

axe-core (bundled by `axe-playwright-python`) checks each page against WCAG 2.2 AA at
1280 and 390 px wide, signed in and in the public view; at 390 px no page may be wider
than the screen (WCAG 1.4.10, reflow): a wide table or the chart scrolls inside its own
labelled region instead. A screenshot of each page at each width goes to test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser import (
    ARTIFACTS,
    REVIEW,
    TIMEOUT_MS,
    fill_date,
    playwright_browser,
    serving,
    sign_in,
    store,
)

__all__ = ["playwright_browser", "store"]  # fixtures, used by name

WIDTHS = {"desktop": 1280, "phone": 390}
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BOARD = f"/board/{REVIEW}"
# Every kind of page, at dates that fill it: the board before and after the first slip,
# each recommendation (the first has the chart with most revisions), the report before
# and after it is asked, and the problem pages.
PAGES = {
    "reviews": "/board/",
    "board": f"{BOARD}?as_at=2024-06-01",
    "board-earlier": f"{BOARD}?as_at=2023-11-30",
    **{f"recommendation-{n}": f"{BOARD}/{n}?as_at=2024-10-02" for n in range(1, 8)},
    "promised-form": f"{BOARD}/promised-vs-delivered?as_at=2024-10-01",
    "promised-report": (
        f"{BOARD}/promised-vs-delivered?promised_as_at=2023-11-30&delivered_as_at=2024-10-01"
    ),
    "bad-date": f"{BOARD}?as_at-day=31&as_at-month=2&as_at-year=2024",
    "not-found": f"{BOARD}/99",
    "sign-in": "/board/sign-in",
    # As known at a past moment: the auditor sees it; the public is refused (403).
    "known-at": f"{BOARD}?as_at=2024-06-01&known_at=2026-01-01",
}
PUBLIC_PAGES = [
    "reviews",
    "board",
    "recommendation-1",
    "promised-report",
    "bad-date",
    "not-found",
    "sign-in",
    "known-at",
]


@pytest.fixture(scope="module")
def servers(
    store: tuple[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """One private board and one public board on the same store."""
    logs = tmp_path_factory.mktemp("serve-a11y")
    with (
        serving(store[0], logs / "private.log", RIO_BOARD_PUBLIC="false") as private,
        serving(store[0], logs / "public.log", RIO_BOARD_PUBLIC="true") as public,
    ):
        yield {"signed-in": private, "public": public}


@pytest.fixture(scope="module")
def tabs(
    playwright_browser: Any, servers: dict[str, str], store: tuple[str, dict[str, str]]
) -> Iterator[dict[str, tuple[Any, str]]]:
    """A tab for each viewer, reused by every test: an auditor signed in, and the public."""
    contexts = {name: playwright_browser.new_context() for name in servers}
    try:
        tabs = {}
        for name, context in contexts.items():
            context.set_default_timeout(TIMEOUT_MS)
            tabs[name] = (context.new_page(), servers[name])
        sign_in(tabs["signed-in"][0], servers["signed-in"], store[1]["auditor"])
        ARTIFACTS.mkdir(exist_ok=True)
        yield tabs
    finally:
        for context in contexts.values():
            context.close()


def open_page(tab: tuple[Any, str], width: str, path: str) -> Any:
    page, base = tab
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    page.goto(base + path, wait_until="load")
    page.locator("main h1").wait_for()
    return page


def axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": []}
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
    ]


def page_cases() -> list[Any]:
    cases = []
    for viewer, names in (("signed-in", list(PAGES)), ("public", PUBLIC_PAGES)):
        for name in names:
            for width in WIDTHS:
                cases.append(pytest.param(viewer, width, name, id=f"{viewer}-{width}-{name}"))
    return cases


@pytest.mark.parametrize(("viewer", "width", "name"), page_cases())
def test_every_page_passes_axe_and_fits_the_screen(
    tabs: dict[str, tuple[Any, str]], viewer: str, width: str, name: str
) -> None:
    page = open_page(tabs[viewer], width, PAGES[name])
    page.screenshot(path=str(ARTIFACTS / f"{viewer}-{width}-{name}.png"), full_page=True)
    assert axe_violations(page) == []
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert overflow[0] <= overflow[1], f"the page is {overflow[0]} px wide in {overflow[1]} px"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sign_in_form_with_its_error_summary_passes_axe(
    playwright_browser: Any, servers: dict[str, str], width: str
) -> None:
    context = playwright_browser.new_context(viewport={"width": WIDTHS[width], "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{servers['signed-in']}/board/sign-in")
        page.get_by_label("API key").fill("rio_000000000000_not-a-key")
        page.get_by_role("button", name="Sign in").click()
        page.locator(".error-summary").wait_for()
        page.screenshot(path=str(ARTIFACTS / f"signed-out-{width}-sign-in-error.png"))
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_public_visitor_keeps_the_public_header_on_a_problem_page(
    tabs: dict[str, tuple[Any, str]],
) -> None:
    for name in ("bad-date", "not-found"):
        page = open_page(tabs["public"], "desktop", PAGES[name])
        assert "Public view" in page.locator(".masthead").inner_text(), name


def test_on_a_phone_the_boards_cards_keep_their_column_labels(
    tabs: dict[str, tuple[Any, str]],
) -> None:
    page = open_page(tabs["signed-in"], "phone", PAGES["board"])
    labels = page.evaluate(
        """() => [...document.querySelectorAll('#rec-1 [data-label]')].map(
            cell => getComputedStyle(cell, '::before').content)"""
    )
    for label in ("Rating", "Accountable owner", "Next promise due", "Slip so far"):
        assert f'"{label}"' in labels, labels


def test_on_a_phone_wide_tables_and_the_chart_scroll_in_their_own_named_region(
    tabs: dict[str, tuple[Any, str]],
) -> None:
    for name, selector in (
        ("promised-report", ".report-table"),
        ("recommendation-1", ".history-table"),
        ("recommendation-1", "svg.chart"),
    ):
        page = open_page(tabs["signed-in"], "phone", PAGES[name])
        region = page.locator(selector).first.locator("xpath=..")
        assert region.get_attribute("role") == "region", name
        assert region.get_attribute("tabindex") == "0", name
        assert region.get_attribute("aria-labelledby") or region.get_attribute("aria-label")
        widths = region.evaluate("r => [r.scrollWidth, r.clientWidth]")
        assert widths[0] > widths[1], (name, selector, widths)  # it scrolls, not squeezes
    # No column of the report is squeezed to a few letters a line.
    page = open_page(tabs["signed-in"], "phone", PAGES["promised-report"])
    narrowest = page.evaluate(
        "() => Math.min(...[...document.querySelectorAll('.report-table thead th')]"
        ".map(th => th.getBoundingClientRect().width))"
    )
    assert narrowest >= 60


def test_on_a_phone_the_charts_text_stays_legible(tabs: dict[str, tuple[Any, str]]) -> None:
    page = open_page(tabs["signed-in"], "phone", PAGES["recommendation-1"])
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('svg.chart text')].map(
            t => t.getBoundingClientRect().height))"""
    )
    assert smallest >= 11, f"chart text is {smallest:.1f} px high"


def test_on_a_desktop_no_outcome_tag_spills_out_of_its_cell(
    tabs: dict[str, tuple[Any, str]],
) -> None:
    page = open_page(tabs["signed-in"], "desktop", PAGES["promised-report"])
    spills = page.evaluate(
        """() => [...document.querySelectorAll('.report-table .outcome')].filter(tag => {
            const cell = tag.closest('td').getBoundingClientRect();
            return tag.getBoundingClientRect().right > cell.right + 0.5;
        }).map(tag => tag.textContent)"""
    )
    assert page.locator(".report-table .outcome").count() > 0
    assert spills == []


def test_a_date_typed_in_day_month_and_year_boxes_moves_the_board(
    tabs: dict[str, tuple[Any, str]],
) -> None:
    page = open_page(tabs["signed-in"], "desktop", PAGES["board"])
    fill_date(page, "as_at", "2023-11-30")
    page.get_by_role("button", name="Show the board").click()
    page.wait_for_url(re.compile(r".*\?as_at=2023-11-30$"))
    assert "As at 30 November 2023" in page.locator(".time-banner").inner_text()

    fill_date(page, "as_at", "2023-02-30")
    page.get_by_role("button", name="Show the board").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "As at must be a real date" in summary.inner_text()
    assert "query." not in page.locator("main").inner_text()
    summary.get_by_role("link").first.click()  # the summary's link goes to the field
    assert page.evaluate("() => document.activeElement.id") == "as_at-day"
    group = page.get_by_role("group", name="As at", exact=True)
    assert group.get_by_label("Month").input_value() == "2"  # what was typed, kept
    fill_date(page, "as_at", "2024-06-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*\?as_at=2024-06-01$"))


def test_the_link_to_promised_against_delivered_keeps_the_boards_date(
    tabs: dict[str, tuple[Any, str]],
) -> None:
    page = open_page(tabs["signed-in"], "desktop", f"{BOARD}?as_at=2024-06-01")
    page.get_by_role("link", name=re.compile("Promised against delivered")).click()
    page.wait_for_url(re.compile(r".*promised-vs-delivered\?as_at=2024-06-01"))
    outcomes = page.get_by_role("group", name="Outcomes as at", exact=True)
    assert outcomes.get_by_label("Year").input_value() == "2024"
    assert outcomes.get_by_label("Month").input_value() == "6"
    fill_date(page, "promised_as_at", "2023-11-30")
    page.get_by_role("button", name="Show the report").click()
    page.wait_for_url(re.compile(r".*promised_as_at=2023-11-30"))
    assert "As at 1 June 2024" in page.locator(".time-banner").inner_text()


def test_the_not_found_pages_link_leads_to_a_page_that_exists(
    tabs: dict[str, tuple[Any, str]],
) -> None:
    page = open_page(tabs["signed-in"], "desktop", PAGES["not-found"])
    links = page.locator("main a").evaluate_all("links => links.map(a => a.href)")
    assert links, "the 404 page has no way on"
    for href in links:
        response = page.request.get(href)
        assert response.status == 200, href


def test_the_axe_check_finds_a_violation_planted_in_a_page(
    tabs: dict[str, tuple[Any, str]],
) -> None:
    """The harness can fail: a page with an image without a text alternative does."""
    page = open_page(tabs["signed-in"], "desktop", PAGES["board"])
    page.evaluate(
        "() => document.querySelector('main').append(Object.assign("
        "document.createElement('img'), {src: '/board/static/none.png'}))"
    )
    assert any(v.startswith("image-alt ") for v in axe_violations(page))
