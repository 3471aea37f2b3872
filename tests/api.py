"""Calling the JSON API in tests, with every answer checked against the
OpenAPI document (so the document stays true)."""

from __future__ import annotations

import json
import re
from typing import Any

from converter.openapi import document

DOC = document()


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
    "null": type(None),
}


def check(value: Any, schema: dict, path: str = "$") -> None:
    """The subset of JSON Schema the document uses: type (or types), required,
    properties, additionalProperties, items, enum, pattern. Raises AssertionError."""
    schema = _resolve(schema)
    _check_scalar(value, schema, path)
    if isinstance(value, dict):
        _check_object(value, schema, path)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], f"{path}[{i}]")


def _check_scalar(value: Any, schema: dict, path: str) -> None:
    """type (or types), enum, pattern."""
    types = schema.get("type")
    if types:
        types = [types] if isinstance(types, str) else types
        ok = any(
            isinstance(value, _TYPES[t])
            and not (t in ("integer", "number") and isinstance(value, bool))
            for t in types
        )
        assert ok, f"{path}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if "pattern" in schema and isinstance(value, str):
        assert re.search(schema["pattern"], value), f"{path}: {value!r} !~ {schema['pattern']}"


def _check_object(value: dict, schema: dict, path: str) -> None:
    """required, properties, additionalProperties."""
    for name in schema.get("required", []):
        assert name in value, f"{path}: missing {name}"
    properties = schema.get("properties", {})
    for name, item in value.items():
        if name in properties:
            check(item, properties[name], f"{path}.{name}")
        elif isinstance(schema.get("additionalProperties"), dict):
            check(item, schema["additionalProperties"], f"{path}.{name}")
        elif schema.get("type") == "object" and properties:
            raise AssertionError(f"{path}: {name} is not documented")


def auth(key_id: str, secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key_id}:{secret}"}


def call(
    client,
    action: str,
    body: dict | None = None,
    key: tuple[str, str] | None = None,
    expect: int | None = 200,
    raw: bytes | None = None,
) -> dict:
    """POST /api/v1/<action>; checks the status (when ``expect``) and the
    documented shape of the answer, success or error."""
    headers = auth(*key) if key else {}
    data = raw if raw is not None else json.dumps(body or {}, ensure_ascii=False).encode()
    response = client.post(
        f"/api/v1/{action}", data=data, content_type="application/json", **headers
    )
    payload = response.json()
    if expect is not None:
        assert response.status_code == expect, (response.status_code, payload)
    operation = DOC["paths"].get(f"/api/v1/{action}", {}).get("post")
    if response.status_code == 200:
        assert operation, f"{action} answered 200 but is not documented"
        check(payload, operation["responses"]["200"]["content"]["application/json"]["schema"])
    else:
        if operation:
            assert str(response.status_code) in operation["responses"], response.status_code
        check(payload, {"$ref": "#/components/schemas/Error"})
        assert set(payload) == {"RequestId", "Code", "Message"}
    payload["_status"] = response.status_code
    return payload
