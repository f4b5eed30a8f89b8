"""API keys: grant, list, revoke and check them, loading and saving ApiKeys through RIO.

A key reads `rio_<key id>_<secret>`. The key id is public and finds the ApiKey aggregate;
only the SHA-256 of the whole key is recorded, and it is compared in constant time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rio.aggregates.api_key import ApiKey, Role, api_key_id
from rio.aggregates.topics import stored_topics
from rio.application.service import RIO
from rio.domain.errors import DomainError, InvalidCommand, NotFound, VersionConflict

PREFIX = "rio"
KEY_TOPICS = stored_topics(ApiKey.Granted, ApiKey.Revoked)
RECOVER_ADMIN = "rio keys create --name NAME --role admin"
PRINCIPALS_CACHED = 10_000


class LastAdminKey(DomainError):
    """Revoking this key would leave no admin key: no one could grant or revoke keys."""

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"key {key_id} is the last admin key not revoked: without one, no one can grant "
            f"or revoke keys over the API. Grant another admin key first (on the server, "
            f"`{RECOVER_ADMIN}`, which needs no API key), then revoke this one"
        )
        self.key_id = key_id


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


def _standing_admin(info: KeyInfo) -> bool:
    return info.role == Role.ADMIN and info.revoked_at is None


def keeps_an_admin(key_id: str, standing_admins: list[str]) -> None:
    """The rule: a key may be revoked unless it is the only admin key still standing
    (`standing_admins`: the ids of the admin keys not revoked). Raises LastAdminKey."""
    if set(standing_admins) <= {key_id}:
        raise LastAdminKey(key_id)


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
        # Two admins revoking each other at once must not both see the other still standing.
        # This orders revocations within one process (the server); a concurrent `rio keys
        # revoke` on the server can still race it, and RECOVER_ADMIN is the way back.
        self._revoking = threading.Lock()
        # Valid keys seen, by digest: (principal, the key aggregate's version then).
        self._principals: dict[str, tuple[Principal, int]] = {}

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
        if not self.app.commit(granted):
            # A 48-bit random id met an existing key's: vanishingly rare, and never reused.
            raise VersionConflict("a key with the same id was granted meanwhile: try again")
        return key, KeyInfo.of(granted)

    def revoke(self, key_id: str, *, revoked_by: str, reason: str | None = None) -> KeyInfo:
        """Revoke a key; refused (LastAdminKey) for the last admin key still standing."""
        with self._revoking:
            key = self._get(key_id)
            if key.role == Role.ADMIN and not key.revoked:
                standing = [info.key_id for info in self.list() if _standing_admin(info)]
                keeps_an_admin(key_id, standing)
            key.revoke(reason=reason, recorded_by=revoked_by)
            if not self.app.commit(key):
                raise VersionConflict(
                    f"key {key_id} was changed by someone else meanwhile: list the keys again"
                )
            return KeyInfo.of(key)

    def get(self, key_id: str) -> KeyInfo:
        return KeyInfo.of(self._get(key_id))

    def list(self) -> list[KeyInfo]:
        """Every key ever granted, oldest first, revoked ones included."""
        return [KeyInfo.of(key) for key in self.app.fold(ApiKey, KEY_TOPICS)]

    def authenticate(self, presented: str) -> Principal | None:
        """The principal a presented key stands for, or None if it is unknown or revoked.

        A key that passed is remembered by its digest with the version of its aggregate; the
        next request only asks the store whether that aggregate has moved on (one indexed
        read), so a revocation recorded by any process is seen at once."""
        key_digest = digest(presented)
        cached = self._principals.get(key_digest)
        if cached is not None:
            principal, version = cached
            if not self.app.changed_since(api_key_id(principal.key_id), version):
                return principal
            self._principals.pop(key_digest, None)
        key_id = key_id_of(presented)
        if key_id is None:
            return None
        key = self.app.load(ApiKey, api_key_id(key_id))
        if key is None or key.revoked or not hmac.compare_digest(key.secret_hash, key_digest):
            return None
        principal = Principal(key.key_id, key.name, Role(key.role), key.owner)
        if len(self._principals) >= PRINCIPALS_CACHED:
            self._principals.clear()  # only valid keys get here: a bound, not an eviction policy
        self._principals[key_digest] = (principal, key.version)
        return principal

    def _get(self, key_id: str) -> ApiKey:
        if not key_id or len(key_id) > 64:
            raise InvalidCommand(f"{key_id!r} is not a key id (12 hex digits, from rio keys list)")
        key = self.app.load(ApiKey, api_key_id(key_id))
        if key is None:
            raise NotFound(f"no API key with id {key_id!r}: see rio keys list")
        return key
