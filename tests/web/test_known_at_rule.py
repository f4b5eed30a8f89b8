"""One known-at rule at every door (issue 13.11): a moment still to come is refused alike by
the API, the board and the CLI, and the known-at view is the auditors' and the secretariat's
through the API as on the board (`rio.domain.access.known_at_refusal`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rio.domain import clock
from rio.domain.access import KnownAtRefusal, Role, known_at_refusal
from tests.support.cli import refused
from tests.web.conftest import BOARD, REVIEW, Board
from tests.web.reading import text

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "past", "future"),
    [
        (Role.SECRETARIAT, None, KnownAtRefusal.IN_THE_FUTURE),
        (Role.AUDITOR, None, KnownAtRefusal.IN_THE_FUTURE),
        (Role.OWNER, KnownAtRefusal.NOT_FOR_ROLE, KnownAtRefusal.NOT_FOR_ROLE),
        (Role.ADMIN, KnownAtRefusal.NOT_FOR_ROLE, KnownAtRefusal.NOT_FOR_ROLE),
        (None, KnownAtRefusal.NOT_FOR_ROLE, KnownAtRefusal.NOT_FOR_ROLE),  # the public
    ],
)
def test_the_rule(
    role: Role | None, past: KnownAtRefusal | None, future: KnownAtRefusal | None
) -> None:
    with clock.use(lambda: NOW):
        assert known_at_refusal(role, NOW - timedelta(days=1)) is past
        assert known_at_refusal(role, NOW) is past  # now itself is known
        assert known_at_refusal(role, NOW + timedelta(seconds=1)) is future
        assert known_at_refusal(role, clock.parse_moment(NOW.date().isoformat())) is future


def api_get(board: Board, role: str, path: str, **params: str) -> tuple[int, str]:
    response = board.client.get(
        path, params=params, headers={"Authorization": f"Bearer {board.keys[role]}"}
    )
    body = response.json()
    if response.status_code == 200:
        return 200, ""
    messages = [e["message"] for e in body.get("errors", [])] or [body["detail"]]
    return response.status_code, messages[0]


API_PATHS = (
    "/status",
    f"/reviews/{REVIEW}/recommendations/1",
    f"/reviews/{REVIEW}/recommendations/1/timeline",
)


@pytest.mark.parametrize("path", API_PATHS)
def test_a_future_known_at_is_refused_by_the_api_as_by_the_board(
    sqlite_board: Board, path: str
) -> None:
    future = "2999-01-01"
    for role in ("auditor", "secretariat"):
        status_code, message = api_get(sqlite_board, role, path, known_at=future)
        assert status_code == 422, (role, message)
        assert (
            message == f"'{future}' is in the future: RIO cannot know what it has not "
            "recorded (leave known_at out for everything recorded so far)"
        )
        sqlite_board.sign_in(role)
        page = sqlite_board.get(BOARD, known_at=future)
        assert page.status_code == 422 and message in text(page.text)


def test_owner_keys_may_not_ask_known_at_through_the_api_as_on_the_board(
    sqlite_board: Board,
) -> None:
    sqlite_board.sign_in("cqc")
    page = sqlite_board.get(BOARD, known_at="2026-01-01")
    assert page.status_code == 403
    for moment in ("2026-01-01", "2999-01-01"):
        status_code, message = api_get(sqlite_board, "cqc", "/status", known_at=moment)
        assert status_code == 403
        assert message in text(page.text)
        assert "for auditors and the secretariat" in message
    assert api_get(sqlite_board, "cqc", "/status")[0] == 200
    assert api_get(sqlite_board, "auditor", "/status", known_at="2026-01-01")[0] == 200


def test_the_cli_refuses_a_future_known_at(sqlite_url: str) -> None:
    line = refused(sqlite_url, "status", "--known-at", "2999-01-01")
    assert "--known-at '2999-01-01' is in the future" in line
