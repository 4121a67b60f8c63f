"""competitive: agents race; the first output that passes wins and the rest are cancelled.

Like happy eyeballs: each racer runs in one task group; the first success records
the winner and cancels every other racer. Leaving the group awaits the losers, so
their processes and requests are gone before the pattern returns.
"""

from __future__ import annotations

import asyncio

from agentrun.engine.context import Limit, RunContext
from agentrun.engine.runner import run_agent
from agentrun.events.records import WinnerChosen
from agentrun.identity import InstanceId
from agentrun.patterns.common import PatternOutcome, base_context
from agentrun.results import AgentResult


async def run_competitive(ctx: RunContext, outer: Limit | None) -> PatternOutcome:
    """Race the agents in ``run``; the pattern passes when one of them wins."""
    graph = ctx.graph
    context = base_context(graph)
    tasks: dict[str, asyncio.Task[None]] = {}
    winner: AgentResult | None = None

    async def race(name: str) -> None:
        nonlocal winner
        result = await run_agent(ctx, InstanceId.of(name), context, outer)
        if result.succeeded and winner is None:
            winner = result
            ctx.emit(WinnerChosen, instance=result.instance)
            for other, task in tasks.items():
                if other != name:
                    task.cancel()

    async with asyncio.TaskGroup() as group:
        for name in graph.run:
            tasks[name] = group.create_task(race(name))
    if winner is None:
        return PatternOutcome(
            passed=False, outputs=(), reason="no agent produced a valid output", context=context
        )
    output = winner.output or ""
    context["previous"] = [output]
    context["agents"] = {winner.name: {"output": output}}
    return PatternOutcome(passed=True, outputs=(output,), winner=winner.name, context=context)
