"""`rio keys`: grant, list and revoke API keys; each key is shown once, stored only as a hash."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from rio.application.keys import KeyInfo
from rio.cli.common import JsonOption, console, emit_json, principal, runtime

keys_app = typer.Typer(
    no_args_is_help=True,
    help="API keys: each is shown once, stored only as a hash; granting and revoking are recorded.",
)


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Whose key: a person or a system.")],
    role: Annotated[str, typer.Option("--role", help="secretariat, auditor, owner or admin.")],
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner keys: the owner whose items it reads.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Grant a key and print it. It is shown this once: RIO keeps only its hash."""
    key, info = runtime().keys.create(name=name, role=role, owner=owner, granted_by=principal())
    if as_json:
        emit_json({**_row(info), "key": key})
        return
    typer.echo(key)
    typer.echo(
        f"key {info.key_id} granted to {info.name} as {info.role}"
        + (f" for {info.owner}" if info.owner else "")
        + ": store it now, it cannot be shown again",
        err=True,
    )


@keys_app.command("list")
def list_keys(as_json: JsonOption = False) -> None:
    """Every key ever granted, with who granted (and revoked) it and when."""
    keys = runtime().keys.list()
    if as_json:
        emit_json([_row(k) for k in keys])
        return
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
    console().print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id, from rio keys list.")],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
) -> None:
    """Revoke a key: every request with it is refused from now on."""
    info = runtime().keys.revoke(key_id, revoked_by=principal(), reason=reason)
    typer.echo(f"key {info.key_id} ({info.name}, {info.role}) revoked")


def _row(info: KeyInfo) -> dict[str, Any]:
    row = info.as_dict()
    del row["version"]
    return row
