"""The ApiKey aggregate: who was granted access to RIO's API, with which role, and when it ended.

Granting and revoking are events in the same store as the recommendations, so an auditor
can see who could write when. Only a hash of the secret is ever recorded. Topics follow
`rio.aggregates.topics` (`rio:ApiKey.Granted`), as they always have.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from rio.aggregates.topics import Stored
from rio.domain import clock
from rio.domain.access import Role as Role  # re-exported: a key names one of its roles
from rio.domain.errors import InvalidCommand


def api_key_id(key_id: str) -> UUID:
    """Identity from the public key id, so a presented key is found without a scan."""
    return uuid5(NAMESPACE_URL, f"rio:api-key:{key_id}")


class ApiKey(Stored, Aggregate):
    class Event(Stored, Aggregate.Event):
        recorded_by: str

        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Granted(Event, Aggregate.Created):
        class_version: ClassVar[int] = 1
        key_id: str
        name: str
        role: str
        owner: str | None
        secret_hash: str

        def apply(self, aggregate: ApiKey) -> None:
            aggregate.key_id = self.key_id
            aggregate.name = self.name
            aggregate.role = self.role
            aggregate.owner = self.owner
            aggregate.secret_hash = self.secret_hash
            aggregate.granted_by = self.recorded_by

    class Revoked(Event):
        class_version: ClassVar[int] = 1
        reason: str | None

        def apply(self, aggregate: ApiKey) -> None:
            aggregate.revoked_at = self.timestamp
            aggregate.revoked_by = self.recorded_by
            aggregate.revoke_reason = self.reason

    def __init__(self) -> None:
        # Granted.apply fills these in; declared here so their types are known.
        self.key_id = ""
        self.name = ""
        self.role = ""
        self.owner: str | None = None
        self.secret_hash = ""
        self.granted_by = ""
        self.revoked_at: datetime | None = None
        self.revoked_by: str | None = None
        self.revoke_reason: str | None = None

    @classmethod
    def grant(
        cls,
        *,
        key_id: str,
        name: str,
        role: str,
        owner: str | None,
        secret_hash: str,
        recorded_by: str,
    ) -> ApiKey:
        checked_role = _role(role)
        owner = owner.strip() if owner is not None and owner.strip() else None
        if checked_role is Role.OWNER and owner is None:
            raise InvalidCommand("an owner key must name its owner (--owner): whose items it reads")
        if checked_role is not Role.OWNER and owner is not None:
            raise InvalidCommand(f"only an owner key names an owner, not a {checked_role} key")
        if not name.strip():
            raise InvalidCommand("name is empty: say whose key this is")
        if not recorded_by.strip():
            raise InvalidCommand("recorded_by is empty: say who granted the key")
        return cls._create(
            cls.Granted,
            id=api_key_id(key_id),
            key_id=key_id,
            name=name.strip(),
            role=checked_role.value,
            owner=owner,
            secret_hash=secret_hash,
            recorded_by=recorded_by.strip(),
        )

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, *, reason: str | None, recorded_by: str) -> None:
        if self.revoked_at is not None:
            raise InvalidCommand(
                f"key {self.key_id} was already revoked on {self.revoked_at.isoformat()} "
                f"by {self.revoked_by}"
            )
        if not recorded_by.strip():
            raise InvalidCommand("recorded_by is empty: say who revoked the key")
        self.trigger_event(
            self.Revoked,
            reason=reason.strip() if reason and reason.strip() else None,
            recorded_by=recorded_by.strip(),
        )


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidCommand(f"role {role!r} is not one of: {allowed}") from None
