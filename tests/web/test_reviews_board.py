"""Two reviews on one board: the index by title with counts, each board headed by its
title, the portfolio page; an owner key sees only its own across reviews."""

from __future__ import annotations

import re
from pathlib import Path

from rio.application.reviews import RegisterReview, Reviews
from rio.scenario import batches, read
from tests.web.conftest import Board

CORONER = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "coroner-report.yaml"
MESSENGER_TITLE = (
    "Health and social care review: leadership for a collaborative and inclusive future"
)
CORONER_TITLE = "Prevention of future deaths report: discharge from hospital"


def _second_review(board: Board) -> None:
    rio = board.services.rio
    scenario, lines = read(CORONER)
    rio.record_batch(batches(scenario, lines, str(CORONER), "test"))
    Reviews(rio).register(scenario.review.command("test"))
    Reviews(rio).register(
        RegisterReview(key="messenger-2022", title=MESSENGER_TITLE, recorded_by="test")
    )


def _row(page: str, key: str) -> str:
    found = re.search(rf'<li><a href="/board/{re.escape(key)}">(.*?)</li>', page, re.S)
    assert found is not None, f"no row for {key}"
    return found.group(1)


def test_the_index_lists_reviews_by_title_with_rag_counts(board: Board) -> None:
    _second_review(board)
    board.sign_in("auditor")
    page = board.get("/board/", as_at="2025-01-15").text
    coroner = _row(page, "pfd-2024-0117")
    assert CORONER_TITLE in coroner
    assert "1 Red" in coroner and "1 Complete" in coroner
    messenger = _row(page, "messenger-2022")
    assert MESSENGER_TITLE in messenger
    assert page.index(MESSENGER_TITLE) < page.index(CORONER_TITLE)  # by title


def test_a_board_is_headed_by_its_review_title(board: Board) -> None:
    _second_review(board)
    board.sign_in("auditor")
    page = board.get("/board/pfd-2024-0117").text
    assert f'<h1 class="heading-xl">{CORONER_TITLE}</h1>' in page


def test_an_unregistered_review_is_headed_by_its_key(board: Board) -> None:
    board.sign_in("auditor")
    page = board.get("/board/messenger-2022").text
    assert '<h1 class="heading-xl">messenger-2022</h1>' in page


def test_the_portfolio_page_counts_per_review_and_lists_overdue_promises(board: Board) -> None:
    _second_review(board)
    board.sign_in("secretariat")
    page = board.get("/board/portfolio", as_at="2025-01-15").text
    assert "Oldest overdue promises" in page and "checklist" in page
    assert CORONER_TITLE in page and MESSENGER_TITLE in page
    narrowed = board.get("/board/portfolio", as_at="2025-01-15", kind="coroners_report").text
    assert MESSENGER_TITLE not in narrowed and CORONER_TITLE in narrowed
    assert board.get("/board/portfolio", kind="novel").status_code == 422


def test_an_owner_key_sees_only_its_own_across_reviews_on_the_board(board: Board) -> None:
    _second_review(board)
    key = board.services.keys.create(
        name="staffing", role="owner", owner="Testshire Staffing Board", granted_by="test"
    )[0]
    board.client.cookies.clear()
    assert board.post_sign_in(key, target="/board/").status_code == 303
    index = board.get("/board/", as_at="2025-01-15").text
    assert CORONER_TITLE in index and MESSENGER_TITLE not in index
    assert "1 Complete" in _row(index, "pfd-2024-0117")
    page = board.get("/board/portfolio", as_at="2025-01-15").text
    assert MESSENGER_TITLE not in page and "checklist" not in page


def test_the_portfolio_lists_link_each_promise_to_its_recommendation(board: Board) -> None:
    _second_review(board)
    board.sign_in("secretariat")
    page = board.get("/board/portfolio", as_at="2025-01-15").text
    overdue = page.split("Oldest overdue promises", 1)[1].split("Longest unexplained slips", 1)[0]
    assert 'href="/board/messenger-2022/' in overdue and "as_at=2025-01-15" in overdue


def test_a_board_counts_recommendations_not_the_review_as_a_whole(board: Board) -> None:
    """Messenger's seven recommendations and the board fixture's eighth, beside promises
    about the review as a whole: those have a row of their own but are not a ninth."""
    board.sign_in("auditor")
    page = board.get("/board/messenger-2022", as_at="2024-10-01").text
    assert "the review as a whole" in page
    assert ">8 recommendations as at 1 October 2024</h2>" in page
