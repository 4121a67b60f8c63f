"""Checks on how the output was produced: ``max_latency``."""

from __future__ import annotations

from agentrun.checks.base import Check, CheckDescriptor, CheckInput, JudgeRunner
from agentrun.checks.text import PredicateCheck
from agentrun.durations import format_duration
from agentrun.graph.runtime import Imperative
from agentrun.loading.model_base import Duration


def compile_max_latency(
    name: str, spec: Imperative, *, run_judge: JudgeRunner | None = None
) -> Check:
    """``max_latency``: the attempt took at most this long."""
    limit: float = spec.argument
    allowed = f"at most {format_duration(limit)} allowed"

    def verdict(inp: CheckInput) -> str | None:
        if inp.duration_s <= limit:
            return None
        took = format_duration(inp.duration_s)
        digits = 4
        # 2.0004s over a 2s limit must not read "took 2s": add digits until it differs.
        while took == format_duration(limit) and digits <= 12:
            seconds = inp.duration_s
            took = f"{seconds:.{digits}g}s" if seconds >= 1 else f"{seconds * 1000:.{digits}g}ms"
            digits += 1
        return f"took {took}, {allowed}"

    return PredicateCheck(name, spec.severity, verdict)


MAX_LATENCY = CheckDescriptor(
    "max_latency",
    Duration,
    compile_max_latency,
    description="The attempt must take at most this long.",
)
