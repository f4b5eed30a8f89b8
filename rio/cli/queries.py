"""`rio status`, `rio report`, `rio timeline`, `rio history`: questions about the programme.

Each answer is rated by the runtime's one RAG policy, the policy the board, the API and the
alerts use, so a terminal and a web page never disagree about a rating.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from rio.cli.common import (
    CLIError,
    JsonOption,
    ReplayOption,
    console,
    emit_json,
    find_recommendation,
    only_review,
    parse_date,
    parse_known_at,
    runtime,
)
from rio.domain import clock
from rio.domain.errors import DatesOutOfOrder
from rio.reports.answers import promised_vs_delivered, status, timelines
from rio.reports.history import event_row

report_app = typer.Typer(no_args_is_help=True, help="Reports.")

AsAtOption = Annotated[str | None, typer.Option("--as-at", help="Valid date (default today).")]
KnownAtOption = Annotated[
    str | None, typer.Option("--known-at", help="What RIO had recorded by then.")
]
RecArgument = Annotated[str, typer.Argument(help="Recommendation number, or REVIEW:NUMBER.")]
ReviewOption = Annotated[
    str | None, typer.Option("--review", help="Only this review (its key; `rio reviews`).")
]


def status_command(
    as_at: AsAtOption = None,
    known_at: KnownAtOption = None,
    review: ReviewOption = None,
    as_json: JsonOption = False,
    use_replay: ReplayOption = False,
) -> None:
    """Every recommendation's RAG rating, with the reason for it."""
    day = parse_date("--as-at", as_at, clock.today())
    moment = parse_known_at(known_at)
    root = runtime()
    rows = status(only_review(root.reader(use_replay).programme(day, moment), review), root.policy)
    several = len({r.state.review for r in rows}) > 1  # then each row says its review
    if as_json:
        emit_json(
            {
                "as_at": day,
                "known_at": moment,
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
    for column in ("Review",) * several + ("Rec", "Title", "RAG", "Why", "Assessed"):
        table.add_column(column)
    for r in rows:
        assessed = "; ".join(f"{a.rating} ({a.scale}, {a.occurred})" for a in r.state.assessments)
        table.add_row(
            *(r.state.review,) * several,
            str(r.state.number),
            r.state.title,
            r.rating.rating,
            r.rating.reason,
            assessed,
        )
    console().print(table)


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
    review: ReviewOption = None,
    as_json: JsonOption = False,
    use_replay: ReplayOption = False,
) -> None:
    """What was promised on one date against what had happened by another."""
    promised = parse_date("--promised-as-at", promised_as_at)
    delivered = parse_date("--delivered-as-at", delivered_as_at, clock.today())
    reader = runtime().reader(use_replay)
    moment = parse_known_at(known_at)
    try:
        then = only_review(reader.programme(promised, moment), review)
        key = then.recommendations[0].review if review and then.recommendations else review
        report = promised_vs_delivered(then, reader.programme(delivered, moment), key)
    except DatesOutOfOrder as error:  # the report's refusal, in this command's option names
        raise CLIError(
            str(error)
            .replace("delivered_as_at", "--delivered-as-at")
            .replace("promised_as_at", "--promised-as-at")
        ) from None
    if as_json:
        emit_json(report)
        return
    table = Table(title=f"Promised as at {promised} against delivered as at {delivered}")
    several = len({row.review for row in report.rows}) > 1  # then each row says its review
    for column in ("Review",) * several + ("Rec", "Commitment", "Promised", "Outcome", "Detail"):
        table.add_column(column)
    for row in report.rows:
        promised_text = (
            f"{row.promised.text} (by {row.promised.latest})" if row.promised else "no date"
        )
        table.add_row(
            *(row.review,) * several,
            str(row.recommendation),
            row.deliverable,
            promised_text,
            row.outcome.value,
            row.detail,
        )
    out = console()
    out.print(table)
    out.print(report.summary)


def timeline_command(
    rec: RecArgument,
    review: ReviewOption = None,
    known_at: Annotated[str | None, typer.Option("--known-at")] = None,
    as_json: JsonOption = False,
    use_replay: ReplayOption = False,
) -> None:
    """How each promised date of a recommendation drifted, revision by revision."""
    recommendation = find_recommendation(rec, review)
    programme = runtime().reader(use_replay).programme(clock.today(), parse_known_at(known_at))
    state = programme.recommendation(recommendation.review, recommendation.number)
    lines = timelines(state)
    if as_json:
        emit_json(lines)
        return
    out = console()
    for line in lines:
        table = Table(title=f"{line.commitment}: {line.deliverable}")
        for column in ("Occurred", "Step", "Due", "Slip (days)", "Reason", "Source"):
            table.add_column(column)
        for step in line.steps:
            reason = step.reason or ("UNEXPLAINED" if step.unexplained else "")
            due = f"{step.due.text} (by {step.due.latest})" if step.due else ""
            slip = "" if step.slip_days is None else f"{step.slip_days:+d}"
            table.add_row(str(step.occurred), step.kind, due, slip, reason, step.source.cite())
        out.print(table)


def history_command(
    rec: RecArgument,
    review: ReviewOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every recorded event of a recommendation: both times, who recorded it, what it says."""
    recommendation = find_recommendation(rec, review)
    rows = [event_row(e) for e in recommendation.history]
    if as_json:
        emit_json(rows)
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
    console().print(table)
