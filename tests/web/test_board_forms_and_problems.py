"""The board as a person meets it (issue 15): its counts, GOV.UK date boxes, and problem
pages in the form's own words with a way on."""

from __future__ import annotations

import re
from collections import Counter

from tests.web.conftest import BOARD, Board
from tests.web.reading import text


def test_the_board_opens_with_its_counts_of_each_rating(sqlite_board: Board) -> None:
    sqlite_board.sign_in("auditor")
    page = sqlite_board.get(BOARD, as_at="2024-06-01").text
    # the recommendations' rows; row 0 is the review as a whole, not a recommendation
    ratings = Counter(re.findall(r'<tr id="rec-[1-9][0-9]*" data-rating="([^"]+)"', page))
    summary = page[page.index('class="rag-summary"') : page.index("</section>")]
    shown = {
        rating: int(count)
        for count, rating in re.findall(
            r'<span class="rag-number">([0-9]+)</span> <strong class="tag [^"]+">([^<]+)<',
            summary,
        )
    }
    assert shown == dict(ratings) and sum(shown.values()) == 8
    assert 'id="rec-0"' in page  # the review's own row is on the board, uncounted
    assert next(iter(shown)) == "Red"  # worst first
    assert page.index("rag-summary") < page.index("board-table")  # at the top


def test_a_date_in_day_month_and_year_boxes_goes_to_the_pages_one_address(
    sqlite_board: Board,
) -> None:
    sqlite_board.sign_in("auditor")
    asked = {"as_at-day": "30", "as_at-month": "11", "as_at-year": "2023", "known_at": ""}
    response = sqlite_board.get(BOARD, **asked)
    assert response.status_code == 303
    assert response.headers["location"] == f"{BOARD}?as_at=2023-11-30"
    report = sqlite_board.get(
        f"{BOARD}/promised-vs-delivered",
        **{"promised_as_at-day": "30", "promised_as_at-month": "11"},
        **{"promised_as_at-year": "2023", "delivered_as_at-day": "1"},
        **{"delivered_as_at-month": "10", "delivered_as_at-year": "2024"},
    )
    assert report.headers["location"] == (
        f"{BOARD}/promised-vs-delivered?promised_as_at=2023-11-30&delivered_as_at=2024-10-01"
    )
    page = sqlite_board.get(BOARD, as_at="2024-06-01").text
    for part in ("day", "month", "year"):  # the boxes show the page's date
        assert f'name="as_at-{part}"' in page
    assert 'value="1"' in page and 'value="6"' in page and 'value="2024"' in page
    assert 'type="date"' not in page  # no browser picker whose format follows its locale


def test_a_wrong_date_is_told_in_the_fields_words_above_the_form_asked_again(
    sqlite_board: Board,
) -> None:
    sqlite_board.sign_in("auditor")
    cases = [
        (
            {"as_at-day": "31", "as_at-month": "2", "as_at-year": "2024"},
            "As at must be a real date",
        ),
        ({"as_at-day": "1", "as_at-month": "", "as_at-year": "2024"}, "must include a month"),
        ({"as_at-day": "1", "as_at-month": "6", "as_at-year": "24"}, "a year from 1900 to 2999"),
        ({"as_at": "2024-13-01"}, "As at: '2024-13-01' is not a date"),
    ]
    for asked, message in cases:
        response = sqlite_board.get(BOARD, **asked)
        words = text(response.text)
        assert response.status_code == 422, asked
        assert "There is a problem" in words and message in words, (asked, words)
        assert "query." not in words
        assert 'href="#as_at-day"' in response.text  # the summary leads to the field
        assert 'class="error-message" id="as_at-error"' in response.text
        assert f'<form method="get" action="{BOARD}"' in response.text  # asked again
        assert response.text.count("<h1") == 1
    kept = sqlite_board.get(BOARD, **cases[0][0]).text
    day = re.search(r'<input [^>]*name="as_at-day"[^>]*>', kept)
    assert day is not None and 'value="31"' in day.group(0)  # what was typed, kept


def test_the_report_link_keeps_the_boards_date_and_the_report_honours_it(
    sqlite_board: Board,
) -> None:
    sqlite_board.sign_in("auditor")
    page = sqlite_board.get(BOARD, as_at="2024-06-01").text
    assert f'href="{BOARD}/promised-vs-delivered?as_at=2024-06-01"' in page
    report = sqlite_board.get(
        f"{BOARD}/promised-vs-delivered", as_at="2024-06-01", promised_as_at="2023-11-30"
    )
    assert "outcome as at 2024-06-01" in text(report.text)
    assert "As at 1 June 2024" in text(report.text)


def test_a_missing_page_links_to_the_reviews_board_and_never_to_itself(
    sqlite_board: Board,
) -> None:
    sqlite_board.sign_in("auditor")
    for path in (f"{BOARD}/99", f"{BOARD}/1/more", f"{BOARD}/abc"):
        page = sqlite_board.get(path).text
        links = re.findall(r"<main.*?</main>", page, re.S)[0]
        hrefs = re.findall(r'href="([^"#]+)"', links)
        assert path not in hrefs, path
        assert BOARD in hrefs and "/board/" in hrefs, (path, hrefs)
    unknown = sqlite_board.get("/board/no-such-review").text
    main = re.findall(r"<main.*?</main>", unknown, re.S)[0]
    assert re.findall(r'href="([^"#]+)"', main) == ["/board/"]


def test_a_public_visitor_keeps_the_public_header_on_every_problem_page(
    public_board: Board,
) -> None:
    for path, asked in (
        (f"{BOARD}/99", {}),
        ("/board/no-such-review", {}),
        (f"{BOARD}/nothing/here", {}),
        (BOARD, {"as_at": "2024-02-30"}),
    ):
        page = public_board.get(path, **asked)
        assert page.status_code in (404, 422)
        assert "Public view, read-only" in text(page.text), path
