"""API keys: grant, list, revoke and check them; the only place that loads and saves ApiKeys.

A key reads `rio_<key id>_<secret>`. The key id is public and finds the ApiKey aggregate;
only the SHA-256 of the whole key is recorded, and it is compared in constant time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from rio.aggregates.api_key import ApiKey, Role, api_key_id
from rio.application.service import RIO
from rio.domain.errors import InvalidCommand, NotFound, VersionConflict

PREFIX = "rio"
PAGE = 1000


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's holder, its role, and (for owner keys) whose items it reads."""

    key_id: str
    name: str
    role: Role
    owner: str | None = None

    @property
    def recorded_by(self) -> str:
        """What events record as `recorded_by`: the holder's name and the key that acted."""
        return f"api:{self.name} (key {self.key_id})"


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str
    role: str
    owner: str | None
    granted_at: datetime
    granted_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    version: int

    def as_dict(self) -> dict[str, Any]:
        """What `rio keys list --json` and `GET /keys` show of a key (never the key itself)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def of(cls, key: ApiKey) -> KeyInfo:
        return cls(
            key_id=key.key_id,
            name=key.name,
            role=key.role,
            owner=key.owner,
            granted_at=key.created_on,
            granted_by=key.granted_by,
            revoked_at=key.revoked_at,
            revoked_by=key.revoked_by,
            revoke_reason=key.revoke_reason,
            version=key.version,
        )


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id_of(key: str) -> str | None:
    """The key id a presented key claims, or None when it is not shaped like a RIO key."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or len(key_id) != 12 or not secret:
        return None
    if any(c not in "0123456789abcdef" for c in key_id):
        return None
    return key_id


class Keys:
    """Grants, revokes, lists and checks the API keys recorded in one RIO store."""

    def __init__(self, app: RIO) -> None:
        self.app = app

    def create(
        self, *, name: str, role: str, owner: str | None = None, granted_by: str
    ) -> tuple[str, KeyInfo]:
        """Grant a key; returns the key itself (shown once, never stored) and what was recorded."""
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        granted = ApiKey.grant(
            key_id=key_id,
            name=name,
            role=role,
            owner=owner,
            secret_hash=digest(key),
            recorded_by=granted_by,
        )
        self.app.save(granted)
        return key, KeyInfo.of(granted)

    def revoke(self, key_id: str, *, revoked_by: str, reason: str | None = None) -> KeyInfo:
        key = self._get(key_id)
        key.revoke(reason=reason, recorded_by=revoked_by)
        try:
            self.app.save(key)
        except IntegrityError:
            raise VersionConflict(
                f"key {key_id} was changed by someone else meanwhile: list the keys again"
            ) from None
        return KeyInfo.of(key)

    def get(self, key_id: str) -> KeyInfo:
        return KeyInfo.of(self._get(key_id))

    def list(self) -> list[KeyInfo]:
        """Every key ever granted, oldest first, revoked ones included."""
        ids: list[UUID] = []
        start = 1
        while True:
            page = self.app.recorder.select_notifications(
                start=start, limit=PAGE, topics=[ApiKey.Granted.TOPIC]
            )
            ids += [UUID(str(n.originator_id)) for n in page]
            if len(page) < PAGE:
                break
            start = page[-1].id + 1
        return [KeyInfo.of(self.app.repository.get(i)) for i in ids]

    def authenticate(self, presented: str) -> Principal | None:
        """The principal a presented key stands for, or None if it is unknown or revoked."""
        key_id = key_id_of(presented)
        if key_id is None:
            return None
        try:
            key: ApiKey = self.app.repository.get(api_key_id(key_id))
        except AggregateNotFoundError:
            return None
        if key.revoked or not hmac.compare_digest(key.secret_hash, digest(presented)):
            return None
        return Principal(key.key_id, key.name, Role(key.role), key.owner)

    def _get(self, key_id: str) -> ApiKey:
        if not key_id or len(key_id) > 64:
            raise InvalidCommand(f"{key_id!r} is not a key id (12 hex digits, from rio keys list)")
        try:
            key: ApiKey = self.app.repository.get(api_key_id(key_id))
        except AggregateNotFoundError:
            raise NotFound(f"no API key with id {key_id!r}: see rio keys list") from None
        return key
