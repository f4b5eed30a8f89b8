"""`rio projections`: the read models' position in the log, catching up, rebuilding."""

from __future__ import annotations

import time
from typing import Annotated

import structlog
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rio.cli.common import JsonOption, emit_json, runtime

projections_app = typer.Typer(no_args_is_help=True, help="Read models: position, lag, rebuild.")

log = structlog.get_logger("rio.cli")


@projections_app.command("status")
def projections_status(as_json: JsonOption = False) -> None:
    """Each read model's position in the event log and how far behind it is."""
    status = runtime().read_model.status()
    if as_json:
        emit_json({**vars(status), "lag": status.lag})
        return
    state = "current" if status.definition_current else "definition changed: will rebuild"
    typer.echo(
        f"{status.name}: position {status.position} of {status.head}, "
        f"lag {status.lag} events ({state})"
    )


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Drop the read models and rebuild them from the whole event log."""
    root = runtime()
    head = root.store.position()
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
        count = root.read_model.rebuild(progress=lambda n: bar.advance(task, n))
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
    model = runtime().read_model
    if follow:
        # The store's one follower (a store lock): beside `rio serve`'s own, one waits.
        typer.echo(
            "following the event log (or waiting while another follower does); Ctrl-C to stop",
            err=True,
        )
        try:
            runtime().serve_follower(stop=lambda: False, interval=interval)
        except KeyboardInterrupt:
            return
    applied = model.catch_up()
    typer.echo(f"applied {applied} events; position {model.status().position}")
