"""Rendering: the Jinja2 environment, the filters pages use, and the headers every page gets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from rio.domain import clock
from rio.domain.rag import NOT_RATED, RATINGS
from rio.web.chart import long_date, marker_svg

TEMPLATES = Path(__file__).parent / "templates"

# The board's counts, in the domain's order of its ratings (worst first), then "Not rated".
RATING_ORDER = (*RATINGS, NOT_RATED)

RULES = {
    "overdue": "overdue",
    "slipped": "slipped",
    "stale": "no recent update",
    "no_date": "a commitment has no date",
    "on_track": "on track",
    "delivered_on_time": "delivered on time",
    "delivered_late": "delivered late",
    "withdrawn": "withdrawn",
    "superseded": "superseded by its next stage",
    "from_review": "a promise of the review as a whole",
    "overdue_in_grace": "overdue, within the grace period",
    "all_closed": "all delivered",
    "all_withdrawn": "all withdrawn",
    "no_commitments": "no commitments yet",
}

# Pages hold what a key may read: never cached, never framed; styles only from our own file.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class When:
    """The two time coordinates a page answers for, and how to carry them onto links."""

    as_at: date
    known_at: datetime | None
    known_at_text: str  # as the reader typed it, for the form
    now: datetime
    # The event log's head, what "as known now" covers; None for readers it would tell how
    # much others record (owner keys and the public: `Permission.LOG_POSITION`).
    position: int | None
    public_at: date | None = None  # as the public record stood then (rio.domain.public_record)

    def query(self, public: bool = True, **extra: str) -> str:
        """The coordinates as a query string; `public=False` for a link to a page that does
        not answer "as the public record stood" (only the board and its exports do)."""
        params = {"as_at": self.as_at.isoformat()}
        if self.known_at_text:
            params["known_at"] = self.known_at_text
        if public and self.public_at is not None:
            params["public_at"] = self.public_at.isoformat()
        params.update(extra)
        return urlencode(params)


def moment(value: datetime) -> str:
    """A timestamp as a person reads it, in London time: '09:30 GMT on 1 January 2026'."""
    local = value.astimezone(clock.LONDON)
    if local.time().replace(tzinfo=None) == clock_time.max:
        return f"the end of {long_date(local.date())} (London)"
    return f"{local:%H:%M} {local.tzname()} on {long_date(local.date())}"


def days(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


def rating_class(rating: str) -> str:
    return "tag-" + rating.lower().replace(" ", "-").replace("/", "-")


def outcome_class(outcome: str) -> str:
    return "outcome-" + outcome.replace(" ", "-")


def web_url(url: str | None) -> str | None:
    """A source's URL if it is a web address; anything else is shown as text, never linked."""
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return None


def date_parts(day: date | None) -> tuple[str, str, str]:
    """A date as the (day, month, year) boxes of a date field show it."""
    if day is None:
        return "", "", ""
    return str(day.day), str(day.month), str(day.year)


def recommendations_of(rows: Iterable[Any]) -> list[Any]:
    """The board's rows that are recommendations: the review's own row (promises of the
    review as a whole) is not one, in the heading's count or the ratings'."""
    return [row for row in rows if not getattr(row, "review_wide", False)]


def rag_counts(rows: Iterable[Any]) -> list[tuple[str, int]]:
    """How many recommendations have each rating, worst first, leaving out ratings none has."""
    counts = Counter(row.rating for row in recommendations_of(rows))
    order = [*RATING_ORDER, *sorted(set(counts) - set(RATING_ORDER))]
    return [(rating, counts[rating]) for rating in order if counts[rating]]


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES)
    env = templates.env
    env.filters.update(
        long_date=long_date,
        moment=moment,
        days=days,
        rating_class=rating_class,
        outcome_class=outcome_class,
        rule_words=lambda rule: RULES.get(rule, rule.replace("_", " ")),
        path=lambda part: quote(str(part), safe=""),
        web_url=web_url,
        date_parts=date_parts,
    )
    env.globals["rag_counts"] = rag_counts
    env.globals["recommendations_of"] = recommendations_of
    env.globals["marker_svg"] = marker_svg
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    templates: Jinja2Templates = request.app.state.board_templates
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=HEADERS
    )
