"""Check API responses against the published OpenAPI document (/api/v1/openapi.json): the status code must be one the
operation declares, and a JSON body must match the declared schema (types, required keys, nested objects, arrays,
anyOf, additionalProperties). A small checker of the JSON Schema subset that Django Ninja emits."""

from __future__ import annotations

import re
from typing import Any

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def schema_problems(doc: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
    schema = _resolve(doc, schema)
    if "anyOf" in schema:
        options = [schema_problems(doc, option, value, where) for option in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{where}: matches no anyOf option ({options})"]
    problems: list[str] = []
    for part in schema.get("allOf", []):
        problems += schema_problems(doc, part, value, where)
    kind = schema.get("type")
    if kind is not None:
        allowed = JSON_TYPES[kind]
        if isinstance(value, bool) and kind in ("integer", "number"):
            return [f"{where}: boolean where {kind} expected"]
        if not isinstance(value, allowed):
            return [f"{where}: {type(value).__name__} where {kind} expected"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{where}: required key {key!r} missing")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                problems += schema_problems(doc, properties[key], item, f"{where}.{key}")
            elif extra is False:
                problems.append(f"{where}: key {key!r} not in the schema")
            elif isinstance(extra, dict):
                problems += schema_problems(doc, extra, item, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += schema_problems(doc, schema["items"], item, f"{where}[{index}]")
    return problems


def find_operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The operation of the most specific matching template: ``/meetings/{id}.ics`` before ``/meetings/{id}``,
    whose parameter would otherwise swallow ``5.ics``."""
    path = path.split("?", 1)[0]
    best: tuple[int, dict[str, Any]] | None = None
    for template, operations in doc["paths"].items():
        parts = re.split(r"\{[^}]+\}", template)
        pattern = "^" + "[^/]+".join(re.escape(part) for part in parts) + "$"
        literal = sum(len(part) for part in parts)
        if re.match(pattern, path) and (best is None or literal > best[0]):
            best = (literal, operations)
    return best[1].get(method.lower()) if best is not None else None


def response_problems(doc: dict[str, Any], method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
    """Problems of one response against the document; [] when it conforms. Raises if the operation is unknown."""
    import json

    operation = find_operation(doc, method, path)
    if operation is None:
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")
    declared = operation["responses"].get(str(status))
    if declared is None:
        return [f"status {status} is not declared for {method} {path} (declared: {sorted(operation['responses'])})"]
    content = declared.get("content", {})
    if status == 204:
        return [] if not body else ["204 with a body"]
    if "application/json" in content_type:
        if "application/json" not in content:
            return [f"JSON body, but {status} declares {sorted(content)}"]
        return schema_problems(doc, content["application/json"]["schema"], json.loads(body))
    if not content:
        return []
    media = content_type.split(";")[0].strip()
    if media not in content and "application/octet-stream" not in content:
        return [f"content type {media} not declared for {status}"]
    return []
