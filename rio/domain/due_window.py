"""Fuzzy due dates: the words a deadline was given in, resolved to an earliest and latest date.

Government deadlines are rarely days ("Spring 2025", "by March 2024", "2024/25"). A
`DueWindow` keeps the words and the window they mean, so a commitment can be judged against
its latest date without pretending anyone promised a day; words RIO cannot read are refused,
never guessed.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from rio.domain import bounds
from rio.domain.errors import InvalidDueDate

# The grammar, after lower-casing, collapsing spaces and dropping a trailing full stop:
#
#     phrase    := [by | before | later] [in | during | from] [qualifier] period
#     qualifier := early | mid | late | [the] start of | [the] beginning of
#                | [the] middle of | [the] end of
#     period    := YYYY-MM-DD | D[th] MONTH YYYY | [the] NAME[/NAME] [of] YEARS
#                | [fy | financial year] YEARS | (this | the | next) (UNIT | NAME)
#     YEARS     := YYYY | YYYY/Y | YYYY/YY | YYYY/YYYY | YYYY-YY
#     NAME      := a month (or its abbreviation), season, Q1-Q4 or H1/H2 (see _NAMED);
#                  two joined by / or - run from the first to the last
#     UNIT      := year | month | quarter | financial year | fy
#
# Decisions, so that every reader resolves a phrase the same way:
#
# - Seasons are meteorological; "winter 2024" and "winter 2024/25" are Dec 2024 - Feb 2025.
# - Bare split years ("2024/25") are UK financial years, 1 April - 31 March.
# - With a split year, the first named period starts in the first year and the last ends in
#   the second: "autumn/winter 2024/25" is Sep 2024 - Feb 2025; "spring 2024/25" is refused.
# - A qualifier takes a third of its period: of the months when they divide by three (a year
#   gives Jan-Apr, May-Aug, Sep-Dec; a season its first, second or third month), else of a
#   single month's days (1-10, 11-20, 21-end). "The end of 2024" is therefore Sep-Dec 2024.
# - "by X" runs from the statement (or from the start of X, if that is earlier) to the end of
#   X; "before X" to the day before X starts; "before the end of X" means "by the end of X".
# - "later in X" runs from the statement (or from the start of X, if that is later) to the end
#   of X, and is refused once X has ended.
# - "this NAME" is the occurrence containing the statement date, else the one in its year;
#   "next NAME" is the first occurrence starting in a later month; "this/next UNIT" is the
#   calendar (or financial) unit containing the statement date, or the one after it.
# - A name without a year ("by March") is refused: the reader would have to guess the year.

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


class _Span(NamedTuple):
    """A run of whole months: the first month's index (year * 12 + month - 1) and a length."""

    first: int
    months: int


# Each named period as (first month of the year it is labelled with, length in months).
_NAMED: dict[str, tuple[int, int]] = {
    **{name: (number, 1) for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: (number, 1) for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": (9, 1),
    "spring": (3, 3),
    "summer": (6, 3),
    "autumn": (9, 3),
    "winter": (12, 3),
    "q1": (1, 3),
    "q2": (4, 3),
    "q3": (7, 3),
    "q4": (10, 3),
    "h1": (1, 6),
    "h2": (7, 6),
}

# Units that "this" and "next" step through: (month the unit is aligned to, length in months).
_UNITS: dict[str, tuple[int, int]] = {
    "year": (1, 12),
    "month": (1, 1),
    "quarter": (1, 3),
    "financial year": (4, 12),
    "fy": (4, 12),
}

# EDTF level 1 season codes, keyed by the first month of the meteorological season.
_SEASON_CODES = {3: 21, 6: 22, 9: 23, 12: 24}

_THIRDS = {"early": 0, "start": 0, "beginning": 0, "mid": 1, "middle": 1, "late": 2, "end": 2}

_YEARS = r"(?P<year>[0-9]{4})(?:/(?P<slash>[0-9]{4}|[0-9]{1,2})|-(?P<dash>[0-9]{2}))?"
_MODE = re.compile(r"(by|before|later) ")
_PREFIX = re.compile(r"(in|during|from) ")
_QUALIFIER = re.compile(
    r"(?:(early|mid|late)(?:-| in | )|(?:the )?(start|beginning|middle|end) of )"
)
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DAY = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)? ([a-z]+) ([0-9]{4})")
_YEAR_ONLY = re.compile(rf"(?P<fy>fy ?|financial year )?{_YEARS}")
_RELATIVE = re.compile(r"(?:this|the|(?P<next>next)) (?P<what>[a-z][a-z0-9]*(?: year)?)")
_NAMED_IN_YEAR = re.compile(rf"(?:the )?(?P<names>[a-z0-9]+(?:[/-][a-z0-9]+)?)(?: of)? {_YEARS}")


class _Refused(Exception):
    """Why a phrase cannot be read; `parse_due` adds the phrase itself."""


@dataclass(frozen=True)
class DueWindow:
    """When a commitment is due, as its words said it; it is due by `latest`."""

    text: str
    earliest: date
    latest: date

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise InvalidDueDate(self.text, "a due window keeps the words it was given")
        if self.earliest > self.latest:
            raise InvalidDueDate(
                self.text, f"its earliest date {self.earliest} is after its latest {self.latest}"
            )

    @property
    def edtf(self) -> str:
        """The window in EDTF: a day, month, year or season where it is one, else an interval."""
        start, end = self.earliest, self.latest
        if start == end:
            return start.isoformat()
        if start.day == 1 and end.day == _days_in(end.year, end.month):
            months = _index(end) - _index(start) + 1
            if months == 1:
                return f"{start.year:04d}-{start.month:02d}"
            if months == 12 and start.month == 1:
                return f"{start.year:04d}"
            if months == 3 and start.month in _SEASON_CODES:
                return f"{start.year:04d}-{_SEASON_CODES[start.month]}"
        return f"{start.isoformat()}/{end.isoformat()}"

    def to_dict(self) -> dict[str, str]:
        return {
            "text": self.text,
            "earliest": self.earliest.isoformat(),
            "latest": self.latest.isoformat(),
            "edtf": self.edtf,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> DueWindow:
        """Rebuild a window from `to_dict`; `edtf` is derived, so it may be absent."""
        text = data.get("text")
        if not isinstance(text, str):
            raise InvalidDueDate(repr(text), "a stored due window needs its original text")
        unknown = sorted(set(data) - {"text", "earliest", "latest", "edtf"})
        if unknown:
            raise InvalidDueDate(text, f"a stored due window has no field {', '.join(unknown)}")
        window = cls(text, _stored_day(text, data, "earliest"), _stored_day(text, data, "latest"))
        edtf = data.get("edtf")
        if edtf is not None and edtf != window.edtf:
            raise InvalidDueDate(
                text, f"its stored EDTF {edtf!r} disagrees with its dates ({window.edtf})"
            )
        return window


def parse_due(phrase: str, said_on: date) -> DueWindow:
    """Resolve a deadline phrase used in a statement made on `said_on` (see the module docs)."""
    try:
        earliest, latest = _resolve(_normalise(phrase), said_on)
    except _Refused as refusal:
        raise InvalidDueDate(phrase, str(refusal)) from None
    bound = bounds.outside(latest) or bounds.outside(earliest)
    if bound is not None:
        raise InvalidDueDate(phrase, bound)
    return DueWindow(phrase, earliest, latest)


def _normalise(phrase: str) -> str:
    words = phrase.lower().replace("\u2013", "-").replace("\u2014", "-")
    words = re.sub(r"\s*([/-])\s*", r"\1", words)
    return " ".join(words.split()).removesuffix(".").rstrip()


def _resolve(words: str, said_on: date) -> tuple[date, date]:
    if not words:
        raise _Refused("it is empty")
    mode, words = _take(_MODE, words)
    _, words = _take(_PREFIX, words)
    third, words = _take(_QUALIFIER, words)
    start, end = _period(words, said_on)
    if third is not None:
        start, end = _third(start, end, _THIRDS[third], third)
    if mode == "before" and third == "end":
        # "before the end of X" is said to mean by the end of X, not before its final third.
        mode = "by"
    if mode == "by":
        return min(said_on, start), end
    if mode == "before":
        if start == date.min:
            raise _Refused("nothing comes before it")
        end = start - timedelta(days=1)
        return min(said_on, end), end
    if mode == "later":
        if end < said_on:
            raise _Refused(f"that period ended on {end}, before the statement made on {said_on}")
        return max(said_on, start), end
    return start, end


def _take(pattern: re.Pattern[str], words: str) -> tuple[str | None, str]:
    """Split a leading match of `pattern` off `words`, returning its first non-empty group."""
    match = pattern.match(words)
    if match is None:
        return None, words
    return next(group for group in match.groups() if group), words[match.end() :]


def _period(words: str, said_on: date) -> tuple[date, date]:
    if match := _ISO_DAY.fullmatch(words):
        year, month, day = (int(part) for part in match.groups())
        return _day(year, month, day)
    if match := _DAY.fullmatch(words):
        day_text, name, year_text = match.groups()
        if name not in _NAMED or _NAMED[name][1] != 1:
            raise _Refused(f"{name!r} is not a month")
        return _day(int(year_text), _NAMED[name][0], int(day_text))
    if match := _YEAR_ONLY.fullmatch(words):
        year, next_year = _years(match)
        if next_year is not None:
            return _dates(_Span(year * 12 + 3, 12))
        if match["fy"]:
            raise _Refused(f"say which financial year, e.g. '{year}/{(year + 1) % 100:02d}'")
        return _dates(_Span(year * 12, 12))
    if match := _RELATIVE.fullmatch(words):
        return _dates(_relative(match["what"], bool(match["next"]), _index(said_on)))
    if match := _NAMED_IN_YEAR.fullmatch(words):
        year, next_year = _years(match)
        return _named(re.split("[/-]", match["names"]), year, next_year)
    if words in _NAMED:
        raise _Refused(f"it gives no year: name one, as in '{words} YYYY', or say 'next {words}'")
    raise _Refused(
        "it is not a date, month, season, quarter, half, financial year or year RIO can read"
    )


def _years(match: re.Match[str]) -> tuple[int, int | None]:
    """The year a match names and, for a split year like 2024/25, the year after it."""
    year = int(match["year"])
    suffix = match["slash"] or match["dash"]
    if suffix is None:
        return year, None
    if int(suffix) != (year + 1) % 10 ** len(suffix):
        raise _Refused(
            f"{year} and {suffix} are not consecutive years; a financial year is written "
            f"{year}/{(year + 1) % 100:02d}, a month as e.g. 'April {year}'"
        )
    return year, year + 1


def _relative(what: str, following: bool, today: int) -> _Span:
    if what in _UNITS:
        aligned_to, months = _UNITS[what]
        first = today - (today - (aligned_to - 1)) % months
        return _Span(first + months if following else first, months)
    if what in _NAMED:
        year = today // 12
        candidates = [_occurrence(what, label) for label in (year - 1, year, year + 1)]
        if following:
            return next(span for span in candidates if span.first > today)
        containing = [s for s in candidates if s.first <= today < s.first + s.months]
        return containing[0] if containing else candidates[1]
    raise _Refused(f"{what!r} is not a period RIO can count from the statement date")


def _named(names: list[str], year: int, next_year: int | None) -> tuple[date, date]:
    unknown = [name for name in names if name not in _NAMED]
    if unknown:
        raise _Refused(f"{unknown[0]!r} is not a month, season, quarter (Q1-Q4) or half (H1, H2)")
    first = _occurrence(names[0], year)
    if next_year is None:
        last = _occurrence(names[-1], year)
    else:
        start_month, months = _NAMED[names[-1]]
        last = _occurrence(names[-1], year if start_month + months > 13 else next_year)
        if len(names) == 1 and last != first:
            raise _Refused(
                f"{names[0]} does not cross from {year} into {next_year}; name the year it is in"
            )
    if last.first < first.first:
        raise _Refused(
            f"{names[-1]} {year} comes before {names[0]} {year}; "
            f"for the turn of a year write e.g. '{'/'.join(names)} {year}/{(year + 1) % 100:02d}'"
        )
    months = last.first + last.months - first.first
    if months > 12:
        raise _Refused(f"{'/'.join(names)} would span {months} months")
    return _dates(_Span(first.first, months))


def _occurrence(name: str, year: int) -> _Span:
    start_month, months = _NAMED[name]
    return _Span(year * 12 + start_month - 1, months)


def _third(start: date, end: date, which: int, word: str) -> tuple[date, date]:
    months = _index(end) - _index(start) + 1
    whole_months = start.day == 1 and end.day == _days_in(end.year, end.month)
    if whole_months and months == 1:
        first_day, last_day = ((1, 10), (11, 20), (21, end.day))[which]
        return start.replace(day=first_day), start.replace(day=last_day)
    if whole_months and months % 3 == 0:
        return _dates(_Span(_index(start) + which * months // 3, months // 3))
    raise _Refused(f"{word!r} needs a month or a period of whole months that divides in three")


def _day(year: int, month: int, day: int) -> tuple[date, date]:
    try:
        resolved = date(year, month, day)
    except ValueError:
        raise _Refused(f"there is no day {year:04d}-{month:02d}-{day:02d}") from None
    return resolved, resolved


def _dates(span: _Span) -> tuple[date, date]:
    last = span.first + span.months - 1
    try:
        start = date(span.first // 12, span.first % 12 + 1, 1)
        end_year, end_month = last // 12, last % 12 + 1
        return start, date(end_year, end_month, _days_in(end_year, end_month))
    except ValueError:
        raise _Refused("it falls outside the calendar RIO can represent") from None


def _index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _stored_day(text: str, data: Mapping[str, str], key: str) -> date:
    value = data.get(key)
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise InvalidDueDate(text, f"a stored due window needs an ISO {key} date, not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidDueDate(text, f"its stored {key} date {value!r} does not exist") from None
