"""Reading a written value (text, JSON, a number, a schema) and folding it into a key."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from agentrun.coordination.rules import KeyRule


class WriteError(ValueError):
    """A value that cannot be written to its key (a violation named ``state.KEY``)."""


def read_value(rule: KeyRule, text: str, validator: Any | None) -> Any:
    """The value ``text`` stands for under ``rule``.

    Raises:
        WriteError: it does not parse, is not a number for ``add``, not an object for
            ``merge``, or breaks the key's schema.
    """
    value: Any = text
    if rule.parses_json:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise WriteError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if rule.reducer == "add" and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise WriteError(f"add needs a number, got {text[:40]!r}")
    if rule.reducer == "merge" and not isinstance(value, dict):
        raise WriteError(f"merge needs a JSON object, got {type(value).__name__}")
    if validator is not None:
        error = best_match(validator.iter_errors(value))
        if error is not None:
            raise WriteError(f"breaks the schema: {error.message}")
    return value


def validator_for(rule: KeyRule) -> Any | None:
    """A compiled JSON Schema validator for the key, if it has a schema."""
    if rule.schema is None:
        return None
    schema = dict(rule.schema)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


def reduce(reducer: str, current: Any, value: Any) -> Any:
    """The key's new value; never mutates ``current`` (snapshots keep the old one)."""
    if reducer == "append":
        return (*current, value)
    if reducer == "merge":
        return {**current, **value}
    if reducer == "add":
        return current + value
    return value


def frozen_initial(reducer: str, value: Any) -> Any:
    """An initial value in the board's immutable form (lists of ``append`` become tuples)."""
    if reducer == "append" and isinstance(value, list):
        return tuple(value)
    return value
