"""What every `rio` command shares: the runtime, who is acting, options, output, refusals.

Every command module imports its helpers from here and from nowhere else in `rio.cli`, so
the command modules never import one another.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import sys
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from rio.aggregates.recommendation import Recommendation
from rio.domain import clock
from rio.domain.errors import DomainError
from rio.domain.state import Programme
from rio.projections.readers import PublicRecordReader
from rio.reports.answers import to_json
from rio.runtime import Runtime


class CLIError(DomainError):
    """Bad input on the command line: a refusal, one line and exit status 2."""


# The runtime of the command running now: one per invocation, opened by the root callback
# and closed when the command ends (a test may run many invocations in one process).
_current: Runtime | None = None


def open_runtime(context: typer.Context) -> Runtime:
    """Build this invocation's runtime from the environment's settings (a bad setting is
    refused here, before any work) and close it when the invocation's context closes."""
    global _current
    opened = _current = Runtime()

    def close() -> None:
        global _current
        opened.close()
        if _current is opened:
            _current = None

    context.call_on_close(close)
    return opened


def runtime() -> Runtime:
    """This invocation's runtime; its store and read model open on first use."""
    if _current is None:
        raise RuntimeError("a command ran without the root callback that opens its runtime")
    return _current


def principal() -> str:
    """Who recorded what a command records: the operating-system user at this terminal."""
    return f"cli:{getpass.getuser()}"


def console() -> Console:
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "160"))
    return Console(width=width, highlight=False)


def progress_bars() -> Progress:
    """Progress bars on stderr for a long command: drawn on a terminal and gone when done;
    off a terminal (piped, in a script, in a log) nothing is written."""
    err = Console(stderr=True)
    return Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def emit_json(data: Any) -> None:
    """The stable `--json` shape (documented in the README), on stdout."""
    typer.echo(json.dumps(to_json(data), indent=2, ensure_ascii=False))


def parse_date(option: str, value: str | None, default: date | None = None) -> date:
    if value is None:
        if default is None:
            raise CLIError(f"{option} is required (YYYY-MM-DD)")
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CLIError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None


def parse_known_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = clock.parse_moment(value)
    except ValueError:
        raise CLIError(
            f"--known-at {value!r} is not a timestamp: use {clock.KNOWN_AT_FORMS}"
        ) from None
    if clock.still_to_come(moment):
        raise CLIError(
            f"--known-at {value!r} is in the future: RIO cannot know what it has not recorded "
            "(leave --known-at out for everything recorded so far)"
        )
    return moment


def find_recommendation(rec: str, review: str | None) -> Recommendation:
    """`REC` is a number (the store's only review) or REVIEW:NUMBER."""
    if ":" in rec:
        review, _, rec = rec.rpartition(":")
    try:
        number = int(rec)
    except ValueError:
        raise CLIError(
            f"recommendation {rec!r} is not a number (e.g. 1, or messenger-2022:1)"
        ) from None
    if review is None:
        reviews = runtime().read_model.reviews()
        if len(reviews) != 1:
            raise CLIError(f"say which review: {_which_review(reviews)}")
        review = reviews[0]
    return runtime().store.find(review, number)


def warn_undated(reader: object, as_at: date, known_at: datetime | None) -> int:
    """Say on stderr how many facts an answer "as the public record stood" left out because
    their source has no publication date (rio.domain.public_record); 0 for other readers."""
    if not isinstance(reader, PublicRecordReader):
        return 0
    left_out = reader.undated(as_at, known_at)
    if left_out:
        typer.echo(
            f"rio: note: {left_out} fact(s) left out: their source has no publication date",
            err=True,
        )
    return left_out


def _which_review(reviews: list[str]) -> str:
    """The hint for a missing --review: the reviews themselves while they fit on a line."""
    if not reviews:
        return "no review is recorded yet (rio scenario load FILE)"
    if len(reviews) <= 5:
        return f"--review one of {', '.join(reviews)}"
    return f"--review KEY, or REVIEW:NUMBER ({len(reviews)} reviews: `rio reviews` lists them)"


def only_review(programme: Programme, review: str | None) -> Programme:
    """The programme cut to one review's recommendations (`--review`), or all of it."""
    if review is None:
        return programme
    wanted = review.strip().casefold()
    recs = tuple(r for r in programme.recommendations if r.review.casefold() == wanted)
    if not recs and wanted not in {k.casefold() for k in runtime().read_model.reviews()}:
        raise CLIError(f"--review {review!r}: there is no such review (`rio reviews` lists them)")
    return dataclasses.replace(programme, recommendations=recs)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (shape in the README).")]
ReplayOption = Annotated[
    bool, typer.Option("--replay", help="Fold every event instead of reading the read model.")
]
