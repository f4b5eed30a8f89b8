"""The OpenAPI document as a client generator and a reader of /docs use it: readable,
unique operation ids; a server; an example on every answer, valid against its own model;
and an example of each error status worded as RIO words it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.dataclasses import is_pydantic_dataclass

from rio.api import schemas
from rio.api.problems import MEDIA_TYPE
from rio.api.routes import audit, health, reviews
from tests.api.conftest import Api

MODELS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(value)
    for module in (schemas, audit, health, reviews)
    for name, value in vars(module).items()
    if isinstance(value, type) and (issubclass(value, BaseModel) or is_pydantic_dataclass(value))
}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def test_operation_ids_are_unique_and_read_as_a_client_method(sqlite_api: Api) -> None:
    schema = sqlite_api.app.openapi()
    ids = [operation["operationId"] for _, _, operation in operations(schema)]

    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i) for i in ids), ids
    by_route = {(m, p): o["operationId"] for m, p, o in operations(schema)}
    assert by_route[("post", "/reviews/{review}/recommendations")] == "registerRecommendation"
    assert by_route[("get", "/status")] == "getStatus"
    assert (
        by_route[("post", "/reviews/{review}/recommendations/{number}/commitments")]
        == "makeCommitment"
    )


def test_the_schema_names_the_server_it_describes(sqlite_api: Api) -> None:
    base = sqlite_api.app.state.services.settings.base_url

    assert sqlite_api.app.openapi()["servers"] == [{"url": base, "description": "This RIO"}]


def answer_models(schema: dict[str, Any]) -> set[str]:
    """Every component schema a 2xx answer is, or holds (followed through $refs)."""
    components = schema["components"]["schemas"]
    found: set[str] = set()

    def follow(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name not in found:
                    found.add(name)
                    follow(components[name])
            for value in node.values():
                follow(value)
        elif isinstance(node, list):
            for value in node:
                follow(value)

    for _, _, operation in operations(schema):
        for status, answer in operation["responses"].items():
            if str(status).startswith("2"):
                follow(answer.get("content", {}))
    return found


def test_every_answer_schema_has_an_example_its_model_accepts(sqlite_api: Api) -> None:
    schema = sqlite_api.app.openapi()
    components = schema["components"]["schemas"]
    names = answer_models(schema)

    assert len(names) >= 21
    missing = [n for n in sorted(names) if not components[n].get("examples")]
    assert missing == []
    for name in sorted(names):
        for example in components[name]["examples"]:
            MODELS[name].validate_python(example)  # raises if the example is not a real answer


def test_each_error_status_has_its_own_example(sqlite_api: Api) -> None:
    schema = sqlite_api.app.openapi()
    examples: dict[str, dict[str, Any]] = {}
    for _, _, operation in operations(schema):
        for status, answer in operation["responses"].items():
            problem = answer.get("content", {}).get(MEDIA_TYPE)
            if problem is None:
                continue
            assert "example" in problem, (operation["operationId"], status)
            assert problem["example"]["status"] == int(status)
            schemas.Problem.model_validate(problem["example"])
            examples[status] = problem["example"]

    assert {"401", "403", "404", "409", "412", "413", "422", "429", "503"} <= examples.keys()
    details = [e["detail"] for e in examples.values()]
    assert len(set(details)) == len(details)  # not the same 422 everywhere
