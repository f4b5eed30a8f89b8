"""The one clock RIO reads, so tests and replays can pin 'now' instead of patching datetime."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_source: ContextVar[Callable[[], datetime]] = ContextVar(
    "rio_clock", default=lambda: datetime.now(UTC)
)


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _source.get()().astimezone(UTC)


def today() -> date:
    """Today's date in London: a UK programme's 'today' turns over at UK midnight."""
    return now().astimezone(LONDON).date()


@contextmanager
def use(source: Callable[[], datetime]) -> Iterator[None]:
    """Read time from `source` within the block (tests, deterministic benchmarks)."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


KNOWN_AT_FORMS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+00:00]"
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


def still_to_come(moment: datetime) -> bool:
    """Whether a "known at" moment is after now: refused at every door, because RIO cannot
    know what it has not recorded, and an answer "as known at" a moment still to come could
    change after it was given (DESIGN.md invariant 2). A bare date of today is its end, so
    it is still to come: leave known_at out for "now"."""
    return moment > now()


def parse_moment(text: str) -> datetime:
    """A "known at" moment: a bare date means the end of that day in London (what RIO showed
    that day); a timestamp without a zone is London time. Raises ValueError otherwise.

    Only the written forms: Python also reads `20240601` (midnight, not the end of the day),
    week dates and bare hours, which nobody means by a moment."""
    if not _MOMENT.fullmatch(text):
        raise ValueError(f"{text!r} is not written {KNOWN_AT_FORMS}")
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time.max, tzinfo=LONDON)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)
