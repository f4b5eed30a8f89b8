"""API keys over HTTP: administrators grant and revoke them; auditors see who could do what when.

Creating a key takes no Idempotency-Key: its answer holds the key itself, which RIO never
stores anywhere, so it cannot be replayed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from rio.api.deps import CurrentPrincipal, PagingDep, ServicesDep, require
from rio.api.problems import documented
from rio.api.schemas import KeyCreated, KeyIn, KeyOut, KeyPage, RevokeIn
from rio.application.keys import KeyInfo
from rio.domain.access import KEY_ADMINS, KEY_READERS

router = APIRouter(prefix="/keys", tags=["keys"], responses=documented(401, 403, 422, 429, 503))

KeyId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{12}$", description="The key id `rio keys list` shows.")
]


def _out(info: KeyInfo) -> dict[str, Any]:
    return info.as_dict()


@router.get(
    "",
    response_model=KeyPage,
    dependencies=[Depends(require(*KEY_READERS))],
    summary="Every key ever granted, revoked ones included (never the keys themselves)",
)
def list_keys(services: ServicesDep, paging: PagingDep) -> dict[str, Any]:
    keys = services.keys.list()
    return {
        "page": paging.page,
        "page_size": paging.page_size,
        "total": len(keys),
        "next_page": paging.next_page(len(keys)),
        "keys": [_out(k) for k in keys[paging.offset : paging.offset + paging.page_size]],
    }


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    dependencies=[Depends(require(*KEY_ADMINS))],
    responses=documented(413),
    summary="Grant a key; the answer shows the key once",
)
def create_key(body: KeyIn, principal: CurrentPrincipal, services: ServicesDep) -> dict[str, Any]:
    key, info = services.keys.create(
        name=body.name, role=body.role, owner=body.owner, granted_by=principal.recorded_by
    )
    return {**_out(info), "key": key}


@router.get(
    "/{key_id}",
    response_model=KeyOut,
    dependencies=[Depends(require(*KEY_READERS))],
    responses=documented(404),
    summary="One key: who holds it, its role, who granted and revoked it, when",
)
def get_key(key_id: KeyId, services: ServicesDep) -> dict[str, Any]:
    return _out(services.keys.get(key_id))


@router.post(
    "/{key_id}/revocation",
    response_model=KeyOut,
    dependencies=[Depends(require(*KEY_ADMINS))],
    responses=documented(404, 409, 413),
    summary="Revoke a key; it is refused from the next request on",
)
def revoke_key(
    key_id: KeyId, body: RevokeIn, principal: CurrentPrincipal, services: ServicesDep
) -> dict[str, Any]:
    return _out(services.keys.revoke(key_id, revoked_by=principal.recorded_by, reason=body.reason))
