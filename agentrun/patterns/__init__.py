"""Patterns by name: the built-ins, and a way to add one without editing agentrun.

Loading takes a name → pattern mapping (``PATTERNS`` unless told otherwise); the
pattern object it finds travels with the loaded paradigm into the task graph, so
compilation and the engine never look the name up again::

    patterns = register_pattern("sequential", Sequential())
    loaded = load_paradigm(path, patterns=patterns)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agentrun.patterns.base import (
    Layout,
    LayoutGroup,
    Pattern,
    PatternOutcome,
    PatternShape,
    ReportSuite,
    TemplateScope,
)
from agentrun.patterns.competitive import Competitive
from agentrun.patterns.exchange import Exchange
from agentrun.patterns.independent import Independent
from agentrun.patterns.pipeline import Pipeline

PATTERNS: Mapping[str, Pattern] = MappingProxyType(
    {
        "independent": Independent(),
        "pipeline": Pipeline(),
        "competitive": Competitive(),
        "exchange": Exchange(),
    }
)
"""The built-in patterns, in the order error messages list them."""


def register_pattern(
    name: str, pattern: Pattern, registry: Mapping[str, Pattern] = PATTERNS
) -> Mapping[str, Pattern]:
    """A new read-only registry: ``registry`` plus ``pattern`` under ``name``.

    Registries are values, never changed in place, so a run cannot see a pattern
    appear half-way and tests need no clean-up.

    Raises:
        ValueError: ``name`` is already registered.
    """
    if name in registry:
        raise ValueError(f"pattern {name!r} is already registered")
    return MappingProxyType({**registry, name: pattern})


__all__ = [
    "PATTERNS",
    "Layout",
    "LayoutGroup",
    "Pattern",
    "PatternOutcome",
    "PatternShape",
    "ReportSuite",
    "TemplateScope",
    "register_pattern",
]
