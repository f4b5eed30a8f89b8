"""The status board over HTTP: pages, time travel, who may read what, and refusals as pages."""

from __future__ import annotations

import re
from datetime import date

import pytest

from rio.domain.rag import rate_recommendation
from rio.reports.answers import promised_vs_delivered, status
from rio.web.board import board as board_rows
from tests.web.conftest import BOARD, CQC, REVIEW, Board
from tests.web.reading import numbers, row, text

# --- the pages, on SQLite and PostgreSQL ---------------------------------------------------------


def test_the_board_shows_each_recommendations_rating_owner_next_promise_and_slip(
    board: Board,
) -> None:
    board.sign_in("auditor")
    page = board.get(BOARD, as_at="2024-06-01")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # Row 0 is the review as a whole (issue 14): the delivery plan, counted once there
    # rather than once under each recommendation.
    assert numbers(page.text) == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    first = row(page.text, 1)
    assert "Targeted interventions" in first
    assert "Red overdue" in first
    assert "NHS England" in first
    assert "April 2024 by 30 April 2024 overdue by 32 days" in first
    assert "As at 1 June 2024" in text(page.text)

    later = row(board.get(BOARD, as_at="2024-10-02").text, 1)
    assert "245 days 1 unexplained" in later  # slip against the first promise, never explained

    earlier = board.get(BOARD, as_at="2023-11-30").text
    # Green, not Amber: the undated delivery plan is the review's (row 0), judged once there
    # (issue 14), and no longer sets an Amber floor under recommendation 1.
    assert "Green on track" in row(earlier, 1)
    assert "Amber no recent update" in row(earlier, 0)  # the plan, unheard of since 2022
    assert "April 2024 by 30 April 2024 in 152 days" in row(earlier, 1)
    assert "Inspect &lt;leadership&gt; &amp; culture" in earlier  # escaped, never markup


def test_the_board_agrees_with_the_rating_rules_on_every_date(board: Board) -> None:
    services = board.services
    services.catch_up()
    for as_at in ("2022-06-08", "2023-11-30", "2024-04-30", "2024-06-01", "2024-10-02", None):
        day = date.fromisoformat(as_at) if as_at else date.today()
        rows = {r.number: r for r in board_rows(services.read_model, REVIEW, day)}
        expected = status(services.programme(day))
        assert sorted(rows) == [s.state.number for s in expected]
        for s in expected:
            got = rows[s.state.number]
            assert (got.rating, got.rule) == (s.rating.rating, s.rating.rule), (as_at, got)
            assert got.owner == s.state.accountable_owner
            open_dated = [c for c in s.state.commitments if c.is_open and c.due is not None]
            first = min((c.due.latest for c in open_dated if c.due), default=None)
            assert (got.next_promise.latest if got.next_promise else None) == first
            slips = [c.slip_days for c in s.state.commitments if c.withdrawn is None]
            assert got.slip_days == max(slips, default=0)


def test_known_at_shows_the_board_as_rio_showed_it_then(board: Board) -> None:
    board.sign_in("auditor")
    page = board.get(BOARD, as_at="2024-06-01", known_at="2000-01-01")
    assert page.status_code == 200
    assert numbers(page.text) == []
    assert "as known at the end of 1 January 2000 (London)" in text(page.text)
    assert "was registered as at 1 June 2024" in text(page.text)


def test_a_recommendation_page_has_history_deliveries_explanation_and_chart(
    board: Board,
) -> None:
    board.sign_in("auditor")
    page = board.get(f"{BOARD}/1", as_at="2024-10-02").text
    words = text(page)
    assert "<svg" in page and 'role="img"' in page
    assert re.search(r"<title id=\"slippage-title\">Slippage", page)
    assert "later in 2024 (by 31 December 2024), +245 days against the first promise" in words
    assert "First promise April 2024 1 April 2024 to 30 April 2024 0 days" in words
    assert "Revised later in 2024 1 October 2024 to 31 December 2024 +245 days unexplained" in (
        words
    )
    assert "The scheme will be launched" in words or "launched in April 2024" in words
    assert "Computed by RIO Amber" in words and "worst open commitment" in words
    assert "1.1 A new, national entry-level induction" in words

    delivered = text(board.get(f"{BOARD}/3", as_at="2024-10-02").text)
    assert "Directory of support offers" in delivered
    assert "Delivered 1 August 2023" in delivered

    assessed = text(board.get(f"{BOARD}/8", as_at="2024-06-01").text)
    assert "Computed by RIO Red" in assessed  # the computed rating stands ...
    assert "Assessed by people Amber/Red on the dcs5 scale" in assessed  # ... beside the human one


def test_the_promised_vs_delivered_page_matches_the_report_and_links_the_exports(
    board: Board,
) -> None:
    board.sign_in("auditor")
    page = board.get(
        f"{BOARD}/promised-vs-delivered", promised_as_at="2023-11-30", delivered_as_at="2024-10-01"
    )
    assert page.status_code == 200
    services = board.services
    report = promised_vs_delivered(
        services.programme(date(2023, 11, 30)), services.programme(date(2024, 10, 1)), REVIEW
    )
    assert report.summary in text(page.text)
    assert text(page.text).count("Department of Health and Social Care") >= 1
    assert len(re.findall(r'<tr>\s*<td class="num"><a href', page.text)) == len(report.rows)

    csv_link = f"{BOARD}/tracker.csv?as_at=2024-10-01"
    assert f'href="{csv_link}"' in page.text
    assert f'href="{BOARD}/tracker.xlsx?as_at=2024-10-01"' in page.text
    from_board = board.get(csv_link)
    from_api = board.client.get(
        "/exports/tracker.csv",
        params={"review": REVIEW, "as_at": "2024-10-01"},
        headers={"Authorization": f"Bearer {board.keys['auditor']}"},
    )
    assert from_board.status_code == from_api.status_code == 200
    assert from_board.content == from_api.content  # the same export as the API's
    xlsx = board.get(f"{BOARD}/tracker.xlsx", as_at="2024-10-01")
    assert xlsx.content[:2] == b"PK"

    empty = board.get(f"{BOARD}/promised-vs-delivered")
    assert empty.status_code == 200 and "Choose the date" in empty.text


def test_an_owner_reads_only_their_own_recommendations(board: Board) -> None:
    board.sign_in("cqc")
    page = board.get(BOARD, as_at="2024-06-01")
    assert numbers(page.text) == [8]
    assert f"Your key is for {CQC}" in text(page.text)
    assert board.get(f"{BOARD}/8").status_code == 200
    other = board.get(f"{BOARD}/1")
    assert other.status_code == 404  # as if it did not exist
    assert other.text.count("has no recommendation 1") == 1
    report = board.get(
        f"{BOARD}/promised-vs-delivered", promised_as_at="2023-11-30", delivered_as_at="2024-10-01"
    )
    assert "Well-led inspections" in report.text and "National induction" not in report.text
    assert board.get(f"{BOARD}/tracker.csv").status_code == 403
    assert board.get(BOARD, known_at="2026-01-01").status_code == 403

    board.sign_in("owner")
    assert numbers(board.get(BOARD, as_at="2024-06-01").text) == [1, 2, 3, 4, 5, 6, 7]


def test_a_revoked_key_stops_working_on_the_next_request(board: Board) -> None:
    board.sign_in("auditor")
    assert board.get(BOARD).status_code == 200
    key_id = board.keys["auditor"].split("_")[1]
    board.store.revoke(key_id, revoked_by="test")
    refused = board.get(BOARD)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/board/sign-in?")
    assert "revoked" in refused.headers["location"]
    assert 'rio_board_session=""' in refused.headers["set-cookie"]  # the session is ended


# --- sessions, forms and errors (the store does not change these) -------------------------------


def test_an_unauthenticated_visitor_is_sent_to_sign_in(sqlite_board: Board) -> None:
    for path in (BOARD, f"{BOARD}/1?as_at=2024-06-01", "/board", "/board/"):
        response = sqlite_board.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/board/sign-in?next=%2Fboard")
    form = sqlite_board.get("/board/sign-in", next=BOARD)
    assert form.status_code == 200
    assert 'name="key"' in form.text and 'type="password"' in form.text
    assert f'value="{BOARD}"' in form.text


def test_signing_in_sets_a_signed_http_only_lax_cookie_holding_the_key_id(
    sqlite_board: Board,
) -> None:
    response = sqlite_board.sign_in("auditor")
    assert response.headers["location"] == BOARD
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("rio_board_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/board" in cookie
    assert "Secure" not in cookie  # plain http here; https below
    key = sqlite_board.keys["auditor"]
    assert key not in cookie and key.split("_", 2)[2] not in cookie  # never the key itself
    assert sqlite_board.get(BOARD).status_code == 200

    value = sqlite_board.client.cookies["rio_board_session"]
    sqlite_board.client.cookies.clear()
    for forged in (value[:-2] + "xx", value.replace(value.split(".")[0], "eyJrZXkiOiJ4In0")):
        tampered = sqlite_board.client.get(
            BOARD, headers={"Cookie": f"rio_board_session={forged}"}, follow_redirects=False
        )
        assert tampered.status_code == 303  # a tampered cookie is no session

    secure = sqlite_board.post_sign_in(key, url="https://testserver/board/sign-in")
    assert "Secure" in secure.headers["set-cookie"]


def test_only_reading_keys_may_sign_in(sqlite_board: Board) -> None:
    def attempt(key: str) -> tuple[int, str]:
        sqlite_board.client.cookies.clear()
        response = sqlite_board.post_sign_in(key, target=None)
        return response.status_code, text(response.text)

    status_code, words = attempt(sqlite_board.keys["admin"])
    assert status_code == 403 and "A admin key cannot read the board" in words
    status_code, words = attempt("rio_0123456789ab_not-a-real-secret")
    assert status_code == 401 and "not valid or has been revoked" in words
    status_code, words = attempt("")
    assert status_code == 422 and "Enter your API key" in words
    for role in ("secretariat", "auditor", "owner"):
        assert sqlite_board.sign_in(role).status_code == 303


def test_sign_in_stays_on_the_board_and_refuses_forms_from_other_sites(
    sqlite_board: Board,
) -> None:
    key = sqlite_board.keys["auditor"]
    for target in ("https://evil.example/", "//evil.example/board", "/reviews/x", ""):
        response = sqlite_board.post_sign_in(key, target=target)
        assert response.headers["location"] == "/board/", target
    forged = sqlite_board.post_sign_in(key, target=None, Origin="https://evil.example")
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith("text/html")


def test_signing_out_ends_the_session(sqlite_board: Board) -> None:
    sqlite_board.sign_in("auditor")
    out = sqlite_board.sign_out()
    assert out.status_code == 303
    assert "signed out" in text(sqlite_board.client.get(out.headers["location"]).text)
    assert sqlite_board.get(BOARD).status_code == 303


@pytest.mark.parametrize(
    ("path", "params", "status_code", "message"),
    [
        (BOARD, {"as_at": "2024-13-01"}, 422, "'2024-13-01' is not a date: use YYYY-MM-DD"),
        (BOARD, {"as_at": "yesterday"}, 422, "'yesterday' is not a date"),
        (BOARD, {"as_at": "0001-01-01"}, 422, "out of range"),
        (f"{BOARD}/1", {"as_at": "2024-02-30"}, 422, "'2024-02-30' is not a date"),
        (BOARD, {"known_at": "noon"}, 422, "'noon' is not a timestamp"),
        (BOARD, {"known_at": "2999-01-01"}, 422, "is in the future"),
        (
            f"{BOARD}/promised-vs-delivered",
            {"promised_as_at": "2024-10-01", "delivered_as_at": "2023-11-30"},
            422,
            "Outcomes as at (30 November 2023) must be on or after Promises as at (1 October 2024)",
        ),
        (f"{BOARD}/promised-vs-delivered", {"promised_as_at": "30/11/2023"}, 422, "not a date"),
        (f"{BOARD}/1", {"as_at": "2021-01-01"}, 404, "was not yet registered as at 2021-01-01"),
        (f"{BOARD}/99", {}, 404, "has no recommendation 99"),
        (f"{BOARD}/abc", {}, 404, "there is no page"),
        ("/board/no-such-review", {}, 404, "there is no review 'no-such-review'"),
        (f"{BOARD}/1/more", {}, 404, "there is no page at"),
    ],
)
def test_bad_input_gets_a_clear_page_never_a_500(
    sqlite_board: Board, path: str, params: dict[str, str], status_code: int, message: str
) -> None:
    sqlite_board.sign_in("auditor")
    response = sqlite_board.get(path, **params)
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert message in text(response.text)
    assert f"Error {status_code}" in text(response.text)
    assert "query." not in text(response.text)  # a person's words, never the API's field path


def test_the_public_setting_opens_the_board_read_only(public_board: Board) -> None:
    page = public_board.get(BOARD, as_at="2024-06-01")
    assert page.status_code == 200
    assert "Red overdue" in row(page.text, 1)
    assert 'name="known_at"' not in page.text  # no known-at control for the public
    assert "Public view, read-only" in text(page.text)
    assert public_board.get(f"{BOARD}/1").status_code == 200
    assert public_board.get(f"{BOARD}/tracker.csv").status_code == 200
    refused = public_board.get(BOARD, known_at="2026-01-01")
    assert refused.status_code == 403 and "for auditors" in text(refused.text)
    # Public reading opens neither the API nor any writing.
    assert public_board.client.get("/status").status_code == 401
    assert public_board.client.post("/board/messenger-2022", data={}).status_code == 405
    # A key holder can still sign in for more.
    public_board.sign_in("auditor")
    assert 'name="known_at"' in public_board.get(BOARD).text


def test_the_api_still_needs_a_key_even_with_a_board_session(sqlite_board: Board) -> None:
    sqlite_board.sign_in("auditor")
    session = sqlite_board.client.cookies["rio_board_session"]
    response = sqlite_board.client.get(
        "/status", headers={"Cookie": f"rio_board_session={session}"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_pages_are_built_for_people_using_assistive_technology_and_print(
    sqlite_board: Board,
) -> None:
    sqlite_board.sign_in("auditor")
    pages = [
        sqlite_board.get(BOARD, as_at="2024-06-01").text,
        sqlite_board.get(f"{BOARD}/1", as_at="2024-10-02").text,
        sqlite_board.get(
            f"{BOARD}/promised-vs-delivered",
            promised_as_at="2023-11-30",
            delivered_as_at="2024-10-01",
        ).text,
    ]
    for page in pages:
        assert '<html lang="en-GB">' in page
        assert '<a href="#main" class="skip-link">' in page and '<main id="main"' in page
        assert page.count("<h1") == 1
        assert page.count("<table") == page.count("<caption")
        assert '<th scope="col"' in page and '<th scope="row"' in page
        for field in re.findall(r'<input[^>]* id="([^"]+)"', page):
            assert f'<label for="{field}"' in page, field
        assert "<script" not in page
    chart = pages[1]
    assert 'aria-labelledby="slippage-title slippage-desc"' in chart
    assert '<desc id="slippage-desc">' in chart
    css = sqlite_board.get("/board/static/board.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "@media print" in css.text
    board_page = sqlite_board.get(BOARD)
    assert "default-src 'none'" in board_page.headers["content-security-policy"]
    assert board_page.headers["cache-control"] == "no-store"


def test_the_recommendation_rating_is_the_rules_rating(sqlite_board: Board) -> None:
    sqlite_board.sign_in("auditor")
    services = sqlite_board.services
    state = services.programme(date(2024, 6, 1)).recommendation(REVIEW, 1)
    rating, _ = rate_recommendation(state, date(2024, 6, 1))
    page = text(sqlite_board.get(f"{BOARD}/1", as_at="2024-06-01").text)
    assert f"Computed by RIO {rating.rating} rule: overdue {rating.reason}" in page


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("care quality COMMISSION", CQC),
        ("  Care   Quality\tCommission ", CQC),
        ("nhs  england", "NHS England"),
    ],
)
def test_owner_keys_read_the_same_recommendations_through_the_api_and_the_board(
    board: Board, spelling: str, canonical: str
) -> None:
    """An owner's name means one owner whatever its case and spacing, at every door."""
    services = board.services
    for name, owner in (("spelt", spelling), ("canonical", canonical)):
        board.keys[name] = services.keys.create(
            name=f"{name} holder", role="owner", owner=owner, granted_by="test"
        )[0]
    seen: dict[str, tuple[list[int], list[int]]] = {}
    for name in ("spelt", "canonical"):
        headers = {"Authorization": f"Bearer {board.keys[name]}"}
        status = board.client.get(
            "/status", params={"review": REVIEW, "as_at": "2024-06-01"}, headers=headers
        )
        assert status.status_code == 200, status.text
        api = sorted(r["number"] for r in status.json()["recommendations"])
        board.sign_in(name)
        page = numbers(board.get(BOARD, as_at="2024-06-01").text)
        assert page == api, f"{name}: the board shows {page}, the API {api}"
        for number in range(1, 9):
            one = board.client.get(f"/reviews/{REVIEW}/recommendations/{number}", headers=headers)
            shown = board.get(f"{BOARD}/{number}")
            assert (one.status_code == 200) == (number in api), (name, number, one.status_code)
            assert (shown.status_code == 200) == (number in api), (name, number, shown.status_code)
        seen[name] = (api, page)
    assert seen["spelt"] == seen["canonical"]
    assert seen["canonical"][0] == ([8] if canonical == CQC else [1, 2, 3, 4, 5, 6, 7])


def test_the_board_shows_the_review_as_a_whole_once_and_what_owners_reported(
    board: Board,
) -> None:
    board.sign_in("auditor")
    page = board.get(BOARD, as_at="2024-10-02").text

    review_row = row(page, 0)
    assert review_row.startswith("All ") and "(the review as a whole)" in review_row
    assert "reported not delivered (delivery-plan) as of 2024-10-01" in review_row
    assert "reported in progress (2.1, 2.2, 2.3) as of 2024-10-01" in row(page, 2)
    assert "reported" not in row(board.get(BOARD, as_at="2024-09-30").text, 2)
    detail = board.get(f"{BOARD}/0", as_at="2024-10-02")
    assert detail.status_code == 200
    assert "Delivery plan with clear timelines" in text(detail.text)


def test_a_recommendation_page_shows_stages_and_changes_of_scope(board: Board) -> None:
    board.sign_in("auditor")
    framework = text(board.get(f"{BOARD}/3", as_at="2025-06-01").text)
    assert framework.count("Superseded by its next stage") == 2  # stages 1 and 2
    induction = text(board.get(f"{BOARD}/1", as_at="2024-10-02").text)
    assert "scope changed now “Induction framework for all new staff, published”" in induction
    plan = text(board.get(f"{BOARD}/0", as_at="2024-10-02").text)
    assert "Reported by its owner" in plan and "The plan itself is not yet published." in plan
