"""The one clock RIO reads, so tests and replays can pin 'now' instead of patching datetime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
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
