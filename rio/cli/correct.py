"""`rio correct`: record a correction from a terminal, naming the event by what it says.

A recorded fact is never edited: the correction supersedes it from its own recording on, so
`--known-at` before it still shows what was recorded then. The event is named by a stable
reference (`rio.domain.references`), not by a version number a person must look up.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from rio.application.corrections import CorrectReferencedEvent
from rio.cli.common import (
    CLIError,
    find_recommendation,
    parse_date,
    principal,
    runtime,
)
from rio.domain import clock
from rio.domain.references import describe, find, parse
from rio.domain.values import Source


def correct_command(
    rec: Annotated[str, typer.Argument(help="Recommendation number, or REVIEW:NUMBER.")],
    event: Annotated[
        str,
        typer.Option(
            "--event",
            help="The event to correct: TYPE:ID (commitment_made:plan), "
            "TYPE:FIELD=VALUE[,FIELD=VALUE] or a version number (see `rio history`).",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the record was wrong.")],
    source: Annotated[str, typer.Option("--source", help="The document the correction rests on.")],
    changes: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=VALUE to correct (repeatable); quote=... for words."),
    ] = None,
    retract: Annotated[
        bool, typer.Option("--retract", help="The event should never have been recorded.")
    ] = False,
    quote: Annotated[str | None, typer.Option("--quote", help="The source's words.")] = None,
    source_date: Annotated[
        str | None,
        typer.Option("--source-date", help="When the source was published (YYYY-MM-DD)."),
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="Where the source can be read.")] = None,
    occurred: Annotated[
        str | None,
        typer.Option("--occurred", help="When the error was found out (default today)."),
    ] = None,
    review: Annotated[str | None, typer.Option("--review")] = None,
) -> None:
    """Correct (--set) or retract (--retract) one recorded event of a recommendation."""
    if bool(changes) == retract:
        raise CLIError("give --set FIELD=VALUE (one or more) or --retract, not both")
    recommendation = find_recommendation(rec, review)
    command = CorrectReferencedEvent(
        event=parse(event),
        changes=_changes(changes or []),
        retract=retract,
        reason=reason,
        occurred=parse_date("--occurred", occurred, clock.today()),
        source=Source(
            document=source,
            date=parse_date("--source-date", source_date) if source_date else None,
            quote=quote,
            url=url,
        ),
        recorded_by=principal(),
    )
    target = find(recommendation.history, command.event, recommendation.number)
    root = runtime()
    version = root.store.handle(recommendation.id, command, expected_version=recommendation.version)
    root.read_model.catch_up()
    how = "retracted" if retract else "corrected"
    typer.echo(
        f"recommendation {recommendation.number} ({recommendation.review}): event "
        f"{target.originator_version} ({describe(target, recommendation.history)}) {how} "
        f"by event {version}"
    )


def _changes(pairs: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise CLIError(f"--set {pair!r} is not FIELD=VALUE")
        result[name.strip()] = _value(name.strip(), value)
    return result


def _value(name: str, value: str) -> Any:
    """A corrected source is JSON ({"document": ..., "date": ...}); anything else is text."""
    if name != "source":
        return value
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or "document" not in data:
        raise CLIError('--set source=... takes JSON: {"document": "...", "date": "YYYY-MM-DD"}')
    return data
