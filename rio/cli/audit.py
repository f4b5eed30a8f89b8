"""`rio audit`: take digests, verify the log against them, export it for an independent check.

Verification failure is exit status 1 with one line saying what failed where; a digest or
export file RIO cannot read is a refusal like any other (exit 2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rio.application.service import RIO
from rio.audit.verification import (
    Digest,
    DigestError,
    chain_existing,
    digest,
    export,
    verify,
)

audit_app = typer.Typer(
    no_args_is_help=True,
    help="Tamper evidence: digests, verification, export, chaining an older store.",
)


# rio.cli.main imports this module to register audit_app, so its helpers are imported when a
# command runs rather than at import time (a cycle otherwise).
def _rio() -> RIO:
    from rio.cli.main import _rio as open_store

    return open_store()


def _emit_json(data: Any) -> None:
    from rio.cli.main import _emit_json as emit

    emit(data)


@audit_app.command("digest")
def digest_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the digest to FILE.")
    ] = None,
) -> None:
    """Print the chain's head as a small JSON digest: keep it somewhere RIO cannot reach."""
    rio = _rio()
    try:
        taken = digest(rio)
    finally:
        rio.close()
    if output is not None:
        output.write_text(json.dumps(taken.to_json(), indent=2) + "\n", encoding="utf-8")
    _emit_json(taken.to_json())


@audit_app.command("verify")
def verify_command(
    digests: Annotated[
        list[Path] | None,
        typer.Option("--digest", help="A digest taken earlier (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recompute the whole chain; prove the log still extends each digest given."""
    taken = [_read_digest(path) for path in digests or []]
    rio = _rio()
    try:
        result = verify(rio, taken)
    finally:
        rio.close()
    if as_json:
        _emit_json(result.to_json())
    else:
        typer.echo(result.line())
    if not result.ok:
        sys.exit(1)


@audit_app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (default stdout).")
    ] = None,
) -> None:
    """Write the log and its chain as JSON lines, for tools/verify_rio_log.py."""
    rio = _rio()
    try:
        if output is None:
            export(rio, sys.stdout)
            return
        with output.open("w", encoding="utf-8") as out:
            exported = export(rio, out)
    finally:
        rio.close()
    typer.echo(
        f"{output}: {exported.events} events, chain head at notification "
        f"{exported.digest.position} ({exported.digest.head_hash})"
    )


@audit_app.command("chain")
def chain_command(
    extend: Annotated[
        bool,
        typer.Option(
            "--extend", help="Also chain unchained events after an existing chain (check first)."
        ),
    ] = False,
) -> None:
    """Chain the events recorded before tamper evidence: run once on an older store."""
    rio = _rio()
    try:
        result = chain_existing(rio, extend=extend)
    finally:
        rio.close()
    typer.echo(
        f"chained {result.chained} events; chain head at notification {result.position} "
        f"({result.head_hash})"
    )


def _read_digest(path: Path) -> Digest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DigestError(f"cannot read digest {path}: {error}") from None
    return Digest.from_json(data, str(path))
