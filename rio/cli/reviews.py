"""`rio reviews` and `rio portfolio`: the store's reviews, and the portfolio across them.

Both count in the database (rio.projections.reviews), so they answer as quickly for a
national portfolio of a thousand reviews as for one.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from rio.aggregates.review import ReviewKind
from rio.cli.common import (
    CLIError,
    JsonOption,
    console,
    emit_json,
    parse_date,
    parse_known_at,
    runtime,
)
from rio.domain import clock
from rio.projections.reviews import Filters, PromiseRow, index, portfolio

AsAtOption = Annotated[
    str | None, typer.Option("--as-at", help="Rate as at this date (YYYY-MM-DD; default today).")
]
KnownAtOption = Annotated[
    str | None,
    typer.Option("--known-at", help="Only what RIO had recorded by then (date or timestamp)."),
]


def reviews_command(
    as_at: AsAtOption = None,
    known_at: KnownAtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every review in the store, by title, with its recommendations counted by rating."""
    day = parse_date("--as-at", as_at, clock.today())
    moment = parse_known_at(known_at)
    root = runtime()
    rows = index(root.read_model, root.review_register, day, moment, policy=root.policy)
    if as_json:
        emit_json({"as_at": day, "known_at": moment, "reviews": [r.as_dict() for r in rows]})
        return
    table = Table(
        title=f"{len(rows)} reviews, rated as at {day}"
        + (f", as known at {known_at}" if known_at else "")
    )
    table.add_column("Review", no_wrap=True)
    table.add_column("Title", ratio=3)
    table.add_column("Kind", ratio=1)
    table.add_column("Recs", justify="right")
    table.add_column("Ratings", ratio=1)
    for r in rows:
        d = r.review.details
        kind = ReviewKind(d.kind).label
        if d.published is not None:
            kind += f", {d.published}"
        if d.response_due is not None:
            kind += f"; response due {d.response_due}"
        table.add_row(
            r.review.key,
            d.title,
            kind,
            str(r.recommendations),
            ", ".join(f"{n} {rating}" for rating, n in r.ratings.items()),
        )
    console().print(table)


def portfolio_command(
    as_at: AsAtOption = None,
    known_at: KnownAtOption = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only what this owner is accountable for.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only reviews of this kind: " + ", ".join(ReviewKind)),
    ] = None,
    theme: Annotated[
        str | None, typer.Option("--theme", help="Only recommendations of this theme.")
    ] = None,
    review: Annotated[str | None, typer.Option("--review", help="Only this review.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=500, help="Rows in each list (default 10).")
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """Counts by rating and outcome per review, the oldest overdue promises and the
    longest unexplained slips across every review."""
    day = parse_date("--as-at", as_at, clock.today())
    moment = parse_known_at(known_at)
    if kind is not None and kind not in set(ReviewKind):
        raise CLIError(f"--kind {kind!r} is not one of: {', '.join(ReviewKind)}")
    root = runtime()
    view = portfolio(
        root.read_model,
        root.review_register,
        day,
        moment,
        policy=root.policy,
        filters=Filters(owner=owner, kind=kind, theme=theme, review=review),
        limit=limit,
    )
    if as_json:
        emit_json(view.as_dict())
        return
    out = console()
    when = f"as at {day}" + (f", as known at {known_at}" if known_at else "")
    counted = [r for r in view.reviews if r.recommendations]
    totals = ", ".join(f"{n} {rating}" for rating, n in view.totals.items()) or "none"
    out.print(
        f"Portfolio {when}: {len(counted)} review{'' if len(counted) == 1 else 's'}; "
        f"recommendations: {totals}"
    )
    table = Table(title="Recommendations by rating, commitments by outcome, per review")
    table.add_column("Review", no_wrap=True)
    table.add_column("Title", ratio=2)
    table.add_column("Recs", justify="right")
    table.add_column("Ratings", ratio=1)
    table.add_column("Commitments by outcome", ratio=2)
    for r in counted:
        outcomes = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in r.outcomes.items())
        table.add_row(
            r.review.key,
            r.review.title,
            str(r.recommendations),
            ", ".join(f"{n} {rating}" for rating, n in r.ratings.items()),
            outcomes,
        )
    out.print(table)
    out.print(_promises("Oldest overdue promises", "Overdue by", view.oldest_overdue))
    out.print(_promises("Longest unexplained slips", "Slipped by", view.longest_unexplained_slips))


def _promises(title: str, days_heading: str, rows: tuple[PromiseRow, ...]) -> Table:
    table = Table(title=title if rows else f"{title}: none")
    table.add_column("Review", no_wrap=True)
    for column in ("Rec", "Commitment", "Owner", "Due", days_heading):
        table.add_column(column)
    for p in rows:
        due = f"{p.due_text} (by {p.due_latest})" if p.due_text else ""
        table.add_row(p.review, str(p.number), p.commitment, p.owner or "", due, f"{p.days} days")
    return table
