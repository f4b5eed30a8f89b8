"""`rio import tracker`: a tracker spreadsheet read into a draft scenario file; nothing recorded."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Annotated

import typer

from rio.cli.common import CLIError, parse_date
from rio.domain import clock
from rio.imports.draft import to_yaml
from rio.imports.sheets import read_table
from rio.imports.tracker import Options, draft, fields_help, parse_columns

import_app = typer.Typer(
    no_args_is_help=True, help="Read what people already keep into a draft scenario file."
)


TRACKER_HELP = (
    "Read a tracker into a draft scenario to check and then `rio scenario load`.\n\n"
    "Headers are matched by meaning; each row becomes a registration, and the owner's words "
    "reported statuses (or notes), each citing its cell; due phrases in the notes are proposed "
    "as inferred promises. Nothing is recorded."
)


@import_app.command("tracker", help=TRACKER_HELP)
def import_tracker(
    file: Annotated[Path, typer.Argument(help="The tracker: a .csv or .xlsx file.")],
    review: Annotated[
        str | None,
        typer.Option(
            help="The review's key (default: the file's Review column, else the file's name); "
            "picks one review from a file that holds several."
        ),
    ] = None,
    title: Annotated[str | None, typer.Option(help="The review's title.")] = None,
    sheet: Annotated[
        str | None, typer.Option(help="The sheet to read (default: the first).")
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            help="Map headers it does not recognise: 'HEADER=field,...' (or HEADER=ignore). "
            f"Fields: {fields_help()}."
        ),
    ] = None,
    speaks_for: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="The date the tracker speaks for (YYYY-MM-DD), for columns whose header "
            "names none (as 'Progress update (March 2024)' does).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the draft here (never over a file); default: stdout."
        ),
    ] = None,
) -> None:
    """A tracker spreadsheet read into a draft scenario file (help: TRACKER_HELP)."""
    today = clock.today()
    options = Options(
        review=review,
        title=title,
        columns=parse_columns(columns),
        speaks_for=None if speaks_for is None else parse_date("--date", speaks_for),
        today=today,
    )
    if options.speaks_for is not None and options.speaks_for > today:
        raise CLIError(
            f"--date {options.speaks_for} is in the future: a tracker speaks for the past"
        )
    if output is not None and output.exists():
        raise CLIError(
            f"--output {output} exists: choose another file (a draft never overwrites one)"
        )
    result = draft(read_table(file, sheet), options)
    text = to_yaml(result, str(file), today)
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    for row in result.unread:
        _say(f"rio: note: {result.table.file}: {row}", width, err=True)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CLIError(f"--output {output}: cannot write it: {error.strerror}") from None
    counts = result.counts
    _say(
        f"Draft written to {output} (review {result.scenario['review']['key']}), "
        f"from {result.table.where}:",
        width,
    )
    _say(
        f"{_n(counts['recommendations'], 'recommendation')}, "
        f"{_n(counts['statuses'], 'reported status', 'reported statuses')}, "
        f"{_n(counts['notes'], 'note')}, {_n(counts['decisions'], 'decision')}, "
        f"{_n(counts['promises'], 'inferred promise')}",
        width,
        indent="  ",
    )
    _say(f"{_n(len(result.checks), 'thing')} to check, listed at its top", width, indent="  ")
    if result.unread:
        _say(f"{_n(len(result.unread), 'row')} not read (on stderr)", width, indent="  ")
    _say("Nothing recorded. Check the draft, then load it:", width)
    typer.echo(f"  rio scenario load {output}")  # whole, to copy


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _say(line: str, width: int, indent: str = "", err: bool = False) -> None:
    typer.echo(
        textwrap.fill(
            line,
            width,
            initial_indent=indent,
            subsequent_indent=indent + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        ),
        err=err,
    )
