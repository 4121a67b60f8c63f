"""independent: every agent gets the same input at once; failures stay isolated."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from agentrun.coordination.flow import dataflow_lines
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.runner import run_agent
from agentrun.graph.compiled import AgentNode, TaskGraph
from agentrun.identity import InstanceId
from agentrun.loading.semantics import Findings, default_run_agents
from agentrun.loading.spec import Paradigm
from agentrun.patterns.base import (
    Layout,
    LayoutGroup,
    PatternOutcome,
    PatternShape,
    ReportSuite,
    TemplateScope,
)
from agentrun.patterns.common import (
    base_context,
    check_no_stages,
    check_no_winner,
    check_run_list,
    describe_require,
    one_suite,
    require_met,
)
from agentrun.patterns.selection import select_result
from agentrun.results import RunResult


class Independent:
    """Side by side: every agent of ``run`` at once; ``require`` says how many must pass."""

    name = "independent"
    group = "agents"
    """What the drawings call the agents that run."""

    def check(self, paradigm: Paradigm, findings: Findings) -> None:
        """``run`` lists each agent once, some agent runs, ``require`` fits."""
        check_no_stages(self.name, paradigm, findings)
        check_run_list(paradigm, findings)
        check_no_winner(self.name, paradigm, findings)

    def run_agents(self, paradigm: Paradigm) -> list[str]:
        """``run`` if given, else every agent that is not only a fallback or a judge."""
        return default_run_agents(paradigm)

    def template_scope(self, paradigm: Paradigm) -> TemplateScope:
        """No stages, no ``item``."""
        return TemplateScope(stages=None)

    def compile(self, paradigm: Paradigm, agents: Mapping[str, AgentNode]) -> PatternShape:
        """The agents that run side by side."""
        return PatternShape(agents=agents, run=tuple(self.run_agents(paradigm)))

    def planned(self, graph: TaskGraph) -> tuple[InstanceId, ...]:
        """One instance per agent of ``run``."""
        return tuple(InstanceId.of(name) for name in graph.run)

    def worst_case(self, graph: TaskGraph) -> float:
        """The slowest agent: they all run at once."""
        return max(graph.worst_case(name) for name in graph.run)

    def layout(self, graph: TaskGraph) -> Layout:
        """One group, ``agents (all at once)``, under the title's ``require``."""
        rule = f"require {graph.require}"
        group = self._group(graph, rule)
        return Layout(rails=(rule,), groups=(group,), notes=dataflow_lines(graph.board))

    def _group(self, graph: TaskGraph, rule: str) -> LayoutGroup:
        title = f"{self.group} (all at once)"
        return LayoutGroup("group", self.group, title, None, rule, graph.run)

    def report_suites(self, result: RunResult) -> list[ReportSuite]:
        """One suite for the agents, one for the pattern-level fallbacks."""
        return one_suite(result)

    async def run(self, ctx: RunContext, outer: Limit | None) -> PatternOutcome:
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
        kept = [r for r in results if r.succeeded and r.output is not None]
        context["previous"] = [r.output for r in kept]
        reason = None if ok else describe_require(graph.require, passed, len(results))
        outputs = tuple(context["previous"])
        sources: tuple[InstanceId | None, ...] = tuple(r.instance for r in kept)
        picked = await select_result(ctx, context, [(r.name, r) for r in results], outer)
        if picked is not None and picked.failure is not None:
            ok, reason = False, "; ".join(filter(None, (reason, picked.failure)))
        elif picked is not None and picked.output is not None:
            outputs, sources = (picked.output,), (picked.source,)
        return PatternOutcome(
            passed=ok,
            outputs=outputs,
            output_sources=sources,
            reason=reason,
            context=context,
            violation=picked.violation if picked is not None else None,
        )
