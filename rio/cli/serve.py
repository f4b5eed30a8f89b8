"""`rio serve` and `rio keys`: run the HTTP API, and grant, list and revoke its keys.

rio.cli.main imports this module to register these commands, so its helpers are imported when
a command runs rather than at import time (a cycle otherwise).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rio.application.keys import KeyInfo, Keys

keys_app = typer.Typer(
    no_args_is_help=True,
    help="API keys: each is shown once, stored only as a hash; granting and revoking are recorded.",
)


def _keys() -> Keys:
    from rio.cli.main import _rio

    return Keys(_rio())


def _principal() -> str:
    from rio.cli.main import _principal as principal

    return principal()


def _emit_json(data: Any) -> None:
    from rio.cli.main import _emit_json as emit

    emit(data)


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
    import uvicorn

    from rio.api.app import create_app
    from rio.logging import configure
    from rio.settings import get_settings

    settings = get_settings()
    configure(level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings)
    # Our own one-line-per-request log replaces uvicorn's access log; log_config=None lets
    # uvicorn's other messages go through RIO's renderer.
    from rio.alerts.scheduler import start_scheduler

    alerts = start_scheduler(settings) if scheduler else None
    try:
        uvicorn.run(
            app,
            host=host or settings.api_host,
            port=port or settings.api_port,
            log_config=None,
            access_log=False,
            server_header=False,
        )
    finally:
        if alerts is not None:
            alerts.shutdown()  # also releases the scheduler lock


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Whose key: a person or a system.")],
    role: Annotated[str, typer.Option("--role", help="secretariat, auditor, owner or admin.")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner keys: the owner whose items it reads.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Grant a key and print it. It is shown this once: RIO keeps only its hash."""
    key, info = _keys().create(name=name, role=role, owner=owner, granted_by=_principal())
    if as_json:
        _emit_json({**_row(info), "key": key})
        return
    typer.echo(key)
    typer.echo(
        f"key {info.key_id} granted to {info.name} as {info.role}"
        + (f" for {info.owner}" if info.owner else "")
        + ": store it now, it cannot be shown again",
        err=True,
    )


@keys_app.command("list")
def list_keys(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every key ever granted, with who granted (and revoked) it and when."""
    keys = _keys().list()
    if as_json:
        _emit_json([_row(k) for k in keys])
        return
    from rich.table import Table

    from rio.cli.main import _console

    table = Table(title="API keys")
    for column in ("Id", "Name", "Role", "Owner", "Granted", "By", "Revoked"):
        table.add_column(column)
    for k in keys:
        revoked = f"{k.revoked_at:%Y-%m-%d %H:%M} by {k.revoked_by}" if k.revoked_at else ""
        table.add_row(
            k.key_id,
            k.name,
            k.role,
            k.owner or "",
            f"{k.granted_at:%Y-%m-%d %H:%M}",
            k.granted_by,
            revoked,
        )
    _console().print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id, from rio keys list.")],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
) -> None:
    """Revoke a key: every request with it is refused from now on."""
    info = _keys().revoke(key_id, revoked_by=_principal(), reason=reason)
    typer.echo(f"key {info.key_id} ({info.name}, {info.role}) revoked")


def _row(info: KeyInfo) -> dict[str, Any]:
    row = info.as_dict()
    del row["version"]
    return row
