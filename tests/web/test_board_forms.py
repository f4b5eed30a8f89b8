"""Board forms: every POST carries its form's token, and sign-in guessing is throttled
(issue 13.11).

A page of another site can make a browser post to the board (with or without an Origin
header) but cannot read the token the board's own pages hold, so its post is refused.
"""

from __future__ import annotations

import pytest

from rio.api.ratelimit import FAILED_AUTH_BURST, FailedAuthentications
from rio.web.session import COOKIE
from tests.web.conftest import BOARD, Board
from tests.web.reading import text


def refused_plainly(response_status: int, content_type: str, words: str) -> bool:
    return response_status == 403 and content_type.startswith("text/html") and "Error 403" in words


def test_a_sign_in_without_the_forms_token_is_refused_and_signs_nobody_in(
    sqlite_board: Board,
) -> None:
    key = sqlite_board.keys["auditor"]
    sqlite_board.form_token("/board/sign-in")  # a browser that has seen the form, even
    for data in ({"key": key}, {"key": key, "csrf": ""}, {"key": key, "csrf": "0" * 64}):
        response = sqlite_board.client.post("/board/sign-in", data=data, follow_redirects=False)
        words = text(response.text)
        assert refused_plainly(response.status_code, response.headers["content-type"], words)
        assert "not sent from the board's own sign-in page" in words
        assert COOKIE not in response.headers.get("set-cookie", "")
    assert sqlite_board.get(BOARD).status_code == 303  # still signed out


def test_a_sign_in_token_works_only_with_the_browser_it_was_given_to(sqlite_board: Board) -> None:
    token = sqlite_board.form_token("/board/sign-in")
    sqlite_board.client.cookies.clear()  # another browser: it has no form cookie of its own
    sqlite_board.form_token("/board/sign-in")  # and gets its own
    response = sqlite_board.client.post(
        "/board/sign-in",
        data={"key": sqlite_board.keys["auditor"], "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_the_sign_in_form_carries_its_token(sqlite_board: Board) -> None:
    sqlite_board.client.cookies.clear()
    form = sqlite_board.get("/board/sign-in")
    assert 'type="hidden" name="csrf"' in form.text
    cookie = form.headers["set-cookie"]
    assert cookie.startswith("rio_board_form=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Path=/board" in cookie
    again = sqlite_board.get("/board/sign-in")
    assert "set-cookie" not in again.headers  # one form cookie per browser: tabs agree
    assert sqlite_board.form_token("/board/sign-in") == sqlite_board.form_token("/board/sign-in")


def test_a_sign_out_without_the_sessions_token_is_refused_and_the_session_goes_on(
    sqlite_board: Board,
) -> None:
    sqlite_board.sign_in("auditor")
    mine = sqlite_board.form_token("/board/")
    sqlite_board.sign_in("secretariat")
    theirs = sqlite_board.form_token("/board/")
    assert mine != theirs  # a token is its session's
    for data in ({}, {"csrf": ""}, {"csrf": mine}):
        response = sqlite_board.client.post("/board/sign-out", data=data, follow_redirects=False)
        words = text(response.text)
        assert refused_plainly(response.status_code, response.headers["content-type"], words)
        assert "use the Sign out button" in words
        assert sqlite_board.get(BOARD).status_code == 200  # still signed in
    assert sqlite_board.sign_out().status_code == 303
    assert sqlite_board.get(BOARD).status_code == 303


def test_every_board_page_with_a_sign_out_button_carries_the_token(sqlite_board: Board) -> None:
    sqlite_board.sign_in("auditor")
    token = sqlite_board.form_token("/board/")
    for path in ("/board/", BOARD, f"{BOARD}/1", f"{BOARD}/promised-vs-delivered"):
        page = sqlite_board.get(path).text
        assert page.count('action="/board/sign-out"') == 1, path
        assert f'name="csrf" value="{token}"' in page, path


@pytest.fixture
def throttled(sqlite_board: Board) -> Board:
    sqlite_board.services.failed_auth = FailedAuthentications()
    return sqlite_board


def test_wrong_sign_ins_are_throttled_after_the_burst(throttled: Board) -> None:
    wrong = "rio_0123456789ab_not-a-real-secret"
    for _ in range(FAILED_AUTH_BURST):
        assert throttled.post_sign_in(wrong).status_code == 401

    response = throttled.post_sign_in(wrong)

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    words = text(response.text)
    assert "Too many failed sign-ins from this address" in words
    assert 'name="key"' in response.text  # the form again, to try later
    # Refused before the key is checked, so a right guess cannot be told from a wrong one.
    assert throttled.post_sign_in(throttled.keys["auditor"]).status_code == 429


def test_right_sign_ins_spend_nothing(throttled: Board) -> None:
    for _ in range(FAILED_AUTH_BURST + 2):
        assert throttled.post_sign_in(throttled.keys["auditor"]).status_code == 303
