"""Every answer says `nosniff`; API answers are never cached; an undeclared method is 405 whether
or not the caller is authenticated (issue 13.11)."""

from __future__ import annotations

import pytest

from tests.api.conftest import REC, Api, committed


@pytest.mark.parametrize(
    ("path", "authenticated", "expected"),
    [
        ("/health", False, 200),
        ("/status", True, 200),  # JSON
        ("/status", False, 401),  # a problem
        ("/nowhere", True, 404),
        ("/exports/tracker.csv", True, 200),
    ],
)
def test_api_answers_are_nosniff_and_no_store(
    sqlite_api: Api, path: str, authenticated: bool, expected: int
) -> None:
    headers = sqlite_api.as_("auditor") if authenticated else {}

    response = sqlite_api.client.get(path, headers=headers)

    assert response.status_code == expected, response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_board_static_files_are_nosniff_and_may_be_cached(sqlite_api: Api) -> None:
    response = sqlite_api.client.get("/board/static/board.css")

    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_a_history_page_is_no_store(sqlite_api: Api) -> None:
    path = committed(sqlite_api)

    response = sqlite_api.get(f"{path}/history")

    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/status", "GET"),
        ("DELETE", "/status", "GET"),
        ("PUT", REC, "POST"),
        ("DELETE", f"{REC}/1/history/1", "GET"),
    ],
)
@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "with-key"])
def test_an_undeclared_method_is_405_with_allow_before_authentication(
    sqlite_api: Api, method: str, path: str, allowed: str, authenticated: bool
) -> None:
    headers = sqlite_api.as_("auditor") if authenticated else {}

    response = sqlite_api.client.request(method, path, headers=headers)

    assert response.status_code == 405, response.text
    assert allowed in response.headers["Allow"]
    assert response.headers["content-type"] == "application/problem+json"


def test_an_unknown_path_still_needs_a_key_first(sqlite_api: Api) -> None:
    """A 405 tells only a route's methods; an unknown path says nothing until authenticated."""
    assert sqlite_api.client.request("OPTIONS", "/nowhere").status_code == 401
    assert sqlite_api.client.get("/status").status_code == 401
