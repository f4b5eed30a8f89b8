"""`rio alerts run|list` and `rio scheduler`.

A run that could not send a digest exits with status 1 (the alerts stay pending and are
retried); bad input is a refusal like any other (exit 2).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from rio.aggregates.alert import Alert, AlertStatus
from rio.alerts.digest import Digest
from rio.alerts.scheduler import cron_trigger
from rio.alerts.service import RunReport
from rio.cli.common import CLIError, JsonOption, console, emit_json, parse_date, principal, runtime
from rio.domain import clock

alerts_app = typer.Typer(
    no_args_is_help=True, help="Alerts to owners: run the policy and send, or list what was sent."
)


@alerts_app.command("run")
def run_command(
    as_at: Annotated[
        str | None,
        typer.Option("--as-at", help="Judge the programme as at this date (default today)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print every digest a run would send, or hold for want of an address; "
            "record and send nothing.",
        ),
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="With --dry-run: also write each digest's HTML (FILE, or FILE-owner.html "
            "when there are several) to look at in a browser.",
        ),
    ] = None,
    retry_now: Annotated[
        bool,
        typer.Option("--retry-now", help="Retry failed sends without waiting out the back-off."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Find the alerts due, record them, and send each owner one digest."""
    day = parse_date("--as-at", as_at, clock.today())
    if html is not None and not dry_run:
        raise CLIError("--html writes a dry run's digests: add --dry-run")
    service = runtime().alerts(principal())
    report = service.run(day, trigger="cli", dry_run=dry_run, retry_now=retry_now)
    if as_json:
        emit_json(_report_json(report))
    elif dry_run:
        _print_previews(report)
    else:
        _print_report(report)
    if html is not None:
        for path in write_html(report, html):
            typer.echo(f"wrote {path}", err=True)
    if report.failed:
        sys.exit(1)


def write_html(report: RunReport, path: Path) -> list[Path]:
    """Each previewed digest's HTML: `path` for one, `path`'s stem plus the owner for more."""
    digests = [*report.previews, *report.held_previews]
    if not digests:
        raise CLIError(f"--html {path}: no digest would be sent, so there is nothing to write")
    targets = (
        [path]
        if len(digests) == 1
        else [
            path.with_name(f"{path.stem}-{_slug(d.owner)}{path.suffix or '.html'}") for d in digests
        ]
    )
    for digest, target in zip(digests, targets, strict=True):
        try:
            target.write_text(digest.html, encoding="utf-8")
        except OSError as error:
            raise CLIError(f"--html {target}: cannot write it ({error.strerror})") from None
    return targets


def _slug(owner: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in owner.lower()).split())


@alerts_app.command("list")
def list_command(
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's alerts.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, sending, sent or withdrawn.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every alert raised: to whom, about what, and whether it was sent."""
    if status is not None and status not in {s.value for s in AlertStatus}:
        raise CLIError(
            f"--status {status!r} is not one of: {', '.join(s.value for s in AlertStatus)}"
        )
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
        note = (
            row["message_id"]
            if row["status"] == "sent"
            else row["withdrawn_reason"] or row["last_error"] or ""
        )
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


def scheduler_command(
    poll: Annotated[
        float,
        typer.Option("--poll", help="Seconds between checks of the lock (standby and holding)."),
    ] = 30.0,
) -> None:
    """Run the alert scheduler in the foreground until interrupted (Ctrl-C)."""
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    root = runtime()
    settings = root.settings
    cron_trigger(settings.alert_cron, settings.alert_timezone)  # a bad schedule: refused now
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
    for gone in report.withdrawn:
        echo(
            f"  withdrawn, not sent: {gone.alert.owner}, recommendation {gone.alert.number}, "
            f"{gone.alert.commitment} ({gone.alert.kind}): {gone.reason}"
        )
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
    found = len(report.previews) + len(report.held_previews) + len(report.unaddressed)
    if not found and not report.withdrawn:
        echo("Nothing would be sent.")
    for digest in report.previews:
        _print_digest(f"To: {', '.join(digest.recipients)}", digest)
    for digest in report.held_previews:
        count = len(digest.alert_ids)
        _print_digest(
            f"To: (no address for {digest.owner}: these {count} alerts would wait; "
            "add the owner to RIO_OWNERS_FILE or RIO_OWNER_EMAILS)",
            digest,
        )
    if report.previews or report.held_previews:
        echo("=" * 78)
    for owner, count in report.held.items():
        echo(f"held: {owner} has no address ({count} alerts would wait): add it to RIO_OWNERS_FILE")
    for gone in report.withdrawn:
        echo(
            f"would withdraw, not send: {gone.alert.owner}, recommendation {gone.alert.number}, "
            f"{gone.alert.commitment} ({gone.alert.kind}): {gone.reason}"
        )
    for item in report.unaddressed:
        echo(
            f"not alerted: recommendation {item.number}, {item.commitment} ({item.kind.value}): "
            f"{item.reason}"
        )


def _print_digest(to: str, digest: Digest) -> None:
    echo = typer.echo
    echo("=" * 78)
    echo(to)
    echo(f"Subject: {digest.subject}")
    echo(f"Message-ID: {digest.message_id}")
    echo("")
    echo(digest.text.rstrip())


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
        "held_previews": [
            {
                "owner": p.owner,
                "alerts": [str(i) for i in p.alert_ids],
                "subject": p.subject,
                "text": p.text,
            }
            for p in report.held_previews
        ],
        "withdrawn": [
            {"alert": str(w.alert.id), "owner": w.alert.owner, "reason": w.reason}
            for w in report.withdrawn
        ],
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
        "withdrawn_at": alert.withdrawn_at,
        "withdrawn_reason": alert.withdrawn_reason,
    }
