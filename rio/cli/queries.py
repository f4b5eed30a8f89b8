"""`rio status`, `rio report`, `rio timeline`, `rio history`: questions about the programme.

Each answer is rated by the runtime's one RAG policy, the policy the board, the API and the
alerts use, so a terminal and a web page never disagree about a rating.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from rio.audit.stamp import Stamp, stamp
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
    warn_undated,
)
from rio.domain import clock
from rio.domain.errors import DatesOutOfOrder
from rio.reports.answers import (
    RecommendationStatus,
    promised_vs_delivered,
    status,
    timelines,
    to_json,
)
from rio.reports.history import event_row

report_app = typer.Typer(no_args_is_help=True, help="Reports.")

AsAtOption = Annotated[
    str | None,
    typer.Option(
        "--as-at",
        metavar="YYYY-MM-DD",
        help="Judge the programme as it stood on this date (default today).",
    ),
]
KnownAtOption = Annotated[
    str | None,
    typer.Option(
        "--known-at",
        metavar="WHEN",
        help="Answer from only what RIO had recorded by then (YYYY-MM-DD, or a timestamp "
        "such as 2024-06-01T09:00Z); default everything recorded so far.",
    ),
]
PublicAtOption = Annotated[
    str | None,
    typer.Option(
        "--public-at", help="Only facts whose source was published by this date (YYYY-MM-DD)."
    ),
]
RecArgument = Annotated[str, typer.Argument(help="Recommendation number, or REVIEW:NUMBER.")]
ReviewOption = Annotated[
    str | None,
    typer.Option(
        "--review",
        help="The review (its key; `rio reviews` lists them): only its rows, and the one a "
        "recommendation number belongs to when the store holds more than one.",
    ),
]


def status_command(
    as_at: AsAtOption = None,
    known_at: KnownAtOption = None,
    review: ReviewOption = None,
    as_json: JsonOption = False,
    use_replay: ReplayOption = False,
    public_at: PublicAtOption = None,
) -> None:
    """Every recommendation's RAG rating, with the reason for it."""
    day = parse_date("--as-at", as_at, clock.today())
    moment = parse_known_at(known_at)
    public = parse_date("--public-at", public_at) if public_at else None
    root = runtime()
    reader = root.reader(use_replay, public)
    rows = status(only_review(reader.programme(day, moment), review), root.policy)
    left_out = warn_undated(reader, day, moment)
    several = len({r.state.review for r in rows}) > 1  # then each row says its review
    checkpoint = report_stamp()
    if as_json:
        emit_json(
            {
                "as_at": day,
                "known_at": moment,
                **({"public_at": public, "undated_left_out": left_out} if public else {}),
                "checkpoint": checkpoint.to_json(),
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
    out = console()
    title = (
        f"Status as at {day}"
        + (f", as known at {known_at}" if known_at else "")
        + (f", as the public record stood on {public}" if public else "")
    )
    out.print(status_table(rows, title, several))
    out.print(checkpoint.line())


def report_stamp() -> Stamp:
    """The checkpoint an answer rests on, as the exports carry it (`rio.audit.stamp`):
    size and root always, the signed checkpoint where a signing key is configured."""
    root = runtime()
    return stamp(root.store, root.settings.audit_signing_key_file)


def status_table(rows: Sequence[RecommendationStatus], title: str, several: bool = False) -> Table:
    """One line of facts per recommendation; the full reasons are in `--json` and on the
    board. "Assessed" appears only when some recommendation has an assessment; "Review"
    only when the rows come from several reviews."""
    assessed = any(r.state.assessments for r in rows)
    table = Table(title=title)
    if several:
        table.add_column("Review")
    table.add_column("Rec", justify="right")
    table.add_column("Title", ratio=3)
    table.add_column("RAG", no_wrap=True)
    table.add_column("Why", ratio=3)
    table.add_column("Owner", ratio=1)
    if assessed:
        table.add_column("Assessed", ratio=1)
    for r in rows:
        cells: list[str | Text] = [
            *(r.state.review,) * several,
            str(r.state.number),
            r.state.title,
            Text(r.rating.rating, style=RAG_STYLES.get(r.rating.rating, "")),
            short_why(r),
            owner_of(r),
        ]
        if assessed:
            cells.append("; ".join(f"{a.rating} ({a.occurred})" for a in r.state.assessments))
        table.add_row(*cells)
    return table


# Colour only repeats the word beside it (rich drops it off a terminal, or with NO_COLOR).
RAG_STYLES = {"Red": "bold red", "Amber": "bold yellow", "Green": "bold green"}


def short_why(row: RecommendationStatus) -> str:
    """The rule that decided the rating and the commitment it was decided on, in a line."""
    # The board's words for the rules, so a terminal and a page say the same (imported here:
    # the web layer loads FastAPI, which no other query command needs).
    from rio.web.pages import RULES

    rule = row.rating.rule
    label = RULES.get(rule, rule.replace("_", " "))
    name = row.rating.facts.get("commitment")
    commitment = next((c for c in row.state.commitments if c.commitment == name), None)
    if commitment is None:
        return label
    detail = ""
    if rule in {"overdue", "on_track"} and commitment.due is not None:
        detail = f" (due {commitment.due.text})"
    elif rule == "slipped" and commitment.baseline and commitment.due:
        detail = f" ({commitment.baseline.text} → {commitment.due.text})"
    elif rule == "stale":
        detail = f" (last update {commitment.last_update or commitment.made_on})"
    return f"{label}: {_shorten(commitment.deliverable)}{detail}"


def owner_of(row: RecommendationStatus) -> str:
    """The accountable owner, else the owners of its commitments."""
    if row.state.accountable_owner:
        return row.state.accountable_owner
    owners = dict.fromkeys(c.owner for c in row.state.commitments if c.owner)
    return ", ".join(owners) or "none recorded"


def _shorten(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


@report_app.command("promised-vs-delivered")
def promised_vs_delivered_command(
    promised_as_at: Annotated[
        str, typer.Option("--promised-as-at", help="Take promises as they stood on this date.")
    ],
    delivered_as_at: Annotated[
        str | None,
        typer.Option("--delivered-as-at", help="Judge outcomes as at this date (default today)."),
    ] = None,
    known_at: KnownAtOption = None,
    review: ReviewOption = None,
    as_json: JsonOption = False,
    use_replay: ReplayOption = False,
    public_at: PublicAtOption = None,
) -> None:
    """What was promised on one date against what had happened by another."""
    promised = parse_date("--promised-as-at", promised_as_at)
    delivered = parse_date("--delivered-as-at", delivered_as_at, clock.today())
    if delivered_as_at is None and delivered < promised:
        raise CLIError(
            f"--promised-as-at {promised} is after today ({delivered}), when outcomes are "
            "judged unless --delivered-as-at says otherwise: give an earlier "
            "--promised-as-at, or a --delivered-as-at on or after it"
        )
    public = parse_date("--public-at", public_at) if public_at else None
    reader = runtime().reader(use_replay, public)
    moment = parse_known_at(known_at)
    warn_undated(reader, delivered, moment)
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
    checkpoint = report_stamp()
    if as_json:
        emit_json({**to_json(report), "checkpoint": checkpoint.to_json()})
        return
    table = Table(
        title=f"Promised as at {promised} against delivered as at {delivered}"
        + (f", as the public record stood on {public}" if public else "")
    )
    several = len({row.review for row in report.rows}) > 1  # then each row says its review
    for column in ("Review",) * several + ("Rec", "Commitment", "Promised", "Outcome", "Detail"):
        table.add_column(column)
    for row in report.rows:
        promised_text = (
            f"{row.promised.text} (by {row.promised.latest})" if row.promised else "no date"
        )
        table.add_row(
            *(row.review,) * several,
            row.recommendations,
            row.deliverable,
            promised_text,
            row.outcome.value,
            row.detail,
        )
    out = console()
    out.print(table)
    out.print(report.summary)
    out.print(checkpoint.line())


def timeline_command(
    rec: RecArgument,
    review: ReviewOption = None,
    as_at: AsAtOption = None,
    known_at: KnownAtOption = None,
    as_json: JsonOption = False,
    use_replay: ReplayOption = False,
    public_at: PublicAtOption = None,
) -> None:
    """How each promised date of a recommendation drifted, revision by revision."""
    day = parse_date("--as-at", as_at, clock.today())
    moment = parse_known_at(known_at)
    public = parse_date("--public-at", public_at) if public_at else None
    recommendation = find_recommendation(rec, review)
    reader = runtime().reader(use_replay, public)
    warn_undated(reader, day, moment)
    programme = reader.programme(day, moment)
    try:
        state = programme.recommendation(recommendation.review, recommendation.number)
    except KeyError:
        record = f", as the public record stood on {public}" if public else ""
        raise CLIError(
            f"recommendation {recommendation.number} ({recommendation.review}) was not yet "
            f"registered as at {day}{record}"
        ) from None
    lines = timelines(state)
    if as_json:
        emit_json(lines)
        return
    out = console()
    if public is not None:
        out.print(f"As the public record stood on {public}", style="bold")
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
    known_at: KnownAtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every recorded event of a recommendation: both times, who recorded it, what it says."""
    moment = parse_known_at(known_at)
    recommendation = find_recommendation(rec, review)
    events = [e for e in recommendation.history if moment is None or e.timestamp <= moment]
    rows = [event_row(e) for e in events]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo(
            f"Nothing about recommendation {recommendation.number} ({recommendation.review}) "
            f"had been recorded by {known_at}."
        )
        return
    title = f"History of recommendation {recommendation.number} ({recommendation.review})"
    title += f", as known at {known_at}" if known_at else ""
    out = console()
    if out.width < NARROW:
        out.print(title, style="bold")
        for event, row in zip(events, rows, strict=True):
            out.print(
                f"\n{row['version']}. {row['type']}: occurred {row['occurred']}, recorded "
                f"{recorded_at(event.timestamp)} by {row['recorded_by']}"
            )
            out.print(Padding(says(row["data"]), (0, 0, 0, 4), expand=False))
        return
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("Occurred", no_wrap=True)
    table.add_column("Recorded", no_wrap=True)
    table.add_column("By")
    table.add_column("Event")
    table.add_column("Says", ratio=1)
    for event, row in zip(events, rows, strict=True):
        table.add_row(
            str(row["version"]),
            row["occurred"],
            recorded_at(event.timestamp),
            row["recorded_by"],
            row["type"],
            says(row["data"]),
        )
    out.print(table)


NARROW = 100  # columns: below this a history is a list, since a table would squeeze "Says"


def recorded_at(moment: datetime) -> str:
    """A recording time in London, with its zone: '2024-06-01 09:30 BST'."""
    local = moment.astimezone(clock.LONDON)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def says(data: dict[str, Any]) -> str:
    """What an event says, as `field: value` lines; empty fields left out."""
    return "\n".join(
        f"{key.replace('_', ' ')}: {_value(value)}"
        for key, value in data.items()
        if value not in (None, "", [], {})
    )


def _value(value: Any) -> str:
    if isinstance(value, dict):
        if "text" in value and "latest" in value:  # a due window
            return f"{value['text']} (by {value['latest']})"
        if "document" in value:  # a source
            return str(value["document"])
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)
