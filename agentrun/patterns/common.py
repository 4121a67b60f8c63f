"""What the three patterns share: their outcome, `require`, the template context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentrun.engine.context import Limit, RunContext
from agentrun.graph.compiled import TaskGraph
from agentrun.loading.spec import Require
from agentrun.results import StageResult


@dataclass(frozen=True, slots=True)
class PatternOutcome:
    """How a pattern ended, before pattern-level fallbacks."""

    passed: bool
    outputs: tuple[str, ...]
    reason: str | None = None
    winner: str | None = None
    stages: tuple[StageResult, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)
    """The template context as the pattern left it (for pattern-level fallbacks)."""


class PatternRunner(Protocol):
    """Runs one pattern to completion; cancellation propagates."""

    async def __call__(self, ctx: RunContext, outer: Limit | None) -> PatternOutcome: ...


def require_met(require: Require, passed: int, total: int) -> bool:
    """Whether ``passed`` of ``total`` agents satisfy ``require``."""
    if require == "all":
        return passed == total
    if require == "any":
        return passed >= 1
    if require == "majority":
        return passed * 2 > total
    return passed >= require


def describe_require(require: Require, passed: int, total: int) -> str:
    """A reason such as ``2 of 3 agents passed; require: all``."""
    return f"{passed} of {total} {'agent' if total == 1 else 'agents'} passed; require: {require}"


def base_context(graph: TaskGraph) -> dict[str, Any]:
    """The template context every agent starts from."""
    return {
        "input": graph.input,
        "vars": dict(graph.vars),
        "previous": [],
        "stages": {},
        "agents": {},
    }
