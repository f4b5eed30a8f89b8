"""Dates in a tracker's words: the date a header speaks for, and the due phrases in a note.

Nothing here reads a date itself: candidates are cut from the text around each year (or
"next year") and handed to the domain's `parse_due`, which accepts or refuses them by its
one grammar. The longest candidate it accepts wins ("later in 2024", not "2024").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rio.domain.due_window import DueWindow, parse_due
from rio.domain.errors import InvalidDueDate

# Where a due phrase can end: a year (or split year, or ISO day), or "this/next <period>".
_ANCHOR = re.compile(
    r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b"
    r"|\b[0-9]{4}(?:/[0-9]{2,4}|-[0-9]{2})?\b"
    r"|\b(?:this|next) (?:financial year|year|month|quarter|spring|summer|autumn|winter)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9][\w/\-]*")
_MOST_WORDS_BEFORE = 6  # "before the end of the autumn/winter 2024/25" is the longest form
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(<])|\n+")


@dataclass(frozen=True)
class DuePhrase:
    """A due phrase found in a text: its words, the window they mean, the sentence around it."""

    phrase: str
    window: DueWindow
    sentence: str


def phrases_in(text: str, said_on: date) -> list[DuePhrase]:
    """Every due phrase in `text` said on `said_on`, in order, none overlapping."""
    found: list[tuple[int, int, DueWindow]] = []
    reached = 0
    for anchor in _ANCHOR.finditer(text):
        if anchor.start() < reached:
            continue
        best = _longest(text, anchor, said_on, reached)
        if best is not None:
            found.append(best)
            reached = best[1]
    return [
        DuePhrase(text[start:end], window, _sentence(text, start, end))
        for start, end, window in found
    ]


def promised_in(text: str, said_on: date) -> list[DuePhrase]:
    """The due phrases that can be promises: those naming a period not over when said (a
    period already past says what happened, "published in February 2024")."""
    return [p for p in phrases_in(text, said_on) if p.window.latest >= said_on]


def header_date(header: str, today: date) -> tuple[date | None, str]:
    """The date a header speaks for ("Progress update (March 2024)": 1 March 2024, the first
    day of a month as the scenario files date a month) and the header without it."""
    phrases = phrases_in(header, today)
    if not phrases:
        return None, header
    first = phrases[0]
    rest = header.replace(first.phrase, " ")
    rest = re.sub(r"\(\s*\)|\b(?:as at|as of|at|on)\s*$", " ", rest.strip())
    return first.window.earliest, " ".join(rest.split())


def _longest(
    text: str, anchor: re.Match[str], said_on: date, reached: int
) -> tuple[int, int, DueWindow] | None:
    starts = [m.start() for m in _WORD.finditer(text, reached, anchor.start())]
    for start in [*starts[-_MOST_WORDS_BEFORE:], anchor.start()]:
        try:
            window = parse_due(text[start : anchor.end()], said_on)
        except InvalidDueDate:
            continue
        return start, anchor.end(), window
    return None


def _sentence(text: str, start: int, end: int) -> str:
    begin = 0
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.end() <= start:
            begin = boundary.end()
        elif boundary.start() >= end:
            return text[begin : boundary.start()].strip()
    return text[begin:].strip()
