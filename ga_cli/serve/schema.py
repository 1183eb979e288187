"""A JSON schema checked before it becomes a llama.cpp grammar.

llama.cpp's converter and grammar engine trust their input: an empty `enum`, `anyOf` or `type`
list, a NUL character, or a `maxLength` of ten thousand crash libllama (a segfault, or an abort
on "Unexpected empty grammar stack") and take the whole server down. So a schema is read here
first: only the keywords the converter honours, every list non-empty, every bound small enough,
and keywords it would silently ignore (`minimum`, `multipleOf`, ...) refused by name rather
than answered with JSON that breaks them.
"""

from __future__ import annotations

import re
from typing import Any

TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
# what llama.cpp's json_schema_to_gbnf turns into grammar rules
HONOURED = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "$defs",
    "definitions",
    "pattern",
    "format",
    "minLength",
    "maxLength",
}
# words about the schema, not constraints: nothing to honour
ANNOTATIONS = {"title", "description", "$schema", "$id", "$comment", "default", "examples"}
MAX_REPEAT = 256  # minLength/maxLength/minItems/maxItems: each unit is a grammar rule
MAX_NODES = 1_000  # schemas (properties, items, alternatives, ...) in one request
MAX_DEPTH = 16
MAX_TEXT = 1_000  # characters in one const, enum value, pattern or property name
MAX_GRAMMAR = 64_000  # characters of the GBNF it becomes


class SchemaError(ValueError):
    """A schema ga serve cannot honour safely; the message names the keyword and where."""


def check(schema: Any) -> None:
    """Raise SchemaError naming the first keyword that cannot be honoured safely."""
    _Walk().schema(schema, "schema", 0)


class _Walk:
    def __init__(self) -> None:
        self.nodes = 0

    def schema(self, node: Any, at: str, depth: int) -> None:
        if isinstance(node, bool):  # `true` (anything) and `false` (nothing)
            if node is False:
                raise SchemaError(f"{at} is `false`: no answer could match it")
            return
        if not isinstance(node, dict):
            raise SchemaError(f"{at} must be a JSON schema object")
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SchemaError(f"the schema has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise SchemaError(f"{at} is nested more than {MAX_DEPTH} levels deep")
        for key in node:
            if not isinstance(key, str) or (key not in HONOURED and key not in ANNOTATIONS):
                raise SchemaError(
                    f"{at}.{key} is not supported: ga serve's constrained decoding cannot "
                    f"honour it (supported: {', '.join(sorted(HONOURED))})"
                )
        self.types(node, at)
        self.values(node, at)
        self.bounds(node, at)
        self.parts(node, at, depth)
        self.strings(node, at)

    def parts(self, node: dict[str, Any], at: str, depth: int) -> None:
        """The schemas inside this one: alternatives, properties, items."""
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if key in node:
                self.alternatives(node[key], f"{at}.{key}", depth)
        for key in ("properties", "$defs", "definitions"):
            if key in node:
                self.named(node[key], f"{at}.{key}", depth)
        if "required" in node:
            required = node["required"]
            if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
                raise SchemaError(f"{at}.required must be a list of property names")
            for name in required:
                self.text(name, f"{at}.required")
        for key in ("items", "additionalProperties"):
            if key in node and not isinstance(node[key], bool):
                self.schema(node[key], f"{at}.{key}", depth + 1)

    def strings(self, node: dict[str, Any], at: str) -> None:
        """$ref, pattern and format: bounded text, local references, bounded repeats."""
        for key in ("$ref", "pattern", "format"):
            if key in node:
                if not isinstance(node[key], str):
                    raise SchemaError(f"{at}.{key} must be a string")
                self.text(node[key], f"{at}.{key}")
        if isinstance(node.get("pattern"), str):
            counts = re.findall(r"\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}", node["pattern"])
            if any(int(n or 0) > MAX_REPEAT for pair in counts for n in pair):
                raise SchemaError(f"{at}.pattern repeats something over {MAX_REPEAT} times")
        if isinstance(node.get("$ref"), str) and not node["$ref"].startswith("#/"):
            raise SchemaError(f"{at}.$ref must point inside the schema (`#/$defs/...`)")

    def types(self, node: dict[str, Any], at: str) -> None:
        if "type" not in node:
            return
        given = node["type"]
        listed = given if isinstance(given, list) else [given]
        if not listed:
            raise SchemaError(f"{at}.type is an empty list: no answer could match it")
        for t in listed:
            if t not in TYPES:
                raise SchemaError(f"{at}.type must be one of {', '.join(TYPES)}, not {t!r}")

    def values(self, node: dict[str, Any], at: str) -> None:
        if "enum" in node:
            options = node["enum"]
            if not isinstance(options, list) or not options:
                raise SchemaError(f"{at}.enum must be a non-empty list")
            if len(options) > MAX_NODES:
                raise SchemaError(f"{at}.enum has more than {MAX_NODES} values")
            for value in options:
                self.literal(value, f"{at}.enum")
        if "const" in node:
            self.literal(node["const"], f"{at}.const")

    def bounds(self, node: dict[str, Any], at: str) -> None:
        for low, high in (("minLength", "maxLength"), ("minItems", "maxItems")):
            for key in (low, high):
                value = node.get(key)
                if key not in node:
                    continue
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise SchemaError(f"{at}.{key} must be a whole number, 0 or more")
                if value > MAX_REPEAT:
                    raise SchemaError(f"{at}.{key} is {value}; at most {MAX_REPEAT}")
            if low in node and high in node and node[low] > node[high]:
                raise SchemaError(f"{at}.{low} ({node[low]}) is above {high} ({node[high]})")

    def alternatives(self, options: Any, at: str, depth: int) -> None:
        if not isinstance(options, list) or not options:
            raise SchemaError(f"{at} must be a non-empty list of schemas")
        for i, option in enumerate(options):
            self.schema(option, f"{at}[{i}]", depth + 1)

    def named(self, schemas: Any, at: str, depth: int) -> None:
        if not isinstance(schemas, dict):
            raise SchemaError(f"{at} must map names to schemas")
        for name, sub in schemas.items():
            self.text(name, at)
            self.schema(sub, f"{at}.{name}", depth + 1)

    def literal(self, value: Any, at: str, depth: int = 0) -> None:
        """A const or enum value: any JSON, with no NUL and no oversized text inside."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise SchemaError(f"the schema has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise SchemaError(f"{at} is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, str):
            self.text(value, at)
        elif isinstance(value, list):
            for item in value:
                self.literal(item, at, depth + 1)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.text(key, at)
                self.literal(item, at, depth + 1)

    def text(self, value: str, at: str) -> None:
        if "\0" in value:
            raise SchemaError(f"{at} holds a NUL character (\\u0000), which a grammar cannot")
        if len(value) > MAX_TEXT:
            raise SchemaError(f"{at} holds a text over {MAX_TEXT} characters")
