"""Schemathesis against the app's own OpenAPI schema: no 5xx, and every answer is as documented.

Bounded (a few examples per operation) so it runs in the suite; authenticated with a
secretariat key, on a store with one recommendation so some requests reach real data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rio.api.app import create_app
from rio.application.commands import RegisterRecommendation
from rio.domain.values import Source
from tests.api.conftest import SOURCE, settings_for

EXAMPLES = 5  # per operation and mode: about 250 requests in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(sqlite_url: str) -> Iterator[Any]:
    app = create_app(settings_for(sqlite_url))
    services = app.state.services
    key, _ = services.keys.create(name="fuzzer", role="secretariat", granted_by="test")
    app.state.fuzz_headers = {"Authorization": f"Bearer {key}"}
    rio = services.rio
    rio.register_recommendation(
        RegisterRecommendation(
            review="messenger-2022",
            number=1,
            title="Targeted interventions",
            text="",
            occurred=date(2022, 6, 8),
            source=Source(SOURCE["document"]),
            recorded_by="test",
        )
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", app, headers=app.state.fuzz_headers)
    services.close()


def test_the_api_answers_as_its_schema_says(api_schema: Any) -> None:
    headers = api_schema.app.state.fuzz_headers
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    cases = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def answers_as_documented(case: Any) -> None:
                nonlocal cases
                cases += 1
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                answers_as_documented()
            except Unsatisfiable:
                # Nothing to make invalid (GET /health takes no input).
                assert mode is GenerationMode.NEGATIVE
    assert cases >= 100
