"""Who may do and read what: the roles, the one role matrix, and the owner-key reading rule.

The API, the board, the exports and the alerts all ask here, so an owner key reads the
same recommendations through every door, and an owner's name means one person everywhere
("NHS  england" is "NHS England").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from rio.domain import clock
from rio.domain.state import RecommendationState


class Role(StrEnum):
    """What a key may do; see DESIGN.md "API and security"."""

    SECRETARIAT = "secretariat"  # record and read
    AUDITOR = "auditor"  # read, replay, export, see the keys' history
    OWNER = "owner"  # read the recommendations its owner owns
    ADMIN = "admin"  # grant and revoke keys


class Permission(StrEnum):
    """Something a door guards; MATRIX says which roles have it."""

    READ_ALL = "read all"  # every recommendation of the programme
    READ_OWN = "read own"  # only the recommendations its owner owns (`may_read`)
    WRITE = "write"  # record commands
    EXPORT = "export"  # the tracker as CSV / XLSX
    REPLAY = "replay"  # answers from the reference replay instead of the read model
    KNOWN_AT = "known at"  # "what did RIO show at T?": the known_at coordinate, at every door
    # The event log's head: it counts what everyone recorded (other owners' items and keys),
    # so only those who read everything see it.
    LOG_POSITION = "log position"
    READ_KEYS = "read keys"  # the keys' list and history
    MANAGE_KEYS = "manage keys"  # grant and revoke keys


_P = Permission
MATRIX: Mapping[Role, frozenset[Permission]] = {
    Role.SECRETARIAT: frozenset(
        {_P.READ_ALL, _P.WRITE, _P.EXPORT, _P.REPLAY, _P.KNOWN_AT, _P.LOG_POSITION}
    ),
    Role.AUDITOR: frozenset(
        {_P.READ_ALL, _P.EXPORT, _P.REPLAY, _P.KNOWN_AT, _P.LOG_POSITION, _P.READ_KEYS}
    ),
    Role.OWNER: frozenset({_P.READ_OWN}),
    # Admin keys manage keys; reading the programme is for the other roles.
    Role.ADMIN: frozenset({_P.READ_KEYS, _P.MANAGE_KEYS}),
}
PUBLIC: frozenset[Permission] = frozenset({_P.READ_ALL, _P.EXPORT})
"""What nobody signed in holds, when the board is opened to the public (RIO_BOARD_PUBLIC)."""


def roles_with(*permissions: Permission) -> tuple[Role, ...]:
    """The roles holding any of `permissions`, in the order the roles are declared."""
    return tuple(role for role in Role if MATRIX[role] & set(permissions))


def may(role: Role | None, permission: Permission) -> bool:
    """Whether `role` holds `permission`; None is the public (see PUBLIC)."""
    return permission in (PUBLIC if role is None else MATRIX[role])


class KnownAtRefusal(StrEnum):
    """Why a known_at was refused; each door words it, the rule is `known_at_refusal`'s."""

    NOT_FOR_ROLE = "not for this role"  # auditors and the secretariat ask it
    IN_THE_FUTURE = "in the future"  # RIO cannot know what it has not recorded


def known_at_refusal(role: Role | None, moment: datetime) -> KnownAtRefusal | None:
    """Why a reader of `role` may not ask for the programme as known at `moment`, if they
    may not: the one rule the API and the board both apply (the CLI, run by whoever holds
    the store, applies its second half, `clock.still_to_come`)."""
    if not may(role, Permission.KNOWN_AT):
        return KnownAtRefusal.NOT_FOR_ROLE
    if clock.still_to_come(moment):
        return KnownAtRefusal.IN_THE_FUTURE
    return None


# The role sets the doors guard with, named once.
WRITERS = roles_with(Permission.WRITE)
READERS = roles_with(Permission.READ_ALL, Permission.READ_OWN)
EXPORTERS = roles_with(Permission.EXPORT)
REPLAYERS = roles_with(Permission.REPLAY)
KEY_READERS = roles_with(Permission.READ_KEYS)
KEY_ADMINS = roles_with(Permission.MANAGE_KEYS)


def owner_key(name: str) -> str:
    """An owner's name as compared everywhere: case and runs of whitespace do not matter."""
    return " ".join(name.split()).casefold()


def owners_of(state: RecommendationState) -> tuple[str | None, ...]:
    """Whose a recommendation is: its accountable owner and each commitment's own owner."""
    return (state.accountable_owner, *(c.owner for c in state.commitments))


def may_read(role: Role | None, owner: str | None, owners: Iterable[str | None]) -> bool:
    """Whether a key of `role` (naming `owner`, for an owner key) reads a recommendation
    whose owners are `owners` (see `owners_of`): an owner key reads only its own's."""
    if may(role, Permission.READ_ALL):
        return True
    if not may(role, Permission.READ_OWN) or owner is None:
        return False
    wanted = owner_key(owner)
    return any(name is not None and owner_key(name) == wanted for name in owners)


def reads_all(role: Role | None) -> bool:
    """Whether a key of `role` reads every recommendation, so no narrowing is needed."""
    return may(role, Permission.READ_ALL)


def readable_numbers(
    role: Role | None, owner: str | None, owners_by_number: Mapping[int, Iterable[str | None]]
) -> set[int]:
    """Which of a review's recommendations (by number, with their owners) the key reads."""
    return {n for n, owners in owners_by_number.items() if may_read(role, owner, owners)}
