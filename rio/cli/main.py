"""The `rio` command: bulk loads, status, reports, timelines and history from a terminal.

Human output is a table; `--json` output is stable and documented in the README. Every
refusal, and every fault of configuration or environment, is one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from importlib import metadata
from typing import Annotated

import sqlalchemy.exc
import typer
from eventsourcing.persistence import PersistenceError

from rio.cli.alerts import alerts_app, scheduler_command
from rio.cli.audit import audit_app
from rio.cli.common import open_runtime
from rio.cli.correct import correct_command
from rio.cli.imports import import_app
from rio.cli.keys import keys_app
from rio.cli.projections import projections_app
from rio.cli.queries import history_command, report_app, status_command, timeline_command
from rio.cli.restatements import restatements_command
from rio.cli.reviews import portfolio_command, reviews_command
from rio.cli.scenario import scenario_app
from rio.cli.serve import serve
from rio.domain.errors import DomainError
from rio.errors import ConfigurationError
from rio.settings import get_settings

HELP = (
    "RIO, the Review Implementation Office's record: load scenarios, ask for status, "
    "reports, timelines and history, send alerts, serve the API and the board.\n\n"
    "Tables for people; --json for programs (its shapes are in the README). A refusal or a "
    "fault of configuration is one line on stderr and exit status 2. Shell completion: "
    "rio --install-completion."
)

app = typer.Typer(no_args_is_help=True, add_completion=True, help=HELP)
app.add_typer(scenario_app, name="scenario")
app.add_typer(report_app, name="report")
app.add_typer(projections_app, name="projections")
app.add_typer(audit_app, name="audit")
app.add_typer(alerts_app, name="alerts")
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.command("status")(status_command)
app.command("timeline")(timeline_command)
app.command("history")(history_command)
app.command("serve")(serve)
app.command("scheduler")(scheduler_command)
app.command("correct")(correct_command)
report_app.command("restatements")(restatements_command)
app.command("reviews")(reviews_command)
app.command("portfolio")(portfolio_command)


def _show_version(asked: bool) -> None:
    if asked:
        typer.echo(f"rio {metadata.version('rio')}")
        raise typer.Exit()


@app.callback()
def _every_command(
    context: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print RIO's version."
        ),
    ] = False,
) -> None:
    # Runs before any command: a one-shot command logs at its quiet default unless
    # RIO_LOG_LEVEL says otherwise (`serve` and `scheduler` raise it to a service's).
    open_runtime(context).configure_logging("command")


def main() -> None:
    try:
        app(standalone_mode=False)
    except (DomainError, ConfigurationError) as error:
        _fail(str(error))
    except (PersistenceError, sqlalchemy.exc.OperationalError) as error:
        # The store could not be reached or used: the environment's fault, not the input's.
        _fail(
            f"the store (RIO_DATABASE_URL) cannot be used: {_first_line(error)}: "
            f"{store_hint(get_settings().database_url)}"
        )
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("rio: interrupted", err=True)
        sys.exit(130 if sys.exc_info()[0] is KeyboardInterrupt else 1)
    except typer.TyperException as error:
        # Usage errors (a missing argument, an unknown option): click's message, exit 2.
        show = getattr(error, "show", None)
        if show is None:
            raise
        show()
        sys.exit(int(getattr(error, "exit_code", 2)))
    except Exception as error:  # a fault in RIO itself: a person still sees one line
        _crashed(error)


def store_hint(url: str) -> str:
    """What to check when the store at `url` cannot be opened (never showing a password)."""
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        return "check RIO_DATABASE_URL"
    if parsed.get_backend_name() == "sqlite":
        return (
            f"check the path {parsed.database!r}: its directory must exist and be writable "
            "(e.g. RIO_DATABASE_URL=sqlite:///./rio.db)"
        )
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return (
        f"check that PostgreSQL is running and accepts connections at {where}, and the user, "
        f"password and database ({parsed.database!r}) in RIO_DATABASE_URL"
    )


def _crashed(error: Exception) -> None:
    """Keep the traceback for whoever mends RIO, in a file of its own, and tell the person
    at the terminal in one line where it is; exit status 70 (EX_SOFTWARE) says "RIO's
    fault", as 2 says "the input's or the environment's"."""
    with tempfile.NamedTemporaryFile(
        "w", prefix="rio-fault-", suffix=".txt", delete=False, encoding="utf-8"
    ) as report:
        report.write(f"rio {metadata.version('rio')}: {' '.join(sys.argv)}\n\n")
        traceback.print_exception(error, file=report)
    typer.echo(
        f"rio: internal error ({type(error).__name__}: {_first_line(error)}); this is a fault "
        f"in RIO, not in what you asked. The details are in {report.name}: please send them "
        "to whoever runs RIO. Each write is all or nothing, so nothing is half-recorded.",
        err=True,
    )
    sys.exit(70)


def _fail(message: str) -> None:
    typer.echo(f"rio: error: {message}", err=True)
    sys.exit(2)


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
