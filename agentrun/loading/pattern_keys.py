"""Top-level keys a pattern owns (``rounds`` for ``exchange``), validated by its own model.

The paradigm model forbids unknown keys, so the loader takes the keys of the file's
pattern out of the document first, validates them with the pattern's ``keys_model``
and hands the result to the pattern (``Paradigm.pattern_keys``). Keys that belong to
another pattern stay in the document and are unknown keys there, with a hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel

if TYPE_CHECKING:
    from agentrun.patterns.base import Pattern


class SplitKeys(NamedTuple):
    """The document without the pattern's keys, those keys, and the model that reads them."""

    rest: dict[str, Any]
    own: dict[str, Any]
    model: type[BaseModel] | None


def keys_model_of(pattern: object) -> type[BaseModel] | None:
    """The pydantic model of a pattern's own keys (``None`` when it owns none)."""
    model = getattr(pattern, "keys_model", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def key_names(model: type[BaseModel]) -> list[str]:
    """The keys a model reads, as written in a file (aliases where set)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def split_pattern_keys(data: dict[str, Any], patterns: Mapping[str, Pattern]) -> SplitKeys:
    """Take the keys of the file's pattern out of ``data`` (which stays unchanged)."""
    name = data.get("pattern")
    model = keys_model_of(patterns.get(name)) if isinstance(name, str) else None
    if model is None:
        return SplitKeys(data, {}, None)
    owned = set(key_names(model))
    rest = {k: v for k, v in data.items() if k not in owned}
    return SplitKeys(rest, {k: v for k, v in data.items() if k in owned}, model)


def other_pattern_hint(message: str, patterns: Mapping[str, Pattern]) -> str:
    """``message`` about an unknown top-level key, with the pattern that owns the key."""
    prefix = "unknown key '"
    if not message.startswith(prefix) or " at the top level" not in message:
        return message
    key = message[len(prefix) :].split("'", 1)[0]
    for name, pattern in patterns.items():
        model = keys_model_of(pattern)
        if model is not None and key in key_names(model):
            return f"unknown key {key!r} at the top level ({key} needs pattern: {name})"
    return message
