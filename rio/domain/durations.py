"""How long, in words a reader weighs at a glance: "1 day", "45 days", "11 months", "2 years".

A day overdue and a year overdue must not read alike (issue 14). Up to two months a
duration is counted in days, so a reader still sees the exact number where it matters.
"""

from __future__ import annotations

DAYS_IN_WORDS_UP_TO = 60
_MONTH = 365.25 / 12


def in_words(days: int) -> str:
    """`days` as a person says it: days up to two months, then months, then years."""
    if days < 0:
        raise ValueError(f"a duration is not negative: {days}")
    if days <= DAYS_IN_WORDS_UP_TO:
        return _plural(days, "day")
    months = int((days + 1) / _MONTH)  # whole months, a year of days being 12 of them
    if months < 24:
        return _plural(months, "month")
    years, rest = divmod(months, 12)
    return _plural(years, "year") + (f" {_plural(rest, 'month')}" if rest else "")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"
