"""Token buckets in memory: each process limits the keys it serves and the failed sign-ins it sees.

In-process on purpose: one `rio serve` process is the supported deployment; several processes
would each allow their own share (say so when scaling out, or move the buckets to the store).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from rio.application.keys import Principal, key_id_of
from rio.settings import Settings

# The defaults live with the other settings (RIO_API_FAILED_AUTH_BURST, ..._PER_MINUTE).
FAILED_AUTH_BURST: int = Settings.model_fields["api_failed_auth_burst"].default
"""Failed authentications allowed at once from one client address, or for one key id."""

FAILED_AUTH_PER_MINUTE: float = Settings.model_fields["api_failed_auth_per_minute"].default
"""Then one more failure is allowed every 10 s: guessing stays slow, a typo costs seconds."""

MAX_TRACKED = 10_000
"""Buckets kept per limiter; beyond it the full (refilled) ones go, then the least recent."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """`burst` at once, then `per_minute` a minute, per key; `per_minute <= 0` turns it off.

    Bounded: an attacker inventing a new key id or address per request cannot grow it past
    `max_tracked` buckets (a refilled bucket is the same as none).
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self.max_tracked = max(1, max_tracked)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many buckets are held (each one a key that spent a token lately)."""
        return len(self._buckets)

    def take(self, key: str) -> float | None:
        """Spend a token for `key`: None if allowed, else seconds until one is available."""
        if self.rate <= 0:
            return None
        with self._lock:
            bucket = self._refilled(key)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return (1 - bucket.tokens) / self.rate

    def wait(self, key: str) -> float | None:
        """Like `take`, but spends nothing: None if a token is there, else seconds to wait."""
        if self.rate <= 0:
            return None
        with self._lock:
            bucket = self._refilled(key)
            return None if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def spend(self, key: str) -> None:
        """Spend a token for `key` after the fact (a failure), never going below empty."""
        if self.rate <= 0:
            return
        with self._lock:
            bucket = self._refilled(key)
            bucket.tokens = max(0.0, bucket.tokens - 1)

    def _refilled(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_tracked:
                self._forget(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        return bucket

    def _forget(self, now: float) -> None:
        """Drop buckets that have refilled; if that is not enough, the older half."""
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.burst:
                del self._buckets[key]
        if len(self._buckets) >= self.max_tracked:
            by_age = sorted(self._buckets, key=lambda k: self._buckets[k].updated)
            for key in by_age[: len(by_age) // 2 + 1]:
                del self._buckets[key]


class TooManyFailures(Exception):
    """Too many failed authentications from this address or for this key id: wait `wait` s."""

    def __init__(self, wait: float, what: str) -> None:
        super().__init__(
            f"too many failed sign-ins {what}: retry after {retry_after(wait)} s "
            "(check that the whole key was sent)"
        )
        self.wait = wait
        self.retry_after = retry_after(wait)


class FailedAuthentications:
    """Throttles guessing: after FAILED_AUTH_BURST failures from one client address, or for one
    key id from anywhere, further attempts are refused unchecked until a token refills.

    Attempts are refused *before* the secret is checked, or a refusal would still tell a right
    guess from a wrong one. The price: while someone hammers a key id, its holder too waits up
    to 10 s between attempts; an administrator can grant them a new key.
    """

    def __init__(
        self,
        burst: int = FAILED_AUTH_BURST,
        per_minute: float = FAILED_AUTH_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.by_address = RateLimiter(per_minute, burst, clock)
        self.by_key_id = RateLimiter(per_minute, burst, clock)

    def authenticate(
        self,
        authenticate: Callable[[str], Principal | None],
        presented: str,
        client: str | None,
    ) -> Principal | None:
        """`authenticate(presented)`, unless this address or key id must wait first.

        Raises TooManyFailures when throttled; counts a None answer as a failure.
        """
        address = f"address:{client or 'unknown'}"
        key_id = key_id_of(presented)
        wait = self.by_address.wait(address)
        if wait is not None:
            raise TooManyFailures(wait, "from this address")
        if key_id is not None:
            wait = self.by_key_id.wait(key_id)
            if wait is not None:
                raise TooManyFailures(wait, f"for key {key_id}")
        principal = authenticate(presented)
        if principal is None:
            self.by_address.spend(address)
            if key_id is not None:
                self.by_key_id.spend(key_id)
        return principal


def retry_after(seconds: float) -> str:
    """Retry-After is whole seconds; never 0, or a client would retry at once."""
    return str(max(1, math.ceil(seconds)))
