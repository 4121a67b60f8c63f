"""The ``pattern:`` field: a string naming a registered pattern.

Which names are registered is known only at load time (a caller may add
patterns), so the loader passes them in the validation context; without one,
the built-ins apply.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError


def pattern_names(patterns: Collection[str] | None = None) -> list[str]:
    """The pattern names a file may use: those given, else the built-ins."""
    if patterns is None:
        # Imported here: the patterns import the engine, which imports this package.
        from agentrun.patterns import PATTERNS

        patterns = PATTERNS
    return list(patterns)


def _registered(value: Any, info: ValidationInfo) -> Any:
    names = pattern_names((info.context or {}).get("patterns"))
    if not isinstance(value, str) or value not in names:
        # Worded as a Literal's error is, so the message about an unknown pattern
        # reads the same however many patterns are registered.
        expected = ", ".join(repr(name) for name in names)
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": expected}
        )
    return value


def _schema(schema: dict[str, Any]) -> None:
    schema["examples"] = pattern_names()


PatternName = Annotated[str, BeforeValidator(_registered), Field(json_schema_extra=_schema)]
"""A registered pattern's name (validated against the ``patterns`` validation context)."""
