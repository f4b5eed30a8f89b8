"""The span of dates RIO accepts as new input, one rule for the API, the board and scenarios.

Python's calendar runs from year 1 to 9999, and a date near either end breaks arithmetic
(a chart's margin, a slip in days) far from where it was typed. Public reviews and their
promises live well inside these bounds, so a date outside them is a typing slip: refused
where it enters, with the bounds named. Facts already stored are never re-judged.
"""

from __future__ import annotations

from datetime import date

FIRST_DAY = date(1900, 1, 1)  # no review RIO tracks made a recommendation before this
LAST_DAY = date(2199, 12, 31)  # no promise RIO tracks is due after this


def outside(day: date) -> str | None:
    """Why `day` is not accepted as new input, or None when it is."""
    if day < FIRST_DAY:
        return f"{day.isoformat()} is before {FIRST_DAY.isoformat()}, the earliest date RIO accepts"
    if day > LAST_DAY:
        return f"{day.isoformat()} is after {LAST_DAY.isoformat()}, the latest date RIO accepts"
    return None
