"""`rio audit`: take digests, verify the log against them, export it for an independent check;
sign checkpoints of the Merkle tree, prove consistency and inclusion, witness another log.

Verification failure is exit status 1 with one line saying what failed where; a digest or
export file RIO cannot read is a refusal like any other (exit 2).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from rio.aggregates.recommendation import recommendation_id
from rio.audit.checkpoints import (
    checkpoint,
    consistency_proof,
    inclusion_proof,
    published_keys,
    read_signer,
    read_verifiers,
)
from rio.audit.notes import COSIGNATURE, NOTE, Checkpoint, NoteError, Signer, Verifier
from rio.audit.stamp import stamp
from rio.audit.verification import (
    Digest,
    DigestError,
    chain_existing,
    digest,
    export,
    verify,
)
from rio.audit.witness import HTTPLog, witness
from rio.cli.common import JsonOption, emit_json, runtime

audit_app = typer.Typer(
    no_args_is_help=True,
    help="Tamper evidence: digests, verification, export, chaining an older store; signed "
    "checkpoints, proofs and witnesses.",
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
    taken = stamp(store, runtime().settings.audit_signing_key_file).to_json()
    if output is None:
        export(store, sys.stdout, taken)
        return
    with output.open("w", encoding="utf-8") as out:
        exported = export(store, out, taken)
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
    """Chain the events recorded before tamper evidence and build the Merkle tree over the
    chain: run once on an older store."""
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


# --- Merkle checkpoints, proofs and witnesses ----------------------------------------------


def _log_signer() -> Signer:
    return read_signer(runtime().settings.audit_signing_key_file)


def _log_keys(signer: Signer) -> list[Verifier]:
    settings = runtime().settings
    earlier = read_verifiers(settings.audit_public_keys_file, "RIO_AUDIT_PUBLIC_KEYS_FILE")
    return published_keys(signer, earlier)


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NoteError(f"cannot read checkpoint {path}: {error}") from None
    return Checkpoint.parse(text, str(path))


def _write(output: Path | None, text: str) -> None:
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@audit_app.command("keygen")
def keygen_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Write the signing key here.")],
    name: Annotated[
        str, typer.Option("--name", help="The key's name: the log's origin line, or a witness's.")
    ] = "rio.local/log",
    witness_key: Annotated[
        bool, typer.Option("--witness", help="A witness's cosigning key (tlog-cosignature).")
    ] = False,
) -> None:
    """Make an Ed25519 signing key (kept private, mode 600); print its public key."""
    if output.exists():
        raise NoteError(f"{output} exists: RIO never overwrites a key (choose another --output)")
    signer = Signer.generate(name, COSIGNATURE if witness_key else NOTE)
    with os.fdopen(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(signer.skey() + "\n")
    typer.echo(signer.verifier.vkey())


@audit_app.command("public-key")
def public_key_command() -> None:
    """Print the log's public keys, current first, then earlier ones (one vkey a line)."""
    for key in _log_keys(_log_signer()):
        typer.echo(key.vkey())


@audit_app.command("checkpoint")
def checkpoint_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write it to FILE.")
    ] = None,
) -> None:
    """Print the signed checkpoint of the log now (C2SP tlog-checkpoint), with cosignatures."""
    text = checkpoint(runtime().store, _log_signer()).text()
    if output is not None:
        output.write_text(text, encoding="utf-8")
    typer.echo(text, nl=False)


prove_app = typer.Typer(no_args_is_help=True, help="Write a proof as JSON, for verify_rio_log.py.")
audit_app.add_typer(prove_app, name="prove")


@prove_app.command("consistency")
def prove_consistency_command(
    old: Annotated[Path, typer.Option("--from", help="The earlier checkpoint.")],
    new: Annotated[
        Path | None, typer.Option("--to", help="The later checkpoint (default: the log now).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
) -> None:
    """Prove the log grew from OLD into NEW (or into the log now) without a rewrite."""
    signer = _log_signer()
    keys = _log_keys(signer)
    earlier = _read_checkpoint(old)
    earlier.verify(keys, str(old))
    later = _read_checkpoint(new) if new is not None else None
    if later is not None:
        later.verify(keys, str(new))
    proof = consistency_proof(
        runtime().store, signer.name, earlier.size, later.size if later else None
    )
    _write(output, json.dumps(proof, indent=2) + "\n")


@prove_app.command("inclusion")
def prove_inclusion_command(
    event: Annotated[str, typer.Option("--event", help="REVIEW:NUMBER:VERSION of the event.")],
    at: Annotated[
        Path | None, typer.Option("--checkpoint", help="Prove it in this checkpoint's tree.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE.")] = None,
) -> None:
    """Prove one event is in the log's tree (now, or at a checkpoint)."""
    review, number, version = _event(event)
    signer = _log_signer()
    size = None
    if at is not None:
        taken = _read_checkpoint(at)
        taken.verify(_log_keys(signer), str(at))
        size = taken.size
    proof = inclusion_proof(
        runtime().store, signer.name, recommendation_id(review, number), version, size
    )
    _write(output, json.dumps(proof, indent=2) + "\n")


def _event(text: str) -> tuple[str, int, int]:
    review, _, rest = text.partition(":")
    number, _, version = rest.partition(":")
    if not (review and number.isdigit() and version.isdigit()):
        raise NoteError(f"--event {text!r} is not REVIEW:NUMBER:VERSION (e.g. messenger-2022:1:3)")
    return review, int(number), int(version)


@audit_app.command("witness")
def witness_command(
    log_url: Annotated[str, typer.Option("--log", help="The log's API base URL.")],
    key: Annotated[
        Path, typer.Option("--key", help="The witness's key (rio audit keygen --witness).")
    ],
    log_key: Annotated[
        list[str], typer.Option("--log-key", help="The log's public key (vkey; repeatable).")
    ],
    state: Annotated[
        Path, typer.Option("--state", help="Where the witness keeps its last cosigned checkpoint.")
    ] = Path("rio-witness-state.json"),
    api_key: Annotated[
        str | None, typer.Option("--api-key", envvar="RIO_AUDIT_API_KEY", help="An auditor key.")
    ] = None,
) -> None:
    """Cosign the log's checkpoint after proving it extends the last one cosigned."""
    signer = read_signer(key, "--key")
    if signer.kind != COSIGNATURE:
        raise NoteError(f"{key} is a log key, not a witness key: make one with --witness")
    keys = [Verifier.parse(text, "--log-key") for text in log_key]
    result = witness(HTTPLog(log_url, api_key), signer, keys, state, int(time.time()))
    if result.cosigned:
        typer.echo(f"cosigned the checkpoint of size {result.size}")
    else:
        typer.echo(f"the checkpoint of size {result.size} was already cosigned: nothing new")
