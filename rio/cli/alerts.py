"""`rio alerts run|list` and `rio scheduler`.

A run that could not send a digest exits with status 1 (the alerts stay pending and are
retried); bad input is a refusal like any other (exit 2).
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Annotated, Any

import typer
from rich.table import Table

from rio.aggregates.alert import Alert, AlertStatus
from rio.alerts.service import RunReport
from rio.cli.common import CLIError, JsonOption, console, emit_json, parse_date, principal, runtime
from rio.domain import clock

alerts_app = typer.Typer(
    no_args_is_help=True, help="Alerts to owners: run the policy and send, or list what was sent."
)
scheduler_app = typer.Typer(
    invoke_without_command=True,
    help="Run the alert scheduler in the foreground (one process per store holds it).",
)


@alerts_app.command("run")
def run_command(
    as_at: Annotated[
        str | None,
        typer.Option("--as-at", help="Judge the programme as at this date (default today)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the digests; record and send nothing.")
    ] = False,
    retry_now: Annotated[
        bool,
        typer.Option("--retry-now", help="Retry failed sends without waiting out the back-off."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Find the alerts due, record them, and send each owner one digest."""
    day = parse_date("--as-at", as_at, clock.today())
    service = runtime().alerts(principal())
    report = service.run(day, trigger="cli", dry_run=dry_run, retry_now=retry_now)
    if as_json:
        emit_json(_report_json(report))
    elif dry_run:
        _print_previews(report)
    else:
        _print_report(report)
    if report.failed:
        sys.exit(1)


@alerts_app.command("list")
def list_command(
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's alerts.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, sending or sent.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every alert raised: to whom, about what, and whether it was sent."""
    if status is not None and status not in {s.value for s in AlertStatus}:
        raise CLIError(f"--status {status!r} is not one of: pending, sending, sent")
    service = runtime().alerts(principal())
    alerts = service.alerts(owner=owner, status=status)
    rows = [_alert_json(a, service.status_of(a)) for a in alerts]
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Alerts" + (f" to {owner}" if owner else ""))
    for column in ("As at", "Owner", "Kind", "Rec", "Commitment", "Due", "Status", "Tries", "Note"):
        table.add_column(column)
    for row in rows:
        note = row["message_id"] if row["status"] == "sent" else (row["last_error"] or "")
        due = row["due"].text if row["due"] else "no date"
        table.add_row(
            row["as_at"].isoformat(),
            row["owner"],
            row["kind"],
            str(row["recommendation"]),
            row["commitment"],
            due,
            row["status"],
            str(row["attempts"]),
            note,
        )
    console().print(table)


@scheduler_app.callback()
def scheduler_command(
    poll: Annotated[
        float,
        typer.Option("--poll", help="Seconds between checks of the lock (standby and holding)."),
    ] = 30.0,
) -> None:
    """Run the alert scheduler until interrupted; wait on standby while another process has it."""
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    root = runtime()
    root.configure_logging("service")
    typer.echo("alert scheduler: running until interrupted (Ctrl-C)", err=True)
    root.serve_scheduler(stop, poll_seconds=poll)


# --- output -------------------------------------------------------------------------------


def _print_report(report: RunReport) -> None:
    echo = typer.echo
    if report.skipped:
        echo(f"alert run as at {report.as_at}: nothing done: {report.skipped}")
        return
    previous = report.previous_as_at.isoformat() if report.previous_as_at else "none"
    echo(f"alert run as at {report.as_at} (previous run as at {previous})")
    echo(
        f"  {report.found} alerts due, {report.raised} newly recorded, "
        f"{report.found - report.raised} already recorded"
    )
    for digest in report.digests:
        to = ", ".join(digest.recipients)
        if digest.sent:
            count = len(digest.alert_ids)
            echo(f"  sent to {digest.owner} <{to}>: {count} alerts, {digest.message_id}")
        else:
            echo(
                f"  NOT SENT to {digest.owner} <{to}>: {digest.error}; "
                f"{len(digest.alert_ids)} alerts stay pending and will be retried"
            )
    for owner, count in report.held.items():
        echo(f"  held: {owner} has no address ({count} alerts pending): add it to RIO_OWNERS_FILE")
    if report.waiting:
        echo(f"  {report.waiting} alerts wait to be retried after a failed send (--retry-now)")
    if report.elsewhere:
        echo(f"  {report.elsewhere} alerts are being sent by another process")
    for item in report.unaddressed:
        echo(
            f"  not alerted: recommendation {item.number}, {item.commitment} ({item.kind.value}): "
            f"{item.reason}"
        )
    if not report.digests and not report.held:
        echo("  nothing to send")


def _print_previews(report: RunReport) -> None:
    echo = typer.echo
    echo(f"DRY RUN: alerts as at {report.as_at}; nothing recorded, nothing sent.")
    if not report.previews and not report.held:
        echo("Nothing would be sent.")
    for digest in report.previews:
        echo("=" * 78)
        echo(f"To: {', '.join(digest.recipients)}")
        echo(f"Subject: {digest.subject}")
        echo(f"Message-ID: {digest.message_id}")
        echo("")
        echo(digest.text.rstrip())
    if report.previews:
        echo("=" * 78)
    for owner, count in report.held.items():
        echo(f"held: {owner} has no address ({count} alerts would wait): add it to RIO_OWNERS_FILE")
    for item in report.unaddressed:
        echo(
            f"not alerted: recommendation {item.number}, {item.commitment} ({item.kind.value}): "
            f"{item.reason}"
        )


def _report_json(report: RunReport) -> dict[str, Any]:
    return {
        "as_at": report.as_at,
        "previous_as_at": report.previous_as_at,
        "dry_run": report.dry_run,
        "run_id": str(report.run_id) if report.run_id else None,
        "skipped": report.skipped,
        "found": report.found,
        "raised": report.raised,
        "digests": [
            {
                "owner": d.owner,
                "recipients": list(d.recipients),
                "alerts": [str(i) for i in d.alert_ids],
                "message_id": d.message_id,
                "sent": d.sent,
                "error": d.error,
            }
            for d in report.digests
        ],
        "previews": [
            {
                "owner": p.owner,
                "recipients": list(p.recipients),
                "alerts": [str(i) for i in p.alert_ids],
                "message_id": p.message_id,
                "subject": p.subject,
                "text": p.text,
            }
            for p in report.previews
        ],
        "held": report.held,
        "waiting": report.waiting,
        "unaddressed": [
            {
                "review": u.review,
                "recommendation": u.number,
                "commitment": u.commitment,
                "kind": u.kind.value,
                "reason": u.reason,
            }
            for u in report.unaddressed
        ],
    }


def _alert_json(alert: Alert, status: AlertStatus) -> dict[str, Any]:
    return {
        "id": str(alert.id),
        "kind": alert.kind,
        "owner": alert.owner,
        "role": alert.role,
        "review": alert.review,
        "recommendation": alert.number,
        "commitment": alert.commitment,
        "deliverable": alert.deliverable,
        "due": alert.due,
        "previous_due": alert.previous_due,
        "source": alert.source,
        "why": alert.why,
        "as_at": alert.as_at,
        "raised_at": alert.raised_at,
        "status": status.value,
        "attempts": alert.attempts,
        "recipient": alert.recipient,
        "message_id": alert.message_id,
        "sent_at": alert.sent_at,
        "last_error": alert.last_error,
        "retry_after": alert.retry_after,
    }
