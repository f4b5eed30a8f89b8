"""/docs with no network: Swagger UI comes from the installed package, not a CDN.

A browser that may reach only the server under test (every request to another host is
aborted) still renders the API's operations, and the page asks no other host for anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import ARTIFACTS, TIMEOUT_MS, playwright_browser, serving, store

__all__ = ["playwright_browser", "store"]  # fixtures, used by name


@pytest.fixture(scope="module")
def docs_server(
    store: tuple[str, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve-docs") / "serve.log"
    with serving(store[0], log, RIO_API_PUBLIC_DOCS="true") as base:
        yield base


def test_the_api_docs_render_with_every_other_host_blocked(
    playwright_browser: Any, docs_server: str
) -> None:
    own = urlsplit(docs_server).netloc
    elsewhere: list[str] = []

    def only_our_server(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context = playwright_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        context.route("**/*", only_our_server)
        page = context.new_page()
        page.goto(f"{docs_server}/docs")
        operations = page.locator(".opblock")
        operations.first.wait_for()
        assert operations.count() >= 10
        assert page.locator(".opblock-summary-path", has_text="/health").count() >= 1
        assert "RIO" in page.locator(".info .title").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "api-docs-offline.png"))
        assert elsewhere == []  # nothing was even asked of another host
    finally:
        context.close()
