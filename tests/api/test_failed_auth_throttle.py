"""Guessing a key is throttled per client address and per key id; a right key is never slowed by
a wrong one from elsewhere once the bucket refills (issue 13.11)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from rio.api.ratelimit import (
    FAILED_AUTH_BURST,
    FAILED_AUTH_PER_MINUTE,
    FailedAuthentications,
    TooManyFailures,
)
from rio.application.keys import Principal, key_id_of
from tests.api.conftest import Api


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wrong_secret(key: str) -> str:
    """The same key id with a different secret."""
    head, _, secret = key.rpartition("_")
    return f"{head}_{'x' * len(secret)}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def pinned(api: Api) -> FakeClock:
    clock = FakeClock()
    api.app.state.services.failed_auth = FailedAuthentications(clock=clock)
    return clock


REFILL = 60 / FAILED_AUTH_PER_MINUTE  # seconds for one more attempt


def test_wrong_secrets_for_a_real_key_id_turn_to_429_after_the_burst(sqlite_api: Api) -> None:
    clock = pinned(sqlite_api)
    key = sqlite_api.keys["auditor"]

    answers = [
        sqlite_api.client.get("/status", headers=bearer(wrong_secret(key))).status_code
        for _ in range(FAILED_AUTH_BURST)
    ]
    throttled = sqlite_api.client.get("/status", headers=bearer(wrong_secret(key)))

    assert answers == [401] * FAILED_AUTH_BURST
    assert throttled.status_code == 429, throttled.text
    assert throttled.headers["content-type"] == "application/problem+json"
    assert int(throttled.headers["Retry-After"]) == REFILL
    assert "too many failed sign-ins" in throttled.json()["detail"]
    # Refused before the secret is checked, or a 429 would still tell right from wrong.
    assert sqlite_api.client.get("/status", headers=bearer(key)).status_code == 429
    clock.now += REFILL
    assert sqlite_api.client.get("/status", headers=bearer(key)).status_code == 200


def test_one_address_guessing_many_key_ids_is_throttled(sqlite_api: Api) -> None:
    pinned(sqlite_api)
    guesses = [f"rio_{n:012x}_secret" for n in range(FAILED_AUTH_BURST + 1)]

    answers = [
        sqlite_api.client.get("/status", headers=bearer(guess)).status_code for guess in guesses
    ]
    elsewhere = TestClient(sqlite_api.app, client=("203.0.113.9", 4000))
    other = elsewhere.get("/status", headers=bearer(sqlite_api.keys["auditor"]))

    assert answers == [401] * FAILED_AUTH_BURST + [429]
    assert other.status_code == 200  # another address is not held up


def test_one_key_id_guessed_from_many_addresses_is_throttled(sqlite_api: Api) -> None:
    pinned(sqlite_api)
    key = sqlite_api.keys["secretariat"]

    answers = [
        TestClient(sqlite_api.app, client=(f"198.51.100.{n}", 4000))
        .get("/status", headers=bearer(wrong_secret(key)))
        .status_code
        for n in range(FAILED_AUTH_BURST + 1)
    ]
    other_key = sqlite_api.client.get("/status", headers=bearer(sqlite_api.keys["auditor"]))

    assert answers == [401] * FAILED_AUTH_BURST + [429]
    assert other_key.status_code == 200


def test_right_keys_spend_nothing(sqlite_api: Api) -> None:
    pinned(sqlite_api)

    answers = {
        sqlite_api.client.get("/status", headers=sqlite_api.as_("auditor")).status_code
        for _ in range(FAILED_AUTH_BURST * 3)
    }

    assert answers == {200}


def test_the_throttle_calls_authenticate_only_when_it_allows_an_attempt() -> None:
    clock = FakeClock()
    throttle = FailedAuthentications(burst=2, per_minute=60, clock=clock)
    calls: list[str] = []

    def nobody(presented: str) -> Principal | None:
        calls.append(presented)
        return None

    key = "rio_0123456789ab_wrong"
    assert key_id_of(key) == "0123456789ab"
    for _ in range(2):
        assert throttle.authenticate(nobody, key, "192.0.2.1") is None
    with pytest.raises(TooManyFailures):
        throttle.authenticate(nobody, key, "192.0.2.1")

    assert calls == [key, key]
    clock.now += 1
    assert throttle.authenticate(nobody, key, "192.0.2.1") is None
    assert len(calls) == 3


def test_the_throttle_forgets_buckets_rather_than_growing_without_bound() -> None:
    clock = FakeClock()
    throttle = FailedAuthentications(clock=clock)
    throttle.by_address.max_tracked = 100

    for n in range(1000):
        throttle.authenticate(lambda _: None, "not-a-key", f"10.0.{n // 256}.{n % 256}")

    assert len(throttle.by_address) <= 100
