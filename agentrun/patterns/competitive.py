"""competitive: agents race; the first output that passes wins and the rest are cancelled.

Like happy eyeballs: each racer runs in one task group; the first success records
the winner and cancels every other racer. Leaving the group awaits the losers, so
their processes and requests are gone before the pattern returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace

from agentrun.coordination.flow import dataflow_lines
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.runner import run_agent
from agentrun.events.records import WinnerChosen
from agentrun.graph.compiled import AgentNode, TaskGraph
from agentrun.identity import InstanceId
from agentrun.loading.semantics import Findings
from agentrun.loading.spec import Paradigm
from agentrun.patterns.base import Layout, PatternOutcome, PatternShape
from agentrun.patterns.common import base_context, check_no_stages, check_run_list
from agentrun.patterns.independent import Independent
from agentrun.results import AgentResult


class Competitive(Independent):
    """A race: the agents of ``run`` start at once and the first valid output wins."""

    name = "competitive"
    group = "racers"

    def check(self, paradigm: Paradigm, findings: Findings) -> None:
        """As independent, and a ``winner:`` section is allowed."""
        check_no_stages(self.name, paradigm, findings)
        check_run_list(paradigm, findings)
        if paradigm.select is not None:
            message = "select: a competitive pattern's result is its winner; remove select"
            findings.error(("select",), message, at_key=True)

    def compile(self, paradigm: Paradigm, agents: Mapping[str, AgentNode]) -> PatternShape:
        """The racers, each also holding the checks of ``winner.imperatives``."""
        racers = tuple(self.run_agents(paradigm))
        winner_checks = tuple(paradigm.winner.imperatives) if paradigm.winner else ()
        nodes = dict(agents)
        # A winner must also pass `winner.imperatives`: giving them to every racer makes
        # a racer that breaks them retry and fall back like any violation.
        for name in racers if winner_checks else ():
            node = nodes[name]
            extra = tuple(c for c in winner_checks if c not in node.imperatives)
            nodes[name] = replace(node, imperatives=node.imperatives + extra)
        return PatternShape(agents=nodes, run=racers)

    def layout(self, graph: TaskGraph) -> Layout:
        """One group, ``racers (all at once)``; ``require`` plays no part in a race."""
        group = self._group(graph, "first valid output wins")
        return Layout(rails=(), groups=(group,), notes=dataflow_lines(graph.board))

    async def run(self, ctx: RunContext, outer: Limit | None) -> PatternOutcome:
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
        return PatternOutcome(
            passed=True,
            outputs=(output,),
            output_sources=(winner.instance,),
            winner=winner.name,
            context=context,
        )
