"""`rio report restatements`: what changed in what RIO says about a past date, and why.

Two knowledge dates on one clock: recorded (`--known-at K1 --against K2`, what RIO had
recorded) or published (`--public-at P1 --against P2`, what the public record held). The
answers are the fold's (rio.reports.restatements reads every event to find the causes).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

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
from rio.domain.errors import DatesOutOfOrder
from rio.reports.restatements import Knowledge, restatements


def restatements_command(
    as_at: Annotated[
        str, typer.Option("--as-at", help="The past date whose answers are compared.")
    ],
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Earlier: what RIO had recorded by then.")
    ] = None,
    public_at: Annotated[
        str | None,
        typer.Option("--public-at", help="Earlier: what had been published by then (YYYY-MM-DD)."),
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(
            "--against", help="Later, on the same clock (default: now, or today when published)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Each answer as at a date that changed between two knowledge dates, and the facts why."""
    day = parse_date("--as-at", as_at)
    if (known_at is None) == (public_at is None):
        raise CLIError(
            "give one clock: --known-at K1 (recorded) or --public-at P1 (published), "
            "then --against K2"
        )
    if known_at is not None:
        earlier = Knowledge(known_at=parse_known_at(known_at))
        later = Knowledge(known_at=parse_known_at(against) if against else None)
    else:
        earlier = Knowledge(public_at=parse_date("--public-at", public_at))
        later = Knowledge(public_at=parse_date("--against", against, clock.today()))
    root = runtime()
    try:
        report = restatements(list(root.store.all_events()), day, earlier, later, root.policy)
    except DatesOutOfOrder as error:
        raise CLIError(f"--against is before the earlier date: {error}") from None
    if as_json:
        emit_json(report)
        return
    out = console()
    out.print(f"Restatements as at {day}: {earlier} against {later}")
    if report.counts:
        counts = Table()
        for column in ("Count", "Was", "Now"):
            counts.add_column(column)
        for c in report.counts:
            counts.add_row(c.count, f"{c.before} of {c.of_before}", f"{c.after} of {c.of_after}")
        out.print(counts)
    table = Table()
    for column in ("Rec", "Commitment", "Answer", "Was", "Now", "Because"):
        table.add_column(column)
    recorded = known_at is not None
    for change in report.changes:
        because = "; ".join(
            f"{c.type} of {c.occurred}, {c.source.cite()}"
            + (f", recorded {c.recorded:%Y-%m-%d %H:%M}" if recorded else "")
            + ("" if c.seen_by == "later" else " (seen earlier only)")
            for c in change.because
        )
        table.add_row(
            str(change.recommendation),
            change.commitment or "",
            change.answer,
            change.before,
            change.after,
            because,
        )
    if report.changes:
        out.print(table)
    out.print(report.summary)
