"""Strict JSON schemas derived from Moneybird's official OpenAPI spec.

The spec's response schemas list no required fields, so ``{}`` would pass them. The derivation here:

* every property the spec lists, with the spec's types, enums and patterns;
* ``additionalProperties: false`` on every object that lists properties (``allOf`` parts merged first);
  where the spec leaves an object open (no ``unevaluatedProperties: false``, e.g. ``non_symbolic_error``
  whose examples all carry ``details``), the properties its examples carry are admitted, untyped;
* ``required``: the properties that every one of the spec's own examples of that schema carries
  (examples are matched to schemas by walking each operation's response examples along its schema).

:func:`response_schema` gives the strict schema of one operation's response; validate with
:func:`validator`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from tests.support.paths import TEST_DATA

SPEC_PATH = TEST_DATA / "moneybird" / "openapi.json"
_KEEP = ("type", "enum", "pattern", "minimum", "maximum", "format", "const")


@cache
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data


def _component(ref: str) -> tuple[str, dict[str, Any]]:
    parts = ref.split("/")
    node: Any = spec()
    for part in parts[1:]:
        node = node[part]
    return parts[-1], node


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                yield method.upper(), path, op


def _response(op: dict[str, Any], status: str) -> dict[str, Any] | None:
    response = op["responses"].get(status)
    if response is None:
        return None
    if "$ref" in response:
        response = _component(response["$ref"])[1]
    content = response.get("content", {}).get("application/json")
    return content if isinstance(content, dict) else None


def response_examples(method: str, path: str, status: str) -> list[Any]:
    op = spec()["paths"][path][method.lower()]
    content = _response(op, status)
    if content is None:
        return []
    return [example["value"] for example in content.get("examples", {}).values() if "value" in example]


# --------------------------------------------------------------------------- example instances


def _key(schema: dict[str, Any], name: str | None) -> str:
    return name if name is not None else f"inline:{id(schema)}"


def _walk(value: Any, schema: dict[str, Any], seen: dict[str, list[set[str]]], name: str | None = None) -> None:
    if "$ref" in schema:
        ref_name, target = _component(schema["$ref"])
        _walk(value, target, seen, ref_name)
        return
    if isinstance(value, dict) and (schema.get("properties") or schema.get("allOf")):
        seen.setdefault(_key(schema, name), []).append(set(value))
    for part in schema.get("allOf", []):
        _walk(value, part, seen)
    for keyword in ("oneOf", "anyOf"):
        for part in schema.get(keyword, []):
            _walk(value, part, seen)
    if isinstance(value, dict):
        for prop, sub in _properties(schema).items():
            if prop in value:
                _walk(value[prop], sub, seen)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _walk(item, schema["items"], seen)


@cache
def _instances() -> dict[str, list[set[str]]]:
    seen: dict[str, list[set[str]]] = {}
    for _method, _path, op in operations():
        for status in op["responses"]:
            content = _response(op, status)
            if content is None or "schema" not in content:
                continue
            for example in content.get("examples", {}).values():
                if "value" in example:
                    _walk(example["value"], content["schema"], seen)
    return seen


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    """Properties of an object schema, ``allOf`` parts (and their refs) merged."""
    props: dict[str, Any] = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        target = _component(part["$ref"])[1] if "$ref" in part else part
        props.update(_properties(target))
    return props


# --------------------------------------------------------------------------- strict schemas


def _strict(schema: dict[str, Any], defs: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    if "$ref" in schema:
        ref_name, target = _component(schema["$ref"])
        if ref_name not in defs:
            defs[ref_name] = {}  # placeholder against recursion
            defs[ref_name] = _strict(target, defs, ref_name)
        return {"$ref": f"#/$defs/{ref_name}"}
    out: dict[str, Any] = {k: schema[k] for k in _KEEP if k in schema}
    props = _properties(schema)
    if props:
        out["type"] = "object"
        out["properties"] = {prop: _strict(sub, defs) for prop, sub in props.items()}
        out["additionalProperties"] = False
        instances = _instances().get(_key(schema, name), [])
        if schema.get("unevaluatedProperties") is not False:
            # An open schema in the spec: properties its own examples carry are admitted, untyped.
            for extra in sorted(set().union(*instances) - set(props)):
                out["properties"][extra] = {}
        if instances:
            out["required"] = sorted(set.intersection(*instances) & set(props))
    elif isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = _strict(schema["additionalProperties"], defs)
    elif "additionalProperties" in schema:
        out["additionalProperties"] = schema["additionalProperties"]
    if isinstance(schema.get("items"), dict):
        out["items"] = _strict(schema["items"], defs)
    for keyword in ("oneOf", "anyOf"):
        if keyword in schema:
            out[keyword] = [_strict(part, defs) for part in schema[keyword]]
    return out


@cache
def response_schema_json(method: str, path: str, status: str) -> str:
    op = spec()["paths"][path][method.lower()]
    content = _response(op, status)
    if content is None or "schema" not in content:
        raise KeyError(f"{method} {path} {status}: no JSON response in the spec")
    defs: dict[str, Any] = {}
    root = _strict(content["schema"], defs)
    return json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": defs})


def response_schema(method: str, path: str, status: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(response_schema_json(method, path, status))
    return result


def validator(method: str, path: str, status: str) -> Draft202012Validator:
    return Draft202012Validator(response_schema(method, path, status))


def errors(method: str, path: str, status: str, body: Any) -> list[str]:
    """Human-readable violations of the strict schema (empty when the body conforms)."""
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in validator(method, path, status).iter_errors(body)]
