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
        return f"took {format_duration(inp.duration_s)}, {allowed}"

    return PredicateCheck(name, spec.severity, verdict)


MAX_LATENCY = CheckDescriptor(
    "max_latency",
    Duration,
    compile_max_latency,
    description="The attempt must take at most this long.",
)
