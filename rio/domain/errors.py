"""Domain errors: each one says what was refused and why, in words a secretariat can act on."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain makes; the API maps these to 4xx, the CLI to exit 2."""


class InvalidDueDate(DomainError):
    """A deadline phrase RIO cannot resolve to dates; it never guesses."""

    def __init__(self, phrase: str, why: str) -> None:
        super().__init__(f"cannot understand the due date {phrase!r}: {why}")
        self.phrase = phrase


class InvalidCommand(DomainError):
    """A command whose own fields make no sense (an empty owner, a future date...)."""


class UnknownCommitment(DomainError):
    """A command names a commitment the recommendation never made."""


class CommitmentClosed(DomainError):
    """A command would change a commitment after it was delivered or withdrawn."""


class OutOfOrder(DomainError):
    """A command's occurred date contradicts the valid-time order of what is recorded."""


class DuplicateCommitment(DomainError):
    """A commitment id is reused within one recommendation."""


class NotFound(DomainError):
    """A recommendation or review that RIO has no record of."""


class VersionConflict(DomainError):
    """The caller expected another version of the aggregate than the stored one."""


class DatesOutOfOrder(DomainError):
    """A question whose dates run backwards, such as outcomes judged before the promises."""
