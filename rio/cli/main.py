"""The `rio` command: bulk loads, status, reports, timelines and history from a terminal.

Human output is a table; `--json` output is stable and documented in the README. Every
refusal is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from rio.aggregates.recommendation import Recommendation
from rio.application.service import RIO
from rio.cli.alerts import alerts_app, scheduler_app
from rio.cli.audit import audit_app
from rio.cli.serve import keys_app, serve
from rio.domain import clock
from rio.domain.errors import DomainError
from rio.logging import configure
from rio.projections.read_model import ReadModel
from rio.projections.readers import Reader, ReplayReader
from rio.reports.answers import (
    promised_vs_delivered,
    status,
    timelines,
    to_json,
)
from rio.scenario import batches, read
from rio.settings import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
scenario_app = typer.Typer(no_args_is_help=True, help="Load scenario files.")
report_app = typer.Typer(no_args_is_help=True, help="Reports.")
app.add_typer(scenario_app, name="scenario")
app.add_typer(report_app, name="report")
app.add_typer(audit_app, name="audit")
app.add_typer(alerts_app, name="alerts")
app.add_typer(scheduler_app, name="scheduler")
app.add_typer(keys_app, name="keys")
app.command("serve")(serve)

log = structlog.get_logger("rio.cli.main")


class CLIError(DomainError):
    """Bad input on the command line."""


def _console() -> Console:
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "160"))
    return Console(width=width, highlight=False)


def _rio() -> RIO:
    return RIO(get_settings().database_url)


def _principal() -> str:
    return f"cli:{getpass.getuser()}"


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
        return clock.parse_moment(value)
    except ValueError:
        raise CLIError(
            f"--known-at {value!r} is not a timestamp: use {clock.KNOWN_AT_FORMS}"
        ) from None


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(to_json(data), indent=2, ensure_ascii=False))


def _reader(rio: RIO, use_replay: bool) -> Reader:
    return ReplayReader(rio) if use_replay else ReadModel(rio)


ReplayOption = Annotated[
    bool, typer.Option("--replay", help="Fold every event instead of reading the read model.")
]


def _find(rio: RIO, rec: str, review: str | None) -> Recommendation:
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
        reviews = ReadModel(rio).reviews()
        if len(reviews) != 1:
            raise CLIError(
                f"say which review: --review one of {', '.join(reviews) or '(none recorded)'}"
            )
        review = reviews[0]
    return rio.find(review, number)


@scenario_app.command("load")
def scenario_load(file: Annotated[Path, typer.Argument(help="A scenario YAML file.")]) -> None:
    """Record a scenario file, all or nothing; records nothing already recorded."""
    scenario, lines = read(file)
    rio = _rio()
    result = rio.record_batch(batches(scenario, lines, str(file), _principal()))
    ReadModel(rio).catch_up()
    log.info(
        "scenario_loaded",
        file=str(file),
        review=scenario.review.key,
        recorded=result.recorded,
        already_recorded=result.already_recorded,
        position=rio.position(),
    )
    typer.echo(
        f"{file}: review {scenario.review.key}: {len(result.recommendations)} recommendations, "
        f"{result.recorded} events recorded, {result.already_recorded} already recorded"
    )


@app.command("status")
def status_command(
    as_at: Annotated[
        str | None, typer.Option("--as-at", help="Valid date (default today).")
    ] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="What RIO had recorded by then.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    use_replay: ReplayOption = False,
) -> None:
    """Every recommendation's RAG rating, with the reason for it."""
    day = parse_date("--as-at", as_at, clock.today())
    rows = status(_reader(_rio(), use_replay).programme(day, parse_known_at(known_at)))
    if as_json:
        _emit_json(
            {
                "as_at": day,
                "known_at": parse_known_at(known_at),
                "recommendations": [
                    {
                        "review": r.state.review,
                        "number": r.state.number,
                        "title": r.state.title,
                        "rating": r.rating,
                        "commitments": r.commitments,
                        "assessments": r.state.assessments,
                        "accountable_owner": r.state.accountable_owner,
                    }
                    for r in rows
                ],
            }
        )
        return
    table = Table(title=f"Status as at {day}" + (f", as known at {known_at}" if known_at else ""))
    for column in ("Rec", "Title", "RAG", "Why", "Assessed"):
        table.add_column(column)
    for r in rows:
        assessed = "; ".join(f"{a.rating} ({a.scale}, {a.occurred})" for a in r.state.assessments)
        table.add_row(
            str(r.state.number), r.state.title, r.rating.rating, r.rating.reason, assessed
        )
    _console().print(table)


@report_app.command("promised-vs-delivered")
def promised_vs_delivered_command(
    promised_as_at: Annotated[
        str, typer.Option("--promised-as-at", help="Take promises as they stood on this date.")
    ],
    delivered_as_at: Annotated[
        str | None,
        typer.Option("--delivered-as-at", help="Judge outcomes as at this date (default today)."),
    ] = None,
    known_at: Annotated[str | None, typer.Option("--known-at")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    use_replay: ReplayOption = False,
) -> None:
    """What was promised on one date against what had happened by another."""
    promised = parse_date("--promised-as-at", promised_as_at)
    delivered = parse_date("--delivered-as-at", delivered_as_at, clock.today())
    if delivered < promised:
        raise CLIError("--delivered-as-at must not be before --promised-as-at")
    reader = _reader(_rio(), use_replay)
    moment = parse_known_at(known_at)
    report = promised_vs_delivered(
        reader.programme(promised, moment), reader.programme(delivered, moment)
    )
    if as_json:
        _emit_json(report)
        return
    table = Table(title=f"Promised as at {promised} against delivered as at {delivered}")
    for column in ("Rec", "Commitment", "Promised", "Outcome", "Detail"):
        table.add_column(column)
    for row in report.rows:
        promised_text = (
            f"{row.promised.text} (by {row.promised.latest})" if row.promised else "no date"
        )
        table.add_row(
            str(row.recommendation), row.deliverable, promised_text, row.outcome.value, row.detail
        )
    console = _console()
    console.print(table)
    console.print(report.summary)


@app.command("timeline")
def timeline_command(
    rec: Annotated[str, typer.Argument(help="Recommendation number, or REVIEW:NUMBER.")],
    review: Annotated[str | None, typer.Option("--review")] = None,
    known_at: Annotated[str | None, typer.Option("--known-at")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    use_replay: ReplayOption = False,
) -> None:
    """How each promised date of a recommendation drifted, revision by revision."""
    rio = _rio()
    recommendation = _find(rio, rec, review)
    programme = _reader(rio, use_replay).programme(clock.today(), parse_known_at(known_at))
    state = programme.recommendation(recommendation.review, recommendation.number)
    lines = timelines(state)
    if as_json:
        _emit_json(lines)
        return
    console = _console()
    for line in lines:
        table = Table(title=f"{line.commitment}: {line.deliverable}")
        for column in ("Occurred", "Step", "Due", "Slip (days)", "Reason", "Source"):
            table.add_column(column)
        for step in line.steps:
            reason = step.reason or ("UNEXPLAINED" if step.unexplained else "")
            due = f"{step.due.text} (by {step.due.latest})" if step.due else ""
            slip = "" if step.slip_days is None else f"{step.slip_days:+d}"
            table.add_row(str(step.occurred), step.kind, due, slip, reason, step.source.cite())
        console.print(table)


@app.command("history")
def history_command(
    rec: Annotated[str, typer.Argument(help="Recommendation number, or REVIEW:NUMBER.")],
    review: Annotated[str | None, typer.Option("--review")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every recorded event of a recommendation: both times, who recorded it, what it says."""
    recommendation = _find(_rio(), rec, review)
    rows = [_event_row(e) for e in recommendation.history]
    if as_json:
        _emit_json(rows)
        return
    table = Table(
        title=f"History of recommendation {recommendation.number} ({recommendation.review})"
    )
    for column in ("#", "Occurred", "Recorded", "By", "Event", "Says"):
        table.add_column(column)
    for row in rows:
        says = "; ".join(f"{k}={v}" for k, v in row["data"].items())
        table.add_row(
            str(row["version"]),
            row["occurred"],
            row["recorded"][:19],
            row["recorded_by"],
            row["type"],
            says,
        )
    _console().print(table)


def _event_row(event: Recommendation.Event) -> dict[str, Any]:
    skip = {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "occurred",
        "source",
        "recorded_by",
    }
    data = {k: to_json(v) for k, v in vars(event).items() if k not in skip}
    return {
        "version": event.originator_version,
        "type": type(event).__name__,
        "occurred": event.occurred.isoformat(),
        "recorded": event.timestamp.isoformat(),
        "recorded_by": event.recorded_by,
        "source": to_json(event.source),
        "data": data,
    }


projections_app = typer.Typer(no_args_is_help=True, help="Read models: position, lag, rebuild.")
app.add_typer(projections_app, name="projections")


@projections_app.command("status")
def projections_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each read model's position in the event log and how far behind it is."""
    status = ReadModel(_rio()).status()
    if as_json:
        _emit_json({**vars(status), "lag": status.lag})
        return
    state = "current" if status.definition_current else "definition changed: will rebuild"
    typer.echo(
        f"{status.name}: position {status.position} of {status.head}, "
        f"lag {status.lag} events ({state})"
    )


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Drop the read models and rebuild them from the whole event log."""
    rio = _rio()
    model = ReadModel(rio)
    head = rio.position()
    started = time.perf_counter()
    with Progress(
        TextColumn("rebuilding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("rebuild", total=head)
        count = model.rebuild(progress=lambda n: bar.advance(task, n))
    seconds = time.perf_counter() - started
    rate = count / seconds if seconds else 0.0
    log.info("read_model_rebuilt", events=count, seconds=round(seconds, 3), rate=round(rate))
    typer.echo(f"rebuilt from {count} events in {seconds:.2f} s ({rate:,.0f} events/s)")


@projections_app.command("run")
def projections_run(
    follow: Annotated[bool, typer.Option("--follow", help="Keep applying new events.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls when following.")] = 1.0,
) -> None:
    """Catch the read models up with the log (and, with --follow, keep them caught up)."""
    model = ReadModel(_rio())
    if follow:
        typer.echo("following the event log; Ctrl-C to stop", err=True)
        try:
            model.follow(stopped=lambda: False, interval=interval)
        except KeyboardInterrupt:
            return
    applied = model.catch_up()
    typer.echo(f"applied {applied} events; position {model.status().position}")


def main() -> None:
    settings = get_settings()
    configure(level=os.environ.get("RIO_LOG_LEVEL", "WARNING"), fmt=settings.log_format)
    try:
        app(standalone_mode=False)
    except DomainError as error:
        typer.echo(f"rio: error: {error}", err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as error:
        # Usage errors (a missing argument, an unknown option): click's message, exit 2.
        show = getattr(error, "show", None)
        if show is None:
            raise
        show()
        sys.exit(int(getattr(error, "exit_code", 2)))
