# mypy: disable-error-code="no-untyped-call"
"""GBNF grammars from pydantic models, via llama.cpp's own JSON-schema converter, with two fixes.

``llama_cpp.llama_grammar.SchemaConverter`` ignores integer ``minimum``/``maximum`` (a TODO
in its source: the grammar accepts ``-9999999999999999`` for a 0-100 field) and its string
``char`` rule admits raw control characters (a newline inside a string is invalid JSON).
The subclass below writes bounded integers as an explicit alternation and excludes
U+0000-U+001F from string characters; everything else is the converter's.
"""

from __future__ import annotations

import json
from typing import Any

from llama_cpp.llama_grammar import PRIMITIVE_RULES, BuiltinRule, SchemaConverter
from pydantic import BaseModel

# Ranges up to this many values become an alternation; wider ones keep the unbounded rule
# (and pydantic's validation after decoding catches what the grammar let through).
MAX_ENUMERATED_INTEGERS = 1001
CHAR_WITHOUT_CONTROLS = BuiltinRule(
    PRIMITIVE_RULES["char"].content.replace(r'[^"\\]', r'[^"\\\x00-\x1f]', 1), PRIMITIVE_RULES["char"].deps
)


def _bounds(schema: dict[str, Any]) -> tuple[int, int] | None:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is None or high is None:
        return None
    low = int(low) + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    high = int(high) - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
    return (low, high) if high - low + 1 <= MAX_ENUMERATED_INTEGERS else None


class BoundedSchemaConverter(SchemaConverter):
    def visit(self, schema: dict[str, Any], name: str) -> str:
        bounds = _bounds(schema) if schema.get("type") == "integer" else None
        if bounds is not None:
            low, high = bounds
            rule_name = f"{name}-int" if name else "root"
            alternatives = " | ".join(f'"{value}"' for value in range(low, high + 1))
            result: str = self._add_rule(rule_name, f"({alternatives}) space")
            return result
        visited: str = super().visit(schema, name)
        return visited

    def _add_primitive(self, name: str, rule: BuiltinRule) -> str:
        added: str = super()._add_primitive(name, CHAR_WITHOUT_CONTROLS if name == "char" else rule)
        return added


def gbnf_for(model: type[BaseModel]) -> str:
    """The grammar of ``model``'s JSON, keys in declaration order."""
    schema = model.model_json_schema()
    converter = BoundedSchemaConverter(
        prop_order={name: i for i, name in enumerate(model.model_fields)},
        allow_fetch=False,
        dotall=False,
        raw_pattern=False,
    )
    schema = converter.resolve_refs(schema, "schema")
    converter.visit(schema, "")
    grammar: str = converter.format_grammar()
    return grammar


def schema_json(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema())
