"""The three parallel patterns, by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from agentrun.patterns.common import PatternOutcome, PatternRunner
from agentrun.patterns.competitive import run_competitive
from agentrun.patterns.independent import run_independent
from agentrun.patterns.pipeline import run_pipeline

PATTERNS: Mapping[str, PatternRunner] = MappingProxyType(
    {
        "independent": run_independent,
        "pipeline": run_pipeline,
        "competitive": run_competitive,
    }
)

__all__ = ["PATTERNS", "PatternOutcome", "PatternRunner"]
