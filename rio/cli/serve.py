"""`rio serve`: the HTTP API in N worker processes, the store's one read-model follower in a
process of its own, and (unless told not to) the alert scheduler, on the store."""

from __future__ import annotations

import multiprocessing
import os
from typing import Annotated

import typer

from rio.cli.common import runtime


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (RIO_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (RIO_API_PORT).")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="API worker processes (one a core is a good start). One read-model follower "
            "runs beside them whatever the number.",
        ),
    ] = 1,
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

    from rio.api.services import Services
    from rio.runtime import Runtime, follower_process

    root = runtime()
    root.configure_logging("service")
    # Make every table the workers use once, here, before they start: N processes making
    # them at once would race (PostgreSQL refuses a second CREATE of the same type).
    Services(Runtime(root.settings, root.policy, followed_elsewhere=True)).close()
    # Spawned, not forked: a fork would copy this process's open connections.
    follower = multiprocessing.get_context("spawn").Process(
        target=follower_process, args=(os.getpid(),), name="rio-read-model-follower"
    )
    follower.start()
    alerts = root.start_scheduler() if scheduler else None
    try:
        # Our own one-line-per-request log replaces uvicorn's access log; log_config=None
        # lets uvicorn's other messages go through RIO's renderer.
        uvicorn.run(
            "rio.api.app:worker_app",
            factory=True,
            workers=workers,
            host=host or root.settings.api_host,
            port=port or root.settings.api_port,
            log_config=None,
            access_log=False,
            server_header=False,
            # uvicorn restarts a worker that does not answer its ping within this; its 5 s
            # default killed workers still importing on a loaded machine, again and again.
            timeout_worker_healthcheck=60,
        )
    finally:
        if alerts is not None:
            alerts.shutdown()  # also releases the scheduler lock
        follower.terminate()
        follower.join(timeout=30)
