"""The one clock RIO reads, so tests and replays can pin 'now' instead of patching datetime."""

from __future__ import annotations

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


def parse_moment(text: str) -> datetime:
    """A "known at" moment: a bare date means the end of that day in London (what RIO showed
    that day); a timestamp without a zone is London time. Raises ValueError otherwise."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time.max, tzinfo=LONDON)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)
