"""How pages word things: times in London, plural days, which source links are followed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from datetime import time as clock_time

from rio.domain import clock
from rio.web.pages import When, days, moment, rating_class, web_url


def test_moments_read_in_london_time_and_a_day_given_alone_is_its_end() -> None:
    assert moment(datetime(2026, 1, 1, 9, 30, tzinfo=UTC)) == "09:30 GMT on 1 January 2026"
    assert moment(datetime(2024, 6, 1, 9, 30, tzinfo=UTC)) == "10:30 BST on 1 June 2024"
    end = datetime.combine(date(2026, 1, 1), clock_time.max, tzinfo=clock.LONDON)
    assert moment(end) == "the end of 1 January 2026 (London)"


def test_small_words() -> None:
    assert (days(1), days(-1), days(2)) == ("1 day", "-1 day", "2 days")
    assert rating_class("Amber/Red") == "tag-amber-red"
    assert rating_class("Not rated") == "tag-not-rated"


def test_only_web_addresses_become_links() -> None:
    assert web_url("https://www.gov.uk/x") == "https://www.gov.uk/x"
    assert web_url("HTTP://example.org") == "HTTP://example.org"
    for unsafe in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "", None):
        assert web_url(unsafe) is None


def test_links_carry_both_time_coordinates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    when = When(date(2024, 6, 1), None, "", now, 7)
    assert when.query() == "as_at=2024-06-01"
    auditor = When(date(2024, 6, 1), now, "2026-01-01T00:00+00:00", now, 7)
    assert auditor.query() == "as_at=2024-06-01&known_at=2026-01-01T00%3A00%2B00%3A00"
