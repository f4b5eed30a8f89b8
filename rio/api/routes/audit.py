"""Tamper evidence for auditors over HTTP: take a digest now, verify the log against earlier ones.

The same checks as `rio audit digest` and `rio audit verify`; an auditor keeps the digests
somewhere RIO cannot reach and brings them back to prove history was not rewritten.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from rio.aggregates.api_key import Role
from rio.aggregates.recommendation import recommendation_id
from rio.api.deps import ServicesDep, require
from rio.api.problems import documented
from rio.api.services import Services
from rio.audit.checkpoints import (
    add_cosignature,
    checkpoint,
    consistency_proof,
    inclusion_proof,
    published_keys,
    read_signer,
    read_verifiers,
)
from rio.audit.notes import Signer, Verifier
from rio.audit.verification import Digest, digest, verify

router = APIRouter(
    prefix="/audit",
    tags=["audit"],
    dependencies=[Depends(require(Role.AUDITOR))],
    responses=documented(401, 403, 409, 422, 429, 503),
)


class DigestOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scheme": "rio-sha256-lp/1",
                    "position": 91,
                    "head_hash": "4910b98d7baa2ba453e8905b85e08914f0b64649c027c7509fea24481dd916e1",
                    "count": 91,
                    "time": "2024-06-01T09:30:00+00:00",
                }
            ]
        }
    )
    scheme: str
    position: int = Field(description="Notification id of the newest chained event.")
    head_hash: str
    count: int
    time: str


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digests: list[dict[str, Any]] = Field(
        default=[],
        max_length=100,
        description="Digests taken earlier (as GET /audit/digest returned them).",
    )


class FailureOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "changed",
                    "notification_id": 42,
                    "detail": "the stored event no longer gives the hash the chain recorded for it",
                }
            ]
        }
    )
    kind: str
    notification_id: int
    detail: str


class VerificationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": True,
                    "position": 91,
                    "events": 91,
                    "chained": 91,
                    "head_hash": "4910b98d7baa2ba453e8905b85e08914f0b64649c027c7509fea24481dd916e1",
                    "digests": 1,
                    "failure": None,
                }
            ]
        }
    )
    ok: bool
    position: int
    events: int
    chained: int
    head_hash: str
    digests: int
    failure: FailureOut | None


@router.get("/digest", response_model=DigestOut, summary="The chain's head now: keep it")
def take_digest(services: ServicesDep) -> dict[str, Any]:
    return digest(services.rio).to_json()


@router.post(
    "/verification",
    response_model=VerificationOut,
    summary="Recompute the whole chain; prove the log still extends each digest given",
)
def verify_log(body: VerifyIn, services: ServicesDep) -> dict[str, Any]:
    taken = [
        Digest.from_json(data, source=f"body.digests[{i}]") for i, data in enumerate(body.digests)
    ]
    return verify(services.rio, taken).to_json()


# --- Merkle checkpoints, proofs and witnesses ----------------------------------------------


def _signer(services: Services) -> Signer:
    return read_signer(services.settings.audit_signing_key_file)


def _keys(services: Services, signer: Signer) -> list[Verifier]:
    earlier = read_verifiers(services.settings.audit_public_keys_file, "RIO_AUDIT_PUBLIC_KEYS_FILE")
    return published_keys(signer, earlier)


@router.get(
    "/public-key",
    response_class=PlainTextResponse,
    summary="The log's public keys (vkeys), current first, then earlier ones",
)
def public_key(services: ServicesDep) -> str:
    return "".join(f"{key.vkey()}\n" for key in _keys(services, _signer(services)))


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="The signed checkpoint (C2SP tlog-checkpoint), with witnesses' cosignatures",
)
def get_checkpoint(
    services: ServicesDep,
    size: Annotated[int | None, Query(ge=0, description="An earlier tree size.")] = None,
) -> str:
    return checkpoint(services.rio, _signer(services), size).text()


@router.get("/proof/consistency", summary="A consistency proof from size `old` to `new`")
def get_consistency(
    services: ServicesDep,
    old: Annotated[int, Query(ge=0)],
    new: Annotated[int | None, Query(ge=0, description="Default: the tree now.")] = None,
) -> dict[str, Any]:
    return consistency_proof(services.rio, _signer(services).name, old, new)


@router.get("/proof/inclusion", summary="An inclusion proof for one recommendation event")
def get_inclusion(
    services: ServicesDep,
    review: str,
    number: Annotated[int, Query(ge=1)],
    version: Annotated[int, Query(ge=1)],
    size: Annotated[int | None, Query(ge=0, description="Default: the tree now.")] = None,
) -> dict[str, Any]:
    return inclusion_proof(
        services.rio, _signer(services).name, recommendation_id(review, number), version, size
    )


class CosignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checkpoint: str = Field(max_length=20_000, description="The checkpoint with its cosignature.")


@router.post(
    "/cosignatures",
    response_class=PlainTextResponse,
    summary="A witness hands back its cosignature; answers the checkpoint with all kept",
)
def post_cosignature(body: CosignatureIn, services: ServicesDep) -> str:
    witnesses = read_verifiers(
        services.settings.audit_witness_keys_file, "RIO_AUDIT_WITNESS_KEYS_FILE"
    )
    cosigned = add_cosignature(services.rio, body.checkpoint, witnesses)
    return checkpoint(services.rio, _signer(services), cosigned.size).text()
