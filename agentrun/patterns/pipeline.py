"""pipeline: stages in order, each stage's agents at once, fed the previous stage's outputs."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from agentrun.coordination.flow import dataflow_lines
from agentrun.coordination.vote import compile_selection
from agentrun.durations import format_duration
from agentrun.engine.context import Limit, RunContext
from agentrun.engine.runner import run_agent
from agentrun.errors import TemplateError
from agentrun.events.records import AgentFinished, StageFinished, StageStarted
from agentrun.graph.compiled import AgentNode, StageNode, TaskGraph
from agentrun.identity import InstanceId
from agentrun.loading.semantics import Findings, stage_names
from agentrun.loading.spec import Paradigm
from agentrun.patterns.base import (
    Layout,
    LayoutGroup,
    PatternOutcome,
    PatternShape,
    ReportSuite,
    TemplateScope,
)
from agentrun.patterns.common import base_context, describe_require, require_met
from agentrun.patterns.pipeline_rules import check_pipeline, item_agents, suite_per_stage
from agentrun.patterns.pipeline_select import pick_stage_result, record_stage
from agentrun.results import AgentResult, AgentStatus, RunResult, StageResult


class Pipeline:
    """Stages in order; each stage's agents at once, fed the previous stage's outputs."""

    def check(self, paradigm: Paradigm, findings: Findings) -> None:
        """Stages exist and are well formed; no ``run``, top-level ``require`` or ``winner``."""
        check_pipeline(paradigm, findings)

    def run_agents(self, paradigm: Paradigm) -> list[str]:
        """The agents of the stages, in order, each once."""
        names = (name for stage in paradigm.stages or () for name in stage.agents)
        return list(dict.fromkeys(names))

    def template_scope(self, paradigm: Paradigm) -> TemplateScope:
        """The stage names, and ``item`` for the agents of ``for_each`` stages."""
        return TemplateScope(stages=tuple(stage_names(paradigm)), item_agents=item_agents(paradigm))

    def compile(self, paradigm: Paradigm, agents: Mapping[str, AgentNode]) -> PatternShape:
        """One stage node per stage, named ``stageN`` by default."""
        stages = tuple(
            StageNode(
                name=name,
                agents=tuple(stage.agents),
                input=stage.input,
                require=stage.require,
                timeout=stage.timeout,
                for_each=stage.for_each,
                selection=compile_selection(paradigm, stage.select) if stage.select else None,
            )
            for name, stage in zip(stage_names(paradigm), paradigm.stages or (), strict=True)
        )
        return PatternShape(agents=agents, stages=stages)

    def planned(self, graph: TaskGraph) -> tuple[InstanceId, ...]:
        """Each stage's agents; ``agent@stage`` for an agent listed in several stages."""
        labels = planned_instances(graph.stages)
        return tuple(labels[(stage.name, name)] for stage in graph.stages for name in stage.agents)

    def worst_case(self, graph: TaskGraph) -> float:
        """The stages one after the other, each as slow as its slowest agent or its timeout."""
        total = 0.0
        for stage in graph.stages:
            longest = max(graph.worst_case(name) for name in stage.agents)
            total += min(longest, stage.timeout if stage.timeout is not None else math.inf)
        return total

    def layout(self, graph: TaskGraph) -> Layout:
        """A group per stage, with its rules."""
        groups = []
        for stage in graph.stages:
            rules = stage_text(stage)
            title = f"stage {stage.name}"
            groups.append(LayoutGroup("stage", stage.name, title, rules, rules, stage.agents))
        return Layout(rails=(), groups=tuple(groups), notes=dataflow_lines(graph.board))

    def report_suites(self, result: RunResult) -> list[ReportSuite]:
        """A suite per stage."""
        return suite_per_stage(result)

    async def run(self, ctx: RunContext, outer: Limit | None) -> PatternOutcome:
        """Run the stages in order; a failed stage stops the pipeline and skips the rest."""
        graph = ctx.graph
        context = base_context(graph)
        labels = planned_instances(graph.stages)
        stage_results: list[StageResult] = []
        failure: str | None = None
        violation: str | None = None
        for stage in graph.stages:
            if failure is None and outer is not None and ctx.now() >= outer.at:
                failure = f"{outer.label} exceeded before stage {stage.name!r}"
            if failure is not None:
                stage_results.append(_skip(ctx, stage, labels))
                continue
            result, reason, violation = await _run_stage(ctx, stage, context, labels, outer)
            stage_results.append(result)
            failure = reason
        last = stage_results[-1]
        return PatternOutcome(
            passed=failure is None,
            outputs=last.outputs if failure is None else (),
            output_sources=last.output_sources if failure is None else (),
            reason=failure,
            stages=tuple(stage_results),
            context=context,
            violation=violation,
        )


def planned_instances(stages: tuple[StageNode, ...]) -> dict[tuple[str, str], InstanceId]:
    """The instance of each (stage, agent) as planned: the agent, qualified by its stage
    (``agent@stage``) when it is listed in several."""
    seen = Counter(name for stage in stages for name in stage.agents)
    return {
        (stage.name, name): InstanceId.of(name, stage=stage.name, qualified=seen[name] > 1)
        for stage in stages
        for name in stage.agents
    }


def stage_text(stage: StageNode) -> str:
    """``require all, for_each over the previous outputs, timeout 10s``."""
    extra = [f"require {stage.require}"]
    if stage.for_each:
        extra.append("for_each over the previous outputs")
    if stage.timeout is not None:
        extra.append(f"timeout {format_duration(stage.timeout)}")
    return ", ".join(extra)


async def _run_stage(
    ctx: RunContext,
    stage: StageNode,
    context: dict[str, Any],
    labels: dict[tuple[str, str], InstanceId],
    outer: Limit | None,
) -> tuple[StageResult, str | None, str | None]:
    """Run one stage; return its result, if it failed why, and a missed vote's violation."""
    began = ctx.now()
    limit = outer
    if stage.timeout is not None:
        limit = Limit.tightest(
            outer,
            Limit(ctx.now() + stage.timeout, "stage timeout", stage.timeout),
        )
    try:
        plan = _plan(ctx, stage, context, labels)
    except TemplateError as exc:
        ctx.emit(StageFinished, stage=stage.name, status=AgentStatus.FAILED, duration_s=0.0)
        failed = StageResult(stage.name, AgentStatus.FAILED)
        return failed, f"stage {stage.name!r} input: {exc}", None
    ctx.emit(StageStarted, stage=stage.name, agents=tuple(instance for instance, _ in plan))
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(run_agent(ctx, instance, stage_context, limit))
            for instance, stage_context in plan
        ]
    results = [task.result() for task in tasks]
    picked = await pick_stage_result(ctx, stage, context, results, limit)
    kept = [r for r in results if r.succeeded and r.output is not None]
    outputs = tuple(r.output or "" for r in kept)
    passed = sum(1 for r in results if r.succeeded)
    met = bool(results) and require_met(stage.require, passed, len(results))
    ok = met and (picked is None or picked.failure is None)
    status = AgentStatus.PASSED if ok else _failed_status(limit, ctx)
    duration = ctx.now() - began
    ctx.emit(StageFinished, stage=stage.name, status=status, duration_s=duration)
    record_stage(context, stage, results, outputs, picked)
    sources = tuple(r.instance for r in kept)
    result = StageResult(stage.name, status, tuple(i for i, _ in plan), outputs, duration, sources)
    if ok:
        return result, None, None
    if not results:
        why = "had no items: the previous stage produced no output"
        return result, f"stage {stage.name!r} {why}", None
    if met and picked is not None and picked.failure is not None:
        return result, f"stage {stage.name!r} failed: {picked.failure}", picked.violation
    why = describe_require(stage.require, passed, len(results))
    return result, f"stage {stage.name!r} failed: {why}", None


def _plan(
    ctx: RunContext,
    stage: StageNode,
    context: dict[str, Any],
    labels: dict[tuple[str, str], InstanceId],
) -> list[tuple[InstanceId, dict[str, Any]]]:
    """Each instance the stage runs, with its template context (one per item of a
    ``for_each`` stage).

    Raises:
        TemplateError: the stage's ``input`` template failed to render.
    """
    items: list[Any] = list(context["previous"]) if stage.for_each else [None]
    plan: list[tuple[InstanceId, dict[str, Any]]] = []
    for index, item in enumerate(items):
        stage_context = dict(context)
        if stage.for_each:
            stage_context["item"] = item
        if stage.input is not None:
            stage_context["input"] = ctx.templates.render(stage.input, stage_context)
        for name in stage.agents:
            planned = labels[(stage.name, name)]
            if stage.for_each:
                qualified = planned != name
                planned = InstanceId.of(name, stage=stage.name, qualified=qualified, item=index)
            plan.append((planned, stage_context))
    return plan


def _failed_status(limit: Limit | None, ctx: RunContext) -> AgentStatus:
    """timeout when the stage's limit has passed, else failed."""
    if limit is not None and ctx.now() >= limit.at:
        return AgentStatus.TIMEOUT
    return AgentStatus.FAILED


def _skip(
    ctx: RunContext, stage: StageNode, labels: dict[tuple[str, str], InstanceId]
) -> StageResult:
    """Mark a stage that will not run, and each of its agents, as skipped."""
    instances = tuple(labels[(stage.name, name)] for name in stage.agents)
    for name, instance in zip(stage.agents, instances, strict=True):
        skipped = AgentResult(
            name=name,
            instance=instance,
            stage=stage.name,
            status=AgentStatus.SKIPPED,
            error="an earlier stage failed",
        )
        ctx.emit(AgentFinished, result=skipped)
    ctx.emit(StageFinished, stage=stage.name, status=AgentStatus.SKIPPED, duration_s=0.0)
    return StageResult(stage.name, AgentStatus.SKIPPED, instances)
