"""Typed dependencies: the services, who is calling, role guards, and the common parameters.

Every one is `async` because none does I/O: FastAPI runs a plain `def` dependency in its
thread pool, a round trip per dependency per request (issue 16 measured nine per command).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import Depends, Header, Path, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from rio.aggregates.recommendation import recommendation_id
from rio.api.params import DIGITS_ONLY, QueryDate
from rio.api.problems import ApiProblem, field_problem
from rio.api.services import Services
from rio.application.keys import Principal
from rio.domain import access, clock
from rio.domain.access import REPLAYERS, KnownAtRefusal, Permission, Role

_bearer = HTTPBearer(
    auto_error=False, description="`Authorization: Bearer <key>`, a key from `rio keys create`."
)
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The same key, in its own header."
)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key)],
) -> Principal:
    """The principal the authentication middleware found (the parameters document the schemes)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise ApiProblem(
            401,
            "this request needs an API key",
            slug="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="rio"'},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A guard for a router or route: the caller's key must have one of `roles`."""
    allowed = ", ".join(r.value for r in roles)

    async def guard(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise ApiProblem(
                403,
                f"a {principal.role.value} key cannot do this; it needs a key with the role: "
                f"{allowed}",
                slug="forbidden",
            )
        return principal

    return guard


# --- parameters ---------------------------------------------------------------------------------

ReviewKey = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00/]+$",
        description="The review's key, e.g. messenger-2022.",
        examples=["messenger-2022"],
    ),
]
RecommendationNumber = Annotated[
    int,
    Path(
        ge=0,
        le=100_000,
        description="The recommendation's number in its review; 0 is the review as a whole "
        "(its promises are recorded once there, its stream opened by the first).",
    ),
    DIGITS_ONLY,
]
CommitmentKey = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00/]+$",
        description="The commitment's id within the recommendation.",
    ),
]


@dataclass(frozen=True)
class Target:
    """The recommendation a URL names by its natural key."""

    review: str
    number: int

    @property
    def id(self) -> UUID:
        return recommendation_id(self.review, self.number)

    @property
    def path(self) -> str:
        """Its URL path, percent-encoded so it can go in a header."""
        return f"/reviews/{quote(self.review, safe='')}/recommendations/{self.number}"


async def target(review: ReviewKey, number: RecommendationNumber) -> Target:
    return Target(review, number)


TargetDep = Annotated[Target, Depends(target)]


async def as_at_param(
    as_at: Annotated[
        QueryDate | None,
        Query(
            description="Valid time: the programme as it stood in the world on this date "
            "(YYYY-MM-DD, default today).",
            examples=["2024-06-01"],
        ),
    ] = None,
) -> date:
    return as_at or clock.today()


AsAt = Annotated[date, Depends(as_at_param)]


async def known_at_param(
    principal: CurrentPrincipal,
    known_at: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Recorded time: only what RIO had recorded by then. A timestamp "
            "(2026-01-01T09:30+00:00) or a date, meaning the end of that day in London; "
            "not in the future. For auditors and the secretariat.",
            examples=["2026-01-01"],
        ),
    ] = None,
) -> datetime | None:
    return known_at_for(principal.role, "query.known_at", known_at)


def known_at_for(role: Role | None, field: str, text: str | None) -> datetime | None:
    """`text` as a known-at moment, if a reader of `role` (None: the public board) may ask
    it: the API and the board both call this, so they refuse alike (`access.known_at_refusal`)."""
    if text is None:
        return None
    moment = parse_known_at(field, text)
    refusal = access.known_at_refusal(role, moment)
    if refusal is KnownAtRefusal.NOT_FOR_ROLE:
        raise ApiProblem(
            403,
            "the known-at view (what RIO had recorded by a past moment) is for auditors and "
            "the secretariat: use such a key, or leave known_at out",
            slug="forbidden",
        )
    if refusal is KnownAtRefusal.IN_THE_FUTURE:
        raise field_problem(
            field,
            f"{text!r} is in the future: RIO cannot know what it has not recorded "
            "(leave known_at out for everything recorded so far)",
        )
    return moment


def parse_known_at(field: str, value: str) -> datetime:
    try:
        return clock.parse_moment(value)
    except ValueError:
        raise field_problem(
            field, f"{value!r} is not a timestamp: use {clock.KNOWN_AT_FORMS}"
        ) from None


KnownAt = Annotated[datetime | None, Depends(known_at_param)]


def log_position(services: Services, role: Role) -> int | None:
    """The event log's head for an answer's `position`, or None for a reader it would tell
    how much others record (an owner key: see `Permission.LOG_POSITION`)."""
    return services.rio.position() if access.may(role, Permission.LOG_POSITION) else None


async def replay_param(
    principal: CurrentPrincipal,
    replay: Annotated[
        bool,
        Query(
            description="Fold every event (the reference replay) instead of reading the read "
            "model. For auditors and the secretariat."
        ),
    ] = False,
) -> bool:
    if replay and principal.role not in REPLAYERS:
        raise ApiProblem(403, "replay is for auditors and the secretariat", slug="forbidden")
    return replay


Replay = Annotated[bool, Depends(replay_param)]


async def public_at_param(
    principal: CurrentPrincipal,
    public_at: Annotated[
        QueryDate | None,
        Query(
            description="The public record's clock: only facts whose source was published "
            "by this date (YYYY-MM-DD); a source with no publication date counts as "
            "unpublished. Answered by the fold (rio.domain.public_record), so, like replay, "
            "for auditors and the secretariat.",
            examples=["2024-06-01"],
        ),
    ] = None,
) -> date | None:
    return public_at_for(principal.role, public_at)


def public_at_for(role: Role | None, public_at: date | None) -> date | None:
    """`public_at`, if a reader of `role` (None: the public board) may ask it: the API and
    the board both call this, so they refuse alike."""
    if public_at is not None and not access.may(role, Permission.REPLAY):
        raise ApiProblem(
            403,
            "public_at is answered by the replay, for auditors and the secretariat",
            slug="forbidden",
        )
    return public_at


PublicAt = Annotated[date | None, Depends(public_at_param)]


@dataclass(frozen=True)
class Paging:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def next_page(self, total: int) -> int | None:
        return self.page + 1 if self.offset + self.page_size < total else None


async def paging(
    services: ServicesDep,
    page: Annotated[
        int, Query(ge=1, le=1_000_000, description="1 for the first page."), DIGITS_ONLY
    ] = 1,
    page_size: Annotated[
        int,
        Query(ge=1, description="Items per page; at most RIO_API_MAX_PAGE_SIZE (200)."),
        DIGITS_ONLY,
    ] = 50,
) -> Paging:
    bound = services.settings.api_max_page_size
    if page_size > bound:
        raise field_problem("query.page_size", f"at most {bound} items a page, not {page_size}")
    return Paging(page, page_size)


PagingDep = Annotated[Paging, Depends(paging)]


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            description='The ETag you read (e.g. "3"): the change is refused with 412 if the '
            "recommendation has moved on since.",
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not _VERSION.match(text):
        raise field_problem(
            "header.If-Match", f'{if_match!r} is not an ETag RIO gave: send it back as read, "3"'
        )
    return int(text)


_VERSION = re.compile(r"^[0-9]{1,12}$")
ExpectedVersion = Annotated[int | None, Depends(expected_version)]


async def idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Any unique string: a retried POST with the same key and body records "
            "once and gets the first answer back.",
        ),
    ] = None,
) -> str | None:
    if idempotency_key is not None and not idempotency_key.strip():
        raise field_problem("header.Idempotency-Key", "is empty: give a unique string")
    return idempotency_key
