"""Tamper evidence for auditors over HTTP: take a digest now, verify the log against earlier ones.

The same checks as `rio audit digest` and `rio audit verify`; an auditor keeps the digests
somewhere RIO cannot reach and brings them back to prove history was not rewritten.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from rio.aggregates.api_key import Role
from rio.api.deps import ServicesDep, require
from rio.api.problems import documented
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
