"""Pydantic validation errors turned into short messages located at YAML nodes.

pydantic reports a ``loc`` (a path such as ``("agents", "critic", "retries")``) and
a generic message; a user wants ``retries: expected an integer, got 'three'`` at the
line of the bad value, and ``did you mean 'prompt'?`` for a misspelt key.
"""

from __future__ import annotations

import difflib
import re
import types
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from agentrun.loading.model_base import OpenModel, or_default
from agentrun.loading.positions import Loc, Position, Positions
from agentrun.loading.spec import Paradigm
from agentrun.loading.yaml_hints import text_type_hint

if TYPE_CHECKING:
    from agentrun.registry import Registry

_ENTITIES = {"agents": "agent", "providers": "provider", "imperatives": "imperative"}
_EXPECTATIONS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}
_MAX_LISTED_KEYS = 12


def translate_errors(
    exc: ValidationError, data: Any, positions: Positions, registry: Registry | None = None
) -> list[tuple[Position, str]]:
    """Turn every error of a ``ValidationError`` into a message at the nearest node.

    Alternatives of a union (``str | list[str]``) arrive as one error each; they are
    merged into one message, or dropped when another alternative got further into
    the value (that one says what is really wrong). ``registry`` holds the provider and
    check types whose keys the file may use (for "did you mean" hints).
    """
    registry = or_default(registry)
    located = [(*_split_loc(error["loc"], data, error["type"]), error) for error in exc.errors()]
    went_deeper = {at for real, at, _ in located if at is not None and len(real) > len(at)}
    groups: dict[Loc, list[ErrorDetails]] = {}
    for real, at, error in located:
        if at is not None and real == at and at in went_deeper:
            continue
        groups.setdefault(real, []).append(error)
    return [_problem(real, errors, data, positions, registry) for real, errors in groups.items()]


def _split_loc(loc: tuple[int | str, ...], data: Any, kind: str) -> tuple[Loc, Loc | None]:
    """The part of ``loc`` found in the data, and where a union tag interrupted it, if any."""
    real: list[str | int] = []
    union_at: Loc | None = None
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif kind == "missing" and index == len(loc) - 1:
            node = None
        else:  # a union member's tag such as 'list[str]', or '[key]'
            union_at = tuple(real) if union_at is None else union_at
            continue
        real.append(part)
    return tuple(real), union_at


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def _problem(
    loc: Loc, errors: list[ErrorDetails], data: Any, positions: Positions, registry: Registry
) -> tuple[Position, str]:
    first = errors[0]
    if first["type"] == "missing":
        parent = loc[:-1]
        where = Position(1, 1) if not parent else positions.locate_key(parent)
        suffix = f" in {_label(parent)}" if parent else ""
        return where, f"missing required key {loc[-1]!r}{suffix}"
    if first["type"] == "extra_forbidden":
        return positions.locate_key(loc), _unknown_key(loc, registry)
    value = _value_at(data, loc)
    where = positions.locate_key(loc) if isinstance(value, dict) else positions.locate(loc)
    if len(loc) > 0 and any("[key]" in error["loc"] for error in errors):
        key = first["input"]
        why = (
            " (YAML reads unquoted yes, no, on and off as booleans)" if key in (True, False) else ""
        )
        return positions.locate_key(loc), f"key {_shown(key)} must be a string; quote it{why}"
    label = _label(loc)
    expected = [_expectation(error) for error in errors]
    if all(e is not None for e in expected):
        wanted = " or ".join(dict.fromkeys(e for e in expected if e is not None))
        why = text_type_hint(loc[-1], value) if wanted == "a string" and loc else ""
        return where, f"{label}: expected {wanted}, got {_shown(value)}{why}"
    if first["type"] == "too_short" and not value:
        return where, f"{label}: must not be empty"
    message = _message(next(e for e, x in zip(errors, expected, strict=True) if x is None))
    if len(loc) == 2 and loc[0] in _ENTITIES:  # the message already names the entity's rule
        return where, message
    return where, f"{label}: {message}"


def _expectation(error: ErrorDetails) -> str | None:
    """What the value should have been, when the error is a plain type or bound mismatch."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _EXPECTATIONS:
        return _EXPECTATIONS[kind]
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", ""))) or [
            str(ctx.get("expected", "")).replace("True", "true")
        ]
        return options[0] if len(options) == 1 else "one of " + ", ".join(options)
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        bound = ctx.get(key)
        return (
            f"a value {sign} {bound:g}" if isinstance(bound, float) else f"a value {sign} {bound}"
        )
    return None


def _message(error: ErrorDetails) -> str:
    ctx = error.get("ctx", {})
    if error["type"] in ("too_short", "too_long"):
        bound = ctx.get("min_length", ctx.get("max_length"))
        word = "least" if error["type"] == "too_short" else "most"
        return f"expected at {word} {bound} item{'s' if bound != 1 else ''}"
    if "error" in ctx:
        return str(ctx["error"])
    return str(error["msg"]).removeprefix("Value error, ")


def _label(loc: Loc) -> str:
    """How a message names the node at ``loc``: a field path within its entity."""
    if not loc:
        return "the top level"
    if len(loc) >= 2 and loc[0] in _ENTITIES:
        if len(loc) == 2:
            return f"{_ENTITIES[str(loc[0])]} {loc[1]!r}"
        loc = loc[2:]
    elif len(loc) >= 2 and loc[0] == "stages" and isinstance(loc[1], int):
        if len(loc) == 2:
            return f"stage {loc[1] + 1}"
        loc = loc[2:]
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    text = repr(value)
    # Never cut a long value short: a cut could split a secret and defeat its redaction.
    return text if len(text) <= 60 else f"a value of {len(str(value))} characters"


def _unknown_key(loc: Loc, registry: Registry) -> str:
    parent, key = loc[:-1], loc[-1]
    where = " at the top level" if not parent else f" in {_label(parent)}"
    message = f"unknown key {key!r}{where}"
    allowed = _allowed_keys(parent, registry)
    close = difflib.get_close_matches(str(key), allowed, n=1)
    if close:
        return f"{message} (did you mean {close[0]!r}?)"
    if allowed and len(allowed) <= _MAX_LISTED_KEYS:
        return f"{message} (allowed: {', '.join(allowed)})"
    return message


def _allowed_keys(loc: Loc, registry: Registry) -> list[str]:
    """The keys the model at ``loc`` accepts (aliases where set), in declaration order."""
    annotation: Any = Paradigm
    for part in loc:
        annotation = _step(annotation, part, registry)
    for model in _alternatives(annotation):
        if isinstance(model, type) and issubclass(model, BaseModel):
            keys = [info.alias or name for name, info in model.model_fields.items()]
            if issubclass(model, OpenModel):
                keys += [key for key in model.open_keys(registry) if key not in keys]
            return keys
    return []


def _step(annotation: Any, part: str | int, registry: Registry) -> Any:
    """The type found one step below ``annotation`` along ``part``."""
    for candidate in _alternatives(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            fields = dict(candidate.model_fields)
            if issubclass(candidate, OpenModel) and part not in fields:
                owner = candidate.open_keys(registry).get(str(part))
                fields = {
                    info.alias or name: info
                    for name, info in (owner.model_fields if owner else {}).items()
                }
            for name, info in fields.items():
                if part in (name, info.alias):
                    return info.annotation
        origin = get_origin(candidate)
        if origin is list and isinstance(part, int):
            return get_args(candidate)[0]
        if origin is dict:
            return get_args(candidate)[1]
    return None


def _alternatives(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _alternatives(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [alt for arg in get_args(annotation) for alt in _alternatives(arg)]
    return [annotation]
