"""`rio serve`: the HTTP API (and, unless told not to, the alert scheduler) on the store."""

from __future__ import annotations

from typing import Annotated

import typer

from rio.cli.common import runtime


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (RIO_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (RIO_API_PORT).")] = None,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Also run the daily alert scheduler, if no other process holds it.",
        ),
    ] = True,
) -> None:
    """Run the HTTP API on the configured store (RIO_DATABASE_URL)."""
    # Imported here, not at the top: only this command needs the web stack, and loading it
    # would add a second to every other command's start-up.
    import uvicorn

    from rio.api.app import create_app

    root = runtime()
    root.configure_logging("service")
    app = create_app(root)
    alerts = root.start_scheduler() if scheduler else None
    try:
        # Our own one-line-per-request log replaces uvicorn's access log; log_config=None
        # lets uvicorn's other messages go through RIO's renderer.
        uvicorn.run(
            app,
            host=host or root.settings.api_host,
            port=port or root.settings.api_port,
            log_config=None,
            access_log=False,
            server_header=False,
        )
    finally:
        if alerts is not None:
            alerts.shutdown()  # also releases the scheduler lock
