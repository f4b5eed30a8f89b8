"""An owner key learns nothing of what is not its owner's (issue 13.8): not the other reviews,
not whether they exist, not how much everyone else records (the event log's position).

Through the board and the API alike, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import cited
from tests.web.conftest import BOARD, REVIEW, Board
from tests.web.reading import text

OTHER = "other-2020"
DHSC = "Department of Health and Social Care"
PROMISED = f"{BOARD}/promised-vs-delivered"
REPORT = {"promised_as_at": "2023-11-30", "delivered_as_at": "2024-10-01"}


@pytest.fixture
def two_reviews(board: Board) -> Board:
    """The Messenger review, and another review only the DHSC owns anything of."""
    headers = {"Authorization": f"Bearer {board.keys['secretariat']}"}
    base = f"/reviews/{OTHER}/recommendations"
    for path, body in (
        (base, cited("2020-03-01", number=1, title="Publish a workforce plan")),
        (f"{base}/1/owners", cited("2020-03-01", owner=DHSC)),
    ):
        response = board.client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text
    return board


def reviews_listed(page: str) -> list[str]:
    return re.findall(r'<li><a href="/board/([^"/]+)">', page)


def test_the_index_lists_only_the_reviews_an_owner_owns_something_of(two_reviews: Board) -> None:
    two_reviews.sign_in("auditor")
    assert reviews_listed(two_reviews.get("/board/").text) == [REVIEW, OTHER]

    two_reviews.sign_in("cqc")
    assert reviews_listed(two_reviews.get("/board/").text) == [REVIEW]


def test_another_review_answers_exactly_as_a_missing_one(two_reviews: Board) -> None:
    two_reviews.sign_in("cqc")
    missing = "no-such-2020"
    for page in ("", "/1", "/promised-vs-delivered"):
        params = {"promised_as_at": "2023-11-30"} if page.endswith("delivered") else {}
        other = two_reviews.get(f"/board/{OTHER}{page}", **params)
        absent = two_reviews.get(f"/board/{missing}{page}", **params)
        assert other.status_code == absent.status_code == 404, page
        assert other.text.replace(OTHER, missing) == absent.text, page
    assert two_reviews.get(f"/board/{OTHER}/tracker.csv").status_code == 403  # as any review

    two_reviews.sign_in("auditor")
    assert two_reviews.get(f"/board/{OTHER}").status_code == 200
    assert two_reviews.get(f"/board/{OTHER}/1").status_code == 200


def test_owner_pages_do_not_show_the_event_log_position(two_reviews: Board) -> None:
    head = two_reviews.services.rio.position()
    pages: tuple[tuple[str, dict[str, str]], ...] = (
        (BOARD, {}),
        (f"{BOARD}/1", {}),
        (f"{BOARD}/8", {}),
        (PROMISED, REPORT),
    )
    two_reviews.sign_in("auditor")
    for path, params in pages:
        assert f"up to event {head}" in text(two_reviews.get(path, **params).text), path

    two_reviews.sign_in("cqc")
    for path, params in (pages[0], *pages[2:]):  # rec 8 is the CQC's
        page = two_reviews.get(path, **params)
        assert page.status_code == 200, path
        words = text(page.text)
        assert "everything recorded so far." in words, path
        assert "up to event" not in words and f"event {head}" not in words, path


def test_owner_api_answers_carry_no_event_log_position(two_reviews: Board) -> None:
    head = two_reviews.services.rio.position()
    queries = (
        ("/status", {"as_at": "2024-06-01"}),
        ("/reports/promised-vs-delivered", {"promised_as_at": "2023-11-30"}),
    )
    for path, params in queries:
        for role, position in (("auditor", head), ("secretariat", head), ("cqc", None)):
            key = two_reviews.keys[role]
            response = two_reviews.client.get(
                path, params=params, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 200, response.text
            assert response.json()["position"] == position, (path, role)


def test_owner_api_answers_for_another_review_are_those_for_a_missing_one(
    two_reviews: Board,
) -> None:
    headers = {"Authorization": f"Bearer {two_reviews.keys['cqc']}"}

    def get(path: str) -> tuple[int, str]:
        response = two_reviews.client.get(path, headers=headers)
        return response.status_code, response.text

    other = get(f"/reviews/{OTHER}/recommendations/1")
    absent = get("/reviews/no-such-2020/recommendations/1")
    assert other[0] == absent[0] == 404
    assert other[1].replace(OTHER, "no-such-2020") == absent[1]
    status = two_reviews.client.get("/status", params={"review": OTHER}, headers=headers)
    assert status.json()["recommendations"] == [] and status.json()["total"] == 0
