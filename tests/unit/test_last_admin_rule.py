"""The last admin key standing is never revoked: someone must always be able to manage keys."""

from __future__ import annotations

import pytest

from rio.application.keys import RECOVER_ADMIN, LastAdminKey, keeps_an_admin


def test_an_admin_key_is_revoked_while_another_admin_key_stands() -> None:
    keeps_an_admin("aaaaaaaaaaaa", ["aaaaaaaaaaaa", "bbbbbbbbbbbb"])


@pytest.mark.parametrize("standing", [["aaaaaaaaaaaa"], []])
def test_the_last_admin_key_standing_is_refused_and_the_refusal_says_how_to_recover(
    standing: list[str],
) -> None:
    with pytest.raises(LastAdminKey) as refused:
        keeps_an_admin("aaaaaaaaaaaa", standing)
    message = str(refused.value)
    assert "aaaaaaaaaaaa" in message and "last admin key" in message
    assert RECOVER_ADMIN in message and "--role admin" in RECOVER_ADMIN
