"""Reading the notification log (or any id-ordered table) a page at a time, from a position.

Every reader of the whole log (the application's event stream, key and alert listings, the
read model's catch-up, audit walks, benchmarks) pages it the same way: a bounded page,
then the next from just after its last id, until a short page says the end was reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from eventsourcing.persistence import ApplicationRecorder, Notification

PAGE = 1000

T = TypeVar("T")


def pages(
    fetch: Callable[[int, int], Sequence[T]],
    position: Callable[[T], int],
    *,
    after: int = 0,
    size: int = PAGE,
) -> Iterator[Sequence[T]]:
    """Non-empty pages of `fetch(start, limit)` (rows with id >= start, in id order), from
    the first row after `after`; `position` gives a row's id."""
    start = after + 1
    while True:
        page = fetch(start, size)
        if page:
            yield page
        if len(page) < size:
            return
        start = position(page[-1]) + 1


def notification_pages(
    recorder: ApplicationRecorder,
    *,
    after: int = 0,
    topics: Sequence[str] = (),
    stop: int | None = None,
    size: int = PAGE,
) -> Iterator[Sequence[Notification]]:
    """The log's notifications after `after` (up to `stop`, of `topics` if given), by page."""
    return pages(
        lambda start, limit: recorder.select_notifications(
            start=start, limit=limit, stop=stop, topics=topics
        ),
        lambda notification: notification.id,
        after=after,
        size=size,
    )


def notifications(
    recorder: ApplicationRecorder,
    *,
    after: int = 0,
    topics: Sequence[str] = (),
    stop: int | None = None,
    size: int = PAGE,
) -> Iterator[Notification]:
    """The same notifications one at a time, for readers that need no page boundaries."""
    for page in notification_pages(recorder, after=after, topics=topics, stop=stop, size=size):
        yield from page
