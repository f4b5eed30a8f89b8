"""OpenAPI links: which answer names the resource another operation takes in its path.

Links let a client (and schemathesis' stateful phase) chain calls on real data: register a
recommendation, then read, note or commit on *that* recommendation; make a commitment, then
revise, deliver or withdraw *it*; grant a key, then read or revoke *it*. They are derived
from the schema itself, so a new route is linked without being listed here:

- PRODUCED says, for each answer that reports something recorded, where in its body it
  names the path parameters of what it recorded (the table is the one place to edit);
- a required field of the request body named like a path parameter (`commitment` in a
  commitment) names it too, from the request;
- an operation is linked to every operation whose path parameters it can all fill, at
  least one of them with something it produced itself (not just passed through its path).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi.routing import APIRoute

# Answer schema -> path parameter -> JSON pointer into that answer's body.
PRODUCED: Mapping[str, Mapping[str, str]] = {
    "CommandResult": {"review": "/review", "number": "/number", "version": "/version"},
    # A batch names each recommendation it touched; the first one is linked.
    "BatchResultOut": {
        "review": "/review",
        "number": "/recommendations/0/number",
        "version": "/recommendations/0/version",
    },
    "KeyCreated": {"key_id": "/key_id"},
}

_PARAMETER = re.compile(r"{([^}]+)}")
_REF = "#/components/schemas/"


@dataclass(frozen=True)
class _Operation:
    path: str
    method: str
    spec: dict[str, Any]

    @property
    def path_parameters(self) -> frozenset[str]:
        return frozenset(_PARAMETER.findall(self.path))

    @property
    def operation_id(self) -> str:
        return str(self.spec["operationId"])


def add_links(schema: dict[str, Any]) -> None:
    """Write `links` into each 2xx answer of `schema` (FastAPI's OpenAPI dict) in place."""
    components = schema.get("components", {}).get("schemas", {})
    operations = list(_operations(schema))
    for producer in operations:
        for status, answer in producer.spec.get("responses", {}).items():
            if not str(status).startswith("2"):
                continue
            values = _values(producer, answer, components)
            new = set(values) - producer.path_parameters
            links = {
                consumer.operation_id: {
                    "operationId": consumer.operation_id,
                    "parameters": {name: values[name] for name in sorted(needs)},
                }
                for consumer in operations
                if (needs := consumer.path_parameters)
                and needs <= values.keys()
                and needs & new
                and consumer is not producer
            }
            if links:
                answer["links"] = links


def _operations(schema: dict[str, Any]) -> Iterator[_Operation]:
    for path, methods in schema.get("paths", {}).items():
        for method, spec in methods.items():
            if isinstance(spec, dict) and "operationId" in spec:
                yield _Operation(path, method, spec)


def _values(
    producer: _Operation, answer: dict[str, Any], components: dict[str, Any]
) -> dict[str, str]:
    """Each path parameter `producer`'s `answer` can fill, as a runtime expression."""
    values = {name: f"$request.path.{name}" for name in producer.path_parameters}
    body = _model(producer.spec.get("requestBody", {}))
    for name in components.get(body, {}).get("required", []) if body else []:
        values[name] = f"$request.body#/{name}"
    for name, pointer in PRODUCED.get(_model(answer) or "", {}).items():
        values[name] = f"$response.body#{pointer}"
    return values


def _model(holder: dict[str, Any]) -> str | None:
    """The component schema a request body or an answer is, if it is one."""
    ref = holder.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return ref.removeprefix(_REF) if isinstance(ref, str) and ref.startswith(_REF) else None


def operation_id(route: APIRoute) -> str:
    """An operation's id from its handler's name, as client generators want it:
    `register_recommendation` -> `registerRecommendation` (tests check they are unique)."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)
