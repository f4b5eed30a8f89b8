"""/docs is served with its Swagger UI assets from the installed package (issue 15): the
page names no other host, so it works offline; the browser test (tests/e2e/
test_api_docs_offline.py) renders it with every other host blocked."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from rio.api.app import create_app
from tests.api.conftest import settings_for


def test_the_docs_page_loads_its_assets_from_this_server_only(sqlite_url: str) -> None:
    with TestClient(create_app(settings_for(sqlite_url, api_public_docs=True))) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
            r"url: '([^']+)'", page.text
        )
        assert urls and all(url.startswith("/") for url in urls), urls
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
            answer = client.get(f"/docs/assets/{asset}")  # no key: the docs are public
            assert answer.status_code == 200, asset
            assert len(answer.content) > 500
        assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text
        assert client.get("/openapi.json").status_code == 200


def test_without_public_docs_there_is_no_docs_page_and_its_assets_need_a_key(
    sqlite_url: str,
) -> None:
    with TestClient(create_app(settings_for(sqlite_url))) as client:
        assert client.get("/docs").status_code in (401, 404)
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code in (401, 404)
        assert client.get("/openapi.json").status_code == 401
