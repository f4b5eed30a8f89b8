"""The board's date fields as a person meets them: GOV.UK's day, month and year boxes.

A form sends NAME-day, NAME-month and NAME-year; the board answers with a redirect to the
same page with NAME=YYYY-MM-DD, the one form its links and the API use, so an address
can be shared. Problems are told in the field's own label, never the API's parameter path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from urllib.parse import urlencode

from rio.api.problems import field_problem

# Each date (and moment) parameter the board takes, with the label its form shows.
LABELS = {
    "as_at": "As at",
    "known_at": "As known at",
    "promised_as_at": "Promises as at",
    "delivered_as_at": "Outcomes as at",
    "public_at": "As the public record stood on",
}
DATES = ("as_at", "promised_as_at", "delivered_as_at", "public_at")
PARTS = ("day", "month", "year")
FIRST_YEAR, LAST_YEAR = 1900, 2999
_ISH = re.compile(r"^\s*(\d{1,4})-(\d{1,2})-(\d{1,2})\s*$")


class Canonical(Exception):
    """Raised by a page's dependency: the page is at `url`, with the dates joined."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def canonical_url(path: str, params: Mapping[str, str], pairs: list[tuple[str, str]]) -> str | None:
    """Where a page asked with day/month/year boxes lives (None: it was asked canonically).

    `pairs` is every (name, value) of the query in order; empty values are left out.
    """
    if not any(f"{name}-{part}" in params for name in DATES for part in PARTS):
        return None
    boxes = {f"{name}-{part}" for name in DATES for part in PARTS}
    joined = [(name, value) for name in DATES if (value := join_parts(params, name))]
    names = {name for name, _ in joined}
    kept = [(n, v) for n, v in pairs if v.strip() and n not in boxes and n not in names]
    query = urlencode(joined + kept)
    return f"{path}?{query}" if query else path


def join_parts(params: Mapping[str, str], name: str) -> str | None:
    """NAME-day, NAME-month and NAME-year as YYYY-MM-DD; None when all three are empty."""
    values = {part: params.get(f"{name}-{part}", "").strip() for part in PARTS}
    label = LABELS[name]
    if not any(values.values()):
        return None
    missing = [part for part in PARTS if not values[part]]
    if missing:
        words = " and a ".join(missing)
        raise field_problem(f"query.{name}", f"{label} must include a {words}")
    if not all(v.isdigit() for v in values.values()):
        raise field_problem(
            f"query.{name}", f"{label} must be a real date, in numbers, for example 30 11 2023"
        )
    day, month, year = (int(values[part]) for part in PARTS)
    if len(values["year"]) != 4 or not FIRST_YEAR <= year <= LAST_YEAR:
        raise field_problem(
            f"query.{name}", f"{label} must have a year from {FIRST_YEAR} to {LAST_YEAR}"
        )
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    try:
        date.fromisoformat(iso)
    except ValueError:
        raise field_problem(
            f"query.{name}", f"{label} must be a real date, for example 30 11 2023"
        ) from None
    return iso


def raw_parts(params: Mapping[str, str], name: str) -> tuple[str, str, str] | None:
    """What was typed for the date `name`, as (day, month, year), to show it again."""
    if any(f"{name}-{part}" in params for part in PARTS):
        day, month, year = (params.get(f"{name}-{part}", "") for part in PARTS)
        return day, month, year
    found = _ISH.match(params.get(name, ""))
    if found:
        year, month, day = found.groups()
        return day, month, year
    return None


def problem_message(field: str, message: str) -> tuple[str, str | None, str]:
    """(parameter, label, message in the label's words) for a problem naming `field`,
    such as `query.as_at`; the label is None for a parameter no form shows."""
    name = field.removeprefix("query.")
    label = LABELS.get(name)
    if label is None:
        return name, None, message[:1].upper() + message[1:]
    if message.startswith(label):
        return name, label, message
    return name, label, f"{label}: {message}"
