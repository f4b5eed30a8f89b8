"""What the browser tests share: Debian's chromium driven by Playwright, a Messenger store,
and `rio serve` on it as an operator runs it.

Never a browser build of Playwright's own: without /usr/bin/chromium (`make browser`
installs it) the tests skip locally and fail when CI is set. Import the fixtures by name
into a test module: each module then gets one browser and one store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rio.application.keys import Keys
from rio.application.service import RIO
from rio.scenario import batches, read
from tests.conftest import MESSENGER, REPO
from tests.support.serving import free_port, wait_until_serving

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
RIO_COMMAND = str(Path(sys.executable).parent / "rio")
REVIEW = "messenger-2022"
# Generous on a busy two-core machine: waits end as soon as their condition holds.
TIMEOUT_MS = 30_000


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        unavailable("Debian's chromium is not at /usr/bin/chromium: `make browser` installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed: `make` installs the dev extras")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A SQLite store with the Messenger scenario, and a key for each role the tests use."""
    directory = tmp_path_factory.mktemp("board")
    url = f"sqlite:///{directory / 'rio.db'}"
    rio = RIO(url)
    try:
        scenario, lines = read(MESSENGER)
        rio.record_batch(batches(scenario, lines, str(MESSENGER), "test"))
        keys = Keys(rio)
        issued = {
            role: keys.create(name=f"{role} holder", role=role, granted_by="test")[0]
            for role in ("auditor", "admin")
        }
    finally:
        rio.close()
    yield url, issued


@contextmanager
def serving(url: str, log: Path, **settings: str) -> Iterator[str]:
    """`rio serve` on a free port, as an operator runs it; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "RIO_DATABASE_URL": url,
        "RIO_API_RATE_PER_MINUTE": "0",
        "RIO_LOG_FORMAT": "json",
        "RIO_SESSION_SECRET": "browser-test-secret",
        **settings,
    }
    with log.open("ab") as out:
        server = subprocess.Popen(
            [RIO_COMMAND, "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server, log)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def sign_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/board/{REVIEW}?as_at=2024-06-01")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/board/{REVIEW}?as_at=2024-06-01")


def fill_date(page: Any, name: str, iso: str) -> None:
    """Types `iso` (YYYY-MM-DD) into the day, month and year boxes of the date field `name`."""
    year, month, day = iso.split("-")
    group = page.get_by_role("group", name=_LEGENDS.get(name, name), exact=True)
    group.get_by_label("Day").fill(str(int(day)))
    group.get_by_label("Month").fill(str(int(month)))
    group.get_by_label("Year").fill(year)


_LEGENDS = {
    "as_at": "As at",
    "promised_as_at": "Promises as at",
    "delivered_as_at": "Outcomes as at",
    "public_at": "As the public record stood on (auditors)",
}
