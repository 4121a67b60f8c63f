"""Imperative checks: the built-in check types, and compiling an imperative into a Check.

Each built-in module defines the :class:`~agentrun.checks.base.CheckDescriptor` of its
checks; a new check type is a descriptor registered in a
:class:`~agentrun.registry.Registry` (in code, or by an ``agentrun.checks`` entry point).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentrun.checks import budget, function, judge, structured, text, timing
from agentrun.checks.base import Check, CheckCompiler, CheckDescriptor, CheckInput, JudgeRunner

if TYPE_CHECKING:
    from agentrun.graph.runtime import Imperative
    from agentrun.registry import Registry

__all__ = [
    "BUILTIN_CHECKS",
    "Check",
    "CheckCompiler",
    "CheckDescriptor",
    "CheckInput",
    "JudgeRunner",
    "compile_check",
]

BUILTIN_CHECKS: tuple[CheckDescriptor, ...] = (
    text.CONTAINS,
    text.CONTAINS_ANY,
    text.NOT_CONTAINS,
    text.REGEX,
    text.NOT_REGEX,
    text.EQUALS,
    structured.JSON,
    structured.JSON_SCHEMA,
    text.MIN_LENGTH,
    text.MAX_LENGTH,
    timing.MAX_LATENCY,
    budget.MAX_TOKENS,
    budget.MAX_COST,
    function.PYTHON,
    judge.JUDGE,
)
"""The checks agentrun ships, in the order messages list them."""


def compile_check(
    name: str,
    spec: Imperative,
    *,
    run_judge: JudgeRunner | None = None,
    registry: Registry | None = None,
) -> Check:
    """Compile the imperative ``name`` into a check, once, before any output is judged.

    Args:
        name: The imperative's name; results carry it.
        spec: The validated imperative.
        run_judge: Runs a judge agent; required by ``judge`` imperatives.
        registry: Where the check type is looked up (default: the default registry).

    Returns:
        A check whose ``await check(inp)`` gives a CheckResult and never raises.

    Raises:
        KeyError: the imperative's check type is not registered.
        ValueError: a ``judge`` imperative was given no ``run_judge``.
    """
    if registry is None:
        from agentrun.registry import default_registry

        registry = default_registry()
    descriptor = registry.checks.get(spec.check)
    if descriptor is None:
        raise KeyError(f"no compiler registered for check {spec.check!r} (imperative {name!r})")
    return descriptor.compile(name, spec, run_judge=run_judge)
