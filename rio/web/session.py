"""Who is reading the board: a signed-in key holder, a member of the public, or nobody yet.

The session cookie is signed (itsdangerous) and holds the key's public id, never the key,
so the key is looked up, and a revoked one refused, on every request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from rio.aggregates.api_key import Role
from rio.api.deps import ServicesDep
from rio.api.problems import ApiProblem
from rio.api.ratelimit import retry_after
from rio.application.keys import Principal
from rio.domain.errors import DomainError
from rio.settings import Settings

log = structlog.get_logger("rio.web")

COOKIE = "rio_board_session"
# Admin keys manage keys; the board is for reading.
READ_ROLES = (Role.SECRETARIAT, Role.AUDITOR, Role.OWNER)
# "What did RIO show on date T?" is the auditors' question; the secretariat may ask it too.
KNOWN_AT_ROLES = (Role.AUDITOR, Role.SECRETARIAT)
# The tracker export, as in the API; and the public, when the board is open to it.
EXPORT_ROLES = (Role.AUDITOR, Role.SECRETARIAT)


class SignInRequired(Exception):
    """Raised by the viewer dependency: the board sends the visitor to the sign-in page."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "sign in to read the board")
        self.message = message


@dataclass(frozen=True)
class Viewer:
    """The reader of a page: a key's principal, or None for the public (RIO_BOARD_PUBLIC)."""

    principal: Principal | None

    @property
    def public(self) -> bool:
        return self.principal is None

    @property
    def owner(self) -> str | None:
        """For an owner key, whose recommendations it may read; None: it may read them all."""
        if self.principal is not None and self.principal.role is Role.OWNER:
            return self.principal.owner or ""
        return None

    @property
    def may_ask_known_at(self) -> bool:
        return self.principal is not None and self.principal.role in KNOWN_AT_ROLES

    @property
    def may_export(self) -> bool:
        return self.principal is None or self.principal.role in EXPORT_ROLES

    @property
    def label(self) -> str:
        if self.principal is None:
            return "the public (read-only)"
        return f"{self.principal.name} ({self.principal.role.value})"


class Sessions:
    """Signs and reads the board's session cookie."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.session_secret
        if not secret:
            # Sessions then last only as long as this process: fine for one `rio serve`,
            # not for several workers behind one address.
            log.warning("board_session_secret_unset", effect="sign-ins end when RIO restarts")
            secret = secrets.token_urlsafe(32)
        self.max_age = max(60, int(settings.board_session_hours * 3600))
        self._serializer = URLSafeTimedSerializer(secret, salt="rio.board.session")

    def key_id(self, request: Request) -> str | None:
        """The key id in the request's cookie, if its signature holds and it has not expired."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # expired signatures are a subclass
            return None
        key_id = data.get("key") if isinstance(data, dict) else None
        return key_id if isinstance(key_id, str) else None

    def start(self, request: Request, response: Response, key_id: str) -> None:
        response.set_cookie(
            COOKIE,
            self._serializer.dumps({"key": key_id}),
            max_age=self.max_age,
            path="/board",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    @staticmethod
    def end(request: Request, response: Response) -> None:
        response.delete_cookie(
            COOKIE,
            path="/board",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.board_sessions
    return found


SessionsDep = Annotated[Sessions, Depends(sessions)]


def signed_in(request: Request, services: ServicesDep, board: SessionsDep) -> Principal | None:
    """The principal of the session's key, if there is a session and its key still reads.

    A key revoked (or found to be an admin key) since sign-in ends the session here.
    """
    key_id = board.key_id(request)
    if key_id is None:
        return None
    try:
        info = services.keys.get(key_id)
    except DomainError:
        raise SignInRequired("your key is no longer known: sign in again") from None
    if info.revoked_at is not None:
        raise SignInRequired("your key has been revoked: sign in with another key")
    role = Role(info.role)
    if role not in READ_ROLES:
        raise SignInRequired(f"a {role.value} key cannot read the board")
    principal = Principal(info.key_id, info.name, role, info.owner)
    request.state.principal = principal  # for the request's log line
    wait = services.limiter.take(principal.key_id)
    if wait is not None:
        raise ApiProblem(
            429,
            f"key {principal.key_id} has made too many requests: retry after {retry_after(wait)} s",
            slug="rate-limited",
            headers={"Retry-After": retry_after(wait)},
        )
    return principal


def viewer(
    services: ServicesDep, principal: Annotated[Principal | None, Depends(signed_in)]
) -> Viewer:
    """The reader; nobody signed in is the public if the board is open, else sent to sign in."""
    if principal is None and not services.settings.board_public:
        raise SignInRequired()
    return Viewer(principal)


CurrentViewer = Annotated[Viewer, Depends(viewer)]
