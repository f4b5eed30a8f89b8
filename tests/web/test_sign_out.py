"""Signing out of the board ends the session in the store, not just in this browser (issue 13.7).

A copy of the cookie (another tab, another machine, a proxy's log) is refused at once, by
every process on the store and after a restart; the record of it goes once the cookie has
expired anyway.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rio.api.app import create_app
from rio.web.ended_sessions import EndedSessions
from rio.web.session import COOKIE
from tests.api.conftest import settings_for
from tests.web.conftest import BOARD, Board


def with_cookie(client: TestClient, cookie: str, path: str = BOARD) -> int:
    """The status of `path` read with only this session cookie, as a copied cookie is used."""
    response = client.get(path, headers={"Cookie": f"{COOKIE}={cookie}"}, follow_redirects=False)
    return response.status_code


@pytest.fixture
def second_process(board: Board) -> Iterator[TestClient]:
    """Another RIO process on the same store and session secret."""
    url = board.services.settings.database_url
    app = create_app(settings_for(url, session_secret="board-test-secret"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_copied_cookie_stops_working_when_its_session_signs_out(
    board: Board, second_process: TestClient
) -> None:
    board.sign_in("auditor")
    copied = board.client.cookies[COOKIE]
    assert with_cookie(board.client, copied) == 200
    assert with_cookie(second_process, copied) == 200

    out = board.sign_out()

    assert out.status_code == 303
    assert out.headers["location"].startswith("/board/sign-in?")
    refused = board.client.get(
        BOARD, headers={"Cookie": f"{COOKIE}={copied}"}, follow_redirects=False
    )
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/board/sign-in?next=")
    assert with_cookie(second_process, copied) == 303  # another process refuses it too
    assert with_cookie(board.client, copied, f"{BOARD}/1") == 303


def test_a_signed_out_session_stays_ended_after_a_restart(board: Board) -> None:
    board.sign_in("secretariat")
    copied = board.client.cookies[COOKIE]
    board.sign_out()
    url = board.services.settings.database_url

    restarted = create_app(settings_for(url, session_secret="board-test-secret"))
    with TestClient(restarted, raise_server_exceptions=False) as client:
        assert with_cookie(client, copied) == 303


def test_signing_out_ends_that_session_only(sqlite_board: Board) -> None:
    sqlite_board.sign_in("auditor")
    first = sqlite_board.client.cookies[COOKIE]
    sqlite_board.sign_in("auditor")  # the same key, signed in again (another device)
    second = sqlite_board.client.cookies[COOKIE]
    assert first != second

    sqlite_board.sign_out()

    assert with_cookie(sqlite_board.client, second) == 303
    assert with_cookie(sqlite_board.client, first) == 200


def test_signing_out_twice_or_without_a_session_is_harmless(sqlite_board: Board) -> None:
    sqlite_board.sign_in("auditor")
    token = sqlite_board.form_token("/board/")
    copied = sqlite_board.client.cookies[COOKIE]
    assert sqlite_board.sign_out().status_code == 303
    again = sqlite_board.client.post(
        "/board/sign-out",
        data={"csrf": token},
        headers={"Cookie": f"{COOKIE}={copied}"},
        follow_redirects=False,
    )
    assert again.status_code == 303  # an ended session has nothing left to end
    sqlite_board.client.cookies.clear()
    assert sqlite_board.client.post("/board/sign-out", follow_redirects=False).status_code == 303


def test_ended_sessions_are_forgotten_once_their_cookies_have_expired(sqlite_board: Board) -> None:
    """The table holds only sessions whose cookies the signature check would still accept."""
    now = [1_000_000.0]
    ended = EndedSessions(sqlite_board.services.engine, lifetime=3600, clock=lambda: now[0])
    before = len(ended)

    ended.end("old-session", issued=now[0] - 3000)
    ended.end("old-session", issued=now[0] - 3000)  # twice is once
    assert ended.has_ended("old-session") and len(ended) == before + 1

    now[0] += 1000  # "old-session" is now older than a session lasts
    ended.end("new-session", issued=now[0])

    assert not ended.has_ended("old-session")
    assert ended.has_ended("new-session")
    assert len(ended) == before + 1
