"""`rio audit`: take digests, verify the log against them, export it for an independent check.

Verification failure is exit status 1 with one line saying what failed where; a digest or
export file RIO cannot read is a refusal like any other (exit 2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rio.audit.verification import (
    Digest,
    DigestError,
    chain_existing,
    digest,
    export,
    verify,
)
from rio.cli.common import JsonOption, emit_json, runtime

audit_app = typer.Typer(
    no_args_is_help=True,
    help="Tamper evidence: digests, verification, export, chaining an older store.",
)


@audit_app.command("digest")
def digest_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the digest to FILE.")
    ] = None,
) -> None:
    """Print the chain's head as a small JSON digest: keep it somewhere RIO cannot reach."""
    taken = digest(runtime().store)
    if output is not None:
        output.write_text(json.dumps(taken.to_json(), indent=2) + "\n", encoding="utf-8")
    emit_json(taken.to_json())


@audit_app.command("verify")
def verify_command(
    digests: Annotated[
        list[Path] | None,
        typer.Option("--digest", help="A digest taken earlier (repeatable)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the whole chain; prove the log still extends each digest given."""
    taken = [_read_digest(path) for path in digests or []]
    result = verify(runtime().store, taken)
    if as_json:
        emit_json(result.to_json())
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
    store = runtime().store
    if output is None:
        export(store, sys.stdout)
        return
    with output.open("w", encoding="utf-8") as out:
        exported = export(store, out)
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
    result = chain_existing(runtime().store, extend=extend)
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
