"""Who is reading the board: a signed-in key holder, a member of the public, or nobody yet.

The session cookie is signed (itsdangerous) and holds the key's public id, never the key,
so the key is looked up, and a revoked one refused, on every request. It also holds the
session's own id: signing out records that id as ended in the store (`ended_sessions`), so
a copy of the cookie is refused from then on, and the id keys the session's form token,
which every board POST must send back (a page of another site cannot read it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.engine import Engine

from rio.api.deps import ServicesDep
from rio.api.problems import ApiProblem
from rio.api.ratelimit import retry_after
from rio.application.keys import Principal
from rio.domain import access
from rio.domain.access import Permission, Role
from rio.domain.errors import DomainError
from rio.domain.state import RecommendationState
from rio.settings import Settings
from rio.web.ended_sessions import EndedSessions

log = structlog.get_logger("rio.web")

COOKIE = "rio_board_session"
FORM_COOKIE = "rio_board_form"  # before signing in: what the sign-in form's token is bound to
FORM_FIELD = "csrf"  # the hidden field of every board form that posts
# The board is for reading: the API's readers (admin keys manage keys).
READ_ROLES = access.READERS


class SignInRequired(Exception):
    """Raised by the viewer dependency: the board sends the visitor to the sign-in page."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "sign in to read the board")
        self.message = message


@dataclass(frozen=True)
class Session:
    """A signed-in session, as its cookie says: whose key, its own id, when it was signed."""

    key_id: str
    id: str
    issued: float  # unix seconds


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    session: Session


@dataclass(frozen=True)
class Viewer:
    """The reader of a page: a key's principal, or None for the public (RIO_BOARD_PUBLIC)."""

    principal: Principal | None
    form_token: str | None = None  # the session's token, for the sign-out form

    @property
    def public(self) -> bool:
        return self.principal is None

    @property
    def reads_all(self) -> bool:
        """Whether every recommendation is this reader's to read (the public's too)."""
        return access.reads_all(self.role)

    @property
    def owner(self) -> str | None:
        """For a key that reads only its owner's recommendations, that owner; else None."""
        if self.principal is None or self.reads_all:
            return None
        return self.principal.owner or ""

    def may_read(self, state: RecommendationState) -> bool:
        """The API's rule: owner keys read only their own recommendations."""
        owner = None if self.principal is None else self.principal.owner
        return access.may_read(self.role, owner, access.owners_of(state))

    @property
    def role(self) -> Role | None:
        return None if self.principal is None else self.principal.role

    @property
    def may_ask_known_at(self) -> bool:
        # "What did RIO show on date T?" is the auditors' question; the secretariat may ask it too.
        return access.may(self.role, Permission.KNOWN_AT)

    @property
    def may_ask_public_at(self) -> bool:
        # Answered by the fold (the read model keeps no publication dates), like a replay.
        return access.may(self.role, Permission.REPLAY)

    @property
    def may_export(self) -> bool:
        # The tracker export, as in the API; and the public, when the board is open to it.
        return access.may(self.role, Permission.EXPORT)

    @property
    def sees_log_position(self) -> bool:
        return access.may(self.role, Permission.LOG_POSITION)

    @property
    def label(self) -> str:
        if self.principal is None:
            return "the public (read-only)"
        return f"{self.principal.name} ({self.principal.role.value})"


class Sessions:
    """Signs and reads the board's session cookie, ends sessions, and makes form tokens."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        secret = settings.session_secret
        if not secret:
            # Sessions then last only as long as this process: fine for one `rio serve`,
            # not for several workers behind one address.
            log.warning("board_session_secret_unset", effect="sign-ins end when RIO restarts")
            secret = secrets.token_urlsafe(32)
        self.max_age = max(60, int(settings.board_session_hours * 3600))
        self._serializer = URLSafeTimedSerializer(secret, salt="rio.board.session")
        self._form_key = hashlib.sha256(f"rio.board.form:{secret}".encode()).digest()
        self.ended = EndedSessions(engine, self.max_age)

    def read(self, request: Request) -> Session | None:
        """The request's session, if its cookie's signature holds, it has not expired and it
        was not ended by signing out."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data, signed = self._serializer.loads(
                cookie, max_age=self.max_age, return_timestamp=True
            )
        except BadSignature:  # expired signatures are a subclass
            return None
        if not isinstance(data, dict):
            return None
        key_id, session_id = data.get("key"), data.get("sid")
        # A cookie without a session id (signed before sessions could end) is no session.
        if not isinstance(key_id, str) or not isinstance(session_id, str):
            return None
        if self.ended.has_ended(session_id):
            return None
        return Session(key_id, session_id, signed.timestamp())

    def start(self, request: Request, response: Response, key_id: str) -> None:
        value = {"key": key_id, "sid": secrets.token_urlsafe(24)}
        self._set(request, response, COOKIE, self._serializer.dumps(value), self.max_age)

    def end(self, request: Request, response: Response, session: Session | None) -> None:
        """Sign out: the session is refused from now on, wherever its cookie is."""
        if session is not None:
            self.ended.end(session.id, session.issued)
        self.forget(request, response)

    @staticmethod
    def forget(request: Request, response: Response) -> None:
        """Drop the cookie from this browser (a session already refused needs no more)."""
        response.delete_cookie(
            COOKIE,
            path="/board",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    # --- form tokens: a page of another site can make a browser post, never read a token ---

    def form_token(self, session: Session) -> str:
        """The token the signed-in session's forms carry."""
        return self._token("session", session.id)

    def sign_in_token(self, request: Request) -> tuple[str, str | None]:
        """The sign-in form's token, bound to a random value in this browser's form cookie so
        that a sign-in cannot be forged from another site either; and that value, when the
        browser has none yet and `set_form_cookie` must send it."""
        nonce = request.cookies.get(FORM_COOKIE, "")
        if 20 <= len(nonce) <= 64:
            return self._token("sign-in", nonce), None
        nonce = secrets.token_urlsafe(24)
        return self._token("sign-in", nonce), nonce

    def set_form_cookie(self, request: Request, response: Response, nonce: str) -> None:
        self._set(request, response, FORM_COOKIE, nonce, self.max_age)

    def sign_in_token_holds(self, request: Request, token: str) -> bool:
        nonce = request.cookies.get(FORM_COOKIE, "")
        return bool(nonce) and hmac.compare_digest(token, self._token("sign-in", nonce))

    def form_token_holds(self, session: Session, token: str) -> bool:
        return hmac.compare_digest(token, self.form_token(session))

    def _token(self, purpose: str, value: str) -> str:
        return hmac.new(self._form_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _set(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/board",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.board_sessions
    return found


SessionsDep = Annotated[Sessions, Depends(sessions)]


def signed_in(request: Request, services: ServicesDep, board: SessionsDep) -> SignedIn | None:
    """The session and its key's principal, if there is a session and its key still reads.

    A key revoked (or found to be an admin key) since sign-in ends the session here.
    """
    session = board.read(request)
    if session is None:
        return None
    try:
        info = services.keys.get(session.key_id)
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
    return SignedIn(principal, session)


def viewer(
    request: Request,
    services: ServicesDep,
    board: SessionsDep,
    found: Annotated[SignedIn | None, Depends(signed_in)],
) -> Viewer:
    """The reader; nobody signed in is the public if the board is open, else sent to sign in.

    Kept on the request too, so that a problem page has the same header as the page.
    """
    if found is None:
        if not services.settings.board_public:
            raise SignInRequired()
        reader = Viewer(None)
    else:
        reader = Viewer(found.principal, board.form_token(found.session))
    request.state.board_viewer = reader
    return reader


CurrentViewer = Annotated[Viewer, Depends(viewer)]
