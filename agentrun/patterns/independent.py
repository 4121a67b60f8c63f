"""independent: every agent gets the same input at once; failures stay isolated."""

from __future__ import annotations

import asyncio

from agentrun.engine.context import Limit, RunContext
from agentrun.engine.runner import run_agent
from agentrun.identity import InstanceId
from agentrun.patterns.common import PatternOutcome, base_context, describe_require, require_met


async def run_independent(ctx: RunContext, outer: Limit | None) -> PatternOutcome:
    """Run every agent side by side and apply ``require``.

    Isolation comes from ``run_agent`` returning a result instead of raising, so the
    task group never cancels siblings because one agent failed.
    """
    graph = ctx.graph
    context = base_context(graph)
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(run_agent(ctx, InstanceId.of(name), context, outer))
            for name in graph.run
        ]
    results = [task.result() for task in tasks]
    passed = sum(1 for r in results if r.succeeded)
    ok = require_met(graph.require, passed, len(results))
    context["agents"] = {r.name: {"output": r.output} for r in results}
    context["previous"] = [r.output for r in results if r.succeeded and r.output is not None]
    return PatternOutcome(
        passed=ok,
        outputs=tuple(context["previous"]),
        reason=None if ok else describe_require(graph.require, passed, len(results)),
        context=context,
    )
